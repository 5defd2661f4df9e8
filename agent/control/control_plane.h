// The agent's control plane: runs the L2TP control protocol for every
// DYNAMIC tunnel and its sessions, and tells the reconciler (through
// DynamicTunnels) which datapath objects they call for.
//
// One thread waits on the managed sockets it reads (epoll) and on the
// connections' timers. Frames also arrive from a datapath that reads the
// sockets itself (ControlFrameSink, on its threads). One lock guards all
// connections; what they say (status, events, round trips) is published
// after the lock is released.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/control/control_stats.h"
#include "agent/control/control_updates.h"
#include "agent/control/dynamic_tunnel.h"
#include "agent/control/handover.h"
#include "agent/control/ppp_call_runner.h"
#include "agent/reconcile/dynamic_tunnels.h"
#include "agent/state/event_log.h"
#include "agent/state/registry.h"
#include "datapath/datapath.h"

namespace l2tp {

struct ControlPlaneOptions {
  std::string host_name;            // Host Name AVP when a spec has none; empty: gethostname()
  Registry* registry = nullptr;     // where control status goes
  EventLog* events = nullptr;       // where transitions are recorded
  std::function<void()> on_change;  // a tunnel or session came up or went away
  std::function<void(double)> on_hello_round_trip;  // seconds
  // Carrying connections across a restart (handover.h): the file, and how
  // old it may be. Empty path or zero age: Stop() sends StopCCN instead.
  std::string handover_path;
  std::chrono::seconds handover_max_age{30};
  // Runs the pppd of PPP calls (agent/pppcalls); must outlive the control
  // plane's Stop(). Null: PPP calls come up in L2TP but get no pppd.
  PppCallRunner* ppp_calls = nullptr;
};

class ControlPlane : public DynamicTunnels, public ControlFrameSink {
 public:
  static absl::StatusOr<std::unique_ptr<ControlPlane>> Create(Datapath* datapath,
                                                              ControlPlaneOptions options);
  ~ControlPlane() override;  // Stop()

  // Where "a tunnel or session came up or went away" goes (the reconciler
  // is built after the control plane).
  void set_on_change(std::function<void()> fn);

  // Stops the thread; hands the ESTABLISHED connections over to the next
  // run (handover_path) and sends StopCCN on the rest, or on all when there
  // is no handover. The datapath's managed tunnels die with their sockets.
  void Stop();

  // DynamicTunnels (the reconciler's thread)
  std::shared_ptr<const DynamicObjects> Sync(std::shared_ptr<const DesiredState> desired) override;
  void DatapathTunnelCreated(uint32_t tunnel_id) override;
  void DatapathTunnelDeleted(uint32_t tunnel_id) override;
  void DatapathTunnelCreateFailed(uint32_t tunnel_id) override;

  // ControlFrameSink (the datapath's threads)
  void ControlFrame(uint32_t tunnel_id, std::span<const uint8_t> frame) override;

  // Summed over every connection, those gone included.
  ControlCounters counters() const;

  // The PPP call runner's word that call `call_id` ended on its own (pppd
  // exited): its L2TP call is hung up with a CDN saying `why`. Any thread
  // but one inside the runner's StartCall or EndCall.
  void PppCallEnded(uint64_t call_id, const std::string& why);

 private:
  ControlPlane(Datapath* datapath, ControlPlaneOptions options);

  void Loop();
  void Wake();
  // Under mu_:
  struct PassIds;  // the tunnel and session ids in use, for one Sync pass
  using SessionsByTunnel = std::map<std::string, std::vector<const l2tpagent::v1::Session*>>;
  // Opens, retires and resyncs every DYNAMIC tunnel and its sessions.
  void SyncAll(control::TimePoint now, const DesiredState& desired);
  void SyncTunnel(control::TimePoint now, const l2tpagent::v1::Tunnel& tunnel,
                  const std::vector<const l2tpagent::v1::Session*>& sessions, const DesiredState& desired,
                  PassIds& ids);
  using HandedOverSessions = std::map<std::string, std::pair<uint64_t, uint32_t>>;  // see HandedOver
  void SyncSessions(control::TimePoint now, DynamicTunnel& t,
                    const std::vector<const l2tpagent::v1::Session*>& sessions, const DesiredState& desired,
                    const HandedOverSessions* resumed, PassIds& ids);
  void Retire(control::TimePoint now, std::unique_ptr<DynamicTunnel> t, const std::string& why);
  // PPP calls (the control thread only, and Stop): starts the pppd of calls
  // newly ESTABLISHED, ends those of calls over; without mu_.
  void RunPppCalls();
  void Watch(DynamicTunnel& t, bool read);
  bool RenewSpentSockets();  // whether any socket was replaced
  // Forgets a retired tunnel at once (its counters stay in retired_).
  void DropClosing(uint32_t tunnel_id);
  void RunTimers(control::TimePoint now);
  // After anything that may have moved a connection's deadline (a frame,
  // OnTimer, Sync opening, closing or changing connections).
  void Reschedule(uint32_t tunnel_id);
  void RescheduleAll();
  void Unschedule(uint32_t tunnel_id);
  std::set<uint32_t> UsedTunnelIds(const DesiredState& desired) const;
  std::set<uint32_t> UsedSessionIds(const DesiredState& desired) const;
  DynamicObjects Report(const DesiredState& desired) const;
  // Takes what was collected and publishes it (without mu_ held).
  void Publish();
  void NoteUpdatesLocked();  // whether what was collected changes the report

  Datapath* datapath_;
  ControlPlaneOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  // Held while publishing; Stop() takes it so nothing is published after.
  std::mutex publish_mu_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<DynamicTunnel>> tunnels_;  // by name: desired
  std::vector<std::unique_ptr<DynamicTunnel>> closing_;            // StopCCN sent, lingering
  std::map<uint32_t, DynamicTunnel*> by_id_;                       // every live one, by local id
  // When each live connection next needs OnTimer, by id and in time order:
  // a wake-up runs the connections due and reads those with frames waiting,
  // and touches no other.
  std::map<uint32_t, control::TimePoint> deadline_of_;
  std::set<std::pair<control::TimePoint, uint32_t>> deadlines_;
  std::map<std::string, std::string> open_failures_;  // name -> why it could not open
  std::map<std::string, HandedOver> handed_over_;     // by tunnel name, until resumed
  ControlCounters retired_;                           // of connections gone
  ControlUpdates updates_;
  // The last report, until something it says may have changed: the desired
  // state, a tunnel or session opened, closed or changing state, a socket.
  std::shared_ptr<const DynamicObjects> report_;
  bool report_stale_ = true;
  // The desired state of the last Sync, and its sessions by tunnel: only
  // Sync touches them (the reconciler's thread).
  std::shared_ptr<const DesiredState> synced_;
  SessionsByTunnel sessions_of_;
  // PPP calls whose pppd runs (or is starting), by call id; the runner's
  // calls are made by one thread at a time (RunPppCalls).
  struct RunningCall {
    uint32_t tunnel_id = 0;
    uint32_t session_id = 0;
    uint64_t epoch = 0;
  };
  std::map<uint64_t, RunningCall> calls_;
  uint64_t next_call_id_ = 1;
  bool ppp_dirty_ = false;               // a session or a datapath tunnel changed: RunPppCalls looks again
  std::set<std::string> ppp_sessions_;   // PPP sessions desired at the last Sync
  std::vector<std::string> ppp_forget_;  // PPP sessions no longer desired, for the runner
  bool ppp_capable_ = false;             // the datapath carries PPP
  std::mt19937_64 random_;
};

}  // namespace l2tp
