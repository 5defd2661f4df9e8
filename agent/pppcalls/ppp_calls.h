// The PPP call runner (docs/ppp.md): what runs one PPP call of a PPP
// pseudowire session once the control plane decided it starts. A call is
// the datapath's PPP channel (Datapath::OpenPppChannel), one pppd
// (ppp::PppdProcess) given the channel's descriptor, for an LNS an address
// from the session's pool, and its PppCallStatus.
//
// Threads. PppCalls has one thread of its own: it polls every pppd (epoll
// over PppdProcess::fd() and an eventfd), reads what they log, finishes the
// calls whose pppd exited, stops the pppds of ended calls (SIGTERM, then
// SIGKILL after stop_timeout) and makes every callback. Callbacks are made
// only from that thread and never under PppCalls' own lock: a receiver may
// take its own lock and call StartCall, EndCall or ForgetSession back.
// StartCall, EndCall, ForgetSession, Statuses and stats may be called from
// any thread; they block only for a pppd's start (StartCall: fork and exec),
// never for its stop (except StartCall when Stop() or an EndCall of the same
// call came from another thread while it started: it stops that pppd).
// Stop() (and the destructor) waits for that thread: never call it holding
// a lock a callback takes, nor from a callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/control/ppp_call_runner.h"
#include "agent/ppp/address_pool.h"
#include "agent/ppp/pppd_process.h"
#include "agent/pppcalls/ppp_call_stats.h"
#include "datapath/datapath.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

struct PppCallsOptions {
  Datapath* datapath = nullptr;  // opens the calls' PPP channels; outlives the PppCalls
  std::string run_dir;           // <state-dir>/ppp: the calls' directories (made 0700 if missing)
  std::string pppd_path = "/usr/sbin/pppd";
  std::string etc_dir = "/etc";  // where pppd looks for ppp/ (ppp::PppdProcessOptions)
  // How long an ended call's pppd has after SIGTERM before SIGKILL.
  std::chrono::milliseconds stop_timeout = std::chrono::seconds(3);

  // A call's pppd exited on its own (not after EndCall or Stop): the call is
  // over and cleaned up (channel closed, files removed, address released).
  // `why` in words: "pppd exited: we failed to authenticate to the peer
  // (exit 19): we failed to authenticate to the peer with CHAP: \"Access
  // denied\"". The control plane hangs the L2TP call up saying so.
  std::function<void(uint64_t call_id, const std::string& why)> on_call_ended;
  // A session's calls changed: every PppCallStatus it has now (LAC: its one
  // call, kept after it ends as DEAD until the next; LNS: one per slot, by
  // slot, a DEAD one kept until its slot's next call). For
  // Registry::SetPppCalls.
  std::function<void(const std::string& session, std::vector<l2tpagent::v1::PppCallStatus> calls)> on_status;
  // One line per phase transition and call end, e.g. "call 3 (session 1234):
  // PPP NETWORK, 10.8.1.2 <-> 10.8.0.1, user alice". Never holds a secret.
  std::function<void(const std::string& session, const std::string& text)> on_event;
};

class PppCalls : public PppCallRunner {
 public:
  // Checks the options, removes call directories a previous run left in
  // run_dir ("call-*": they may hold secrets), starts the thread.
  static absl::StatusOr<std::unique_ptr<PppCalls>> Create(PppCallsOptions options);
  ~PppCalls() override;  // Stop()
  PppCalls(const PppCalls&) = delete;
  PppCalls& operator=(const PppCalls&) = delete;

  // Opens the channel (options.datapath->OpenPppChannel(call.tunnel,
  // call.session_config)), builds pppd's options from call.ppp and the side
  // (secrets read from their files now; an LNS call takes the lowest free
  // address of its session's pool, made on the session's first call), and
  // starts pppd in the call's directory <run_dir>/call-<call_id>. Errors
  // leave nothing behind; RESOURCE_EXHAUSTED when the pool is used up (a
  // CDN "no resources"), ALREADY_EXISTS for a call id or an LNS slot in
  // use, FAILED_PRECONDITION after Stop().
  absl::Status StartCall(const PppCallStart& call) override;
  // Ends the call: its channel is closed and its pool address released
  // before this returns, its status DEAD with `why` as last_failure; its
  // pppd gets SIGTERM and is waited for (SIGKILL after stop_timeout) on
  // PppCalls' thread, which then removes its directory. No on_call_ended.
  // Unknown ids are ignored.
  void EndCall(uint64_t call_id, const std::string& why) override;
  // The session was deleted: ends its calls (as EndCall) and drops its
  // statuses and pool. No on_status for it afterwards.
  void ForgetSession(const std::string& session);
  // Ends every call, waits for every pppd to be gone, stops the thread.
  // StartCall fails afterwards. Idempotent.
  void Stop();

  // The session's statuses as on_status last gave them (or is about to).
  std::vector<l2tpagent::v1::PppCallStatus> Statuses(const std::string& session) const;
  PppCallStats stats() const;

 private:
  struct Call;
  struct Stopping;
  struct Session {
    std::optional<ppp::AddressPool> pool;  // LNS
    std::string pool_cidr, pool_local;     // what the pool was made from
    // By slot (LAC: 0): the live call's status, or the last ended one's.
    std::map<uint32_t, l2tpagent::v1::PppCallStatus> statuses;
    std::map<uint32_t, uint64_t> live;  // slot -> call id
  };
  // What the thread hands to the callbacks once the lock is released.
  struct Outbox {
    std::set<std::string> statuses;  // sessions whose statuses changed
    std::vector<std::pair<std::string, std::string>> events;
    std::vector<std::pair<uint64_t, std::string>> ended;
    bool empty() const { return statuses.empty() && events.empty() && ended.empty(); }
  };

  explicit PppCalls(PppCallsOptions options);
  absl::Status Init();

  // Under mu_.
  absl::StatusOr<std::string> AllocateLocked(const PppCallStart& call, const std::string& key);
  void ReleaseLocked(const Call& call);
  void FreeInterface(const std::string& interface);  // takes mu_
  // The call is over (removed from calls_ by the caller): status DEAD with
  // `failure`, address released, counted, the event.
  void FinishLocked(Call& call, const std::string& failure, const std::string& event);
  std::unique_ptr<Call> EndLocked(uint64_t call_id, const std::string& why);
  void Wake();

  // The thread: polls the pppds, finishes and stops calls, makes the callbacks.
  void Run();

  const PppCallsOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd
  std::thread thread_;

  mutable std::mutex mu_;
  bool stopping_ = false;                            // Stop() called: no new calls
  bool done_ = false;                                // the thread may exit once nothing is left to stop
  std::map<uint64_t, std::unique_ptr<Call>> calls_;  // live, by call id
  std::map<uint64_t, bool> starting_;                // StartCall in progress: call id -> ended meanwhile
  std::vector<std::unique_ptr<Stopping>> stopping_calls_;  // ended, pppd not gone yet (the thread's)
  std::map<std::string, Session> sessions_;
  Outbox outbox_;
  PppCallStats stats_;
};

}  // namespace l2tp
