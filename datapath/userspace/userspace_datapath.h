// L2TPv3 Ethernet pseudowires in userspace, for kernels without L2TP.
//
// Each tunnel is a UDP or raw IP (protocol 115) socket; each session a
// persistent TAP device (see tap_device.h). Tunnels are spread over at most
// one I/O thread per core; a tunnel and its sessions share one thread, which
// alone touches their state. Control calls are serialised by a mutex and run
// their changes on the owning thread (IoLoop::RunSync), so runtime changes
// never disturb other sessions.
//
// TAPs deleted behind our back: Observe() drops such sessions from its state
// (and from the observation), so the agent sees them missing and re-creates
// them, which makes a fresh TAP. Sessions whose TAP still exists after an
// agent restart are not observed either (the process state is gone), and
// CreateSession re-attaches to the persistent device.
//
// Ownership: every TAP created carries the mark of device_mark.h (its alias)
// from before it is made persistent. CreateSession attaches only to a device
// that carries this datapath's mark, and fails, leaving the device untouched,
// when the name belongs to anyone else. Observe() lists marked TAPs no
// session holds as stray_interfaces, so the agent can remove the ones left
// behind by a session deleted while it was down or by a crash.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "datapath/datapath.h"
#include "datapath/userspace/io_loop.h"

namespace l2tp::userspace {

struct LoopContext;
class TapDevice;
class SessionPath;
class TunnelPath;

class UserspaceDatapath : public Datapath {
 public:
  // io_threads 0 = one per core. `io_mode`: how the threads wait and read
  // TAPs (io_loop.h); kAuto takes io_uring where the kernel allows it.
  // `owner` goes into the ownership mark of every TAP: the same for every
  // run of one agent, different for agents sharing a network namespace.
  // `spread_tx`: with more than one thread, a session's TAP has a queue per
  // thread and what the kernel transmits is spread over them by flow
  // (transmit spreading, below).
  // `spread_rx` (with spread_tx, in io_uring mode): what a tunnel receives
  // for a spread session is written to the TAP from every thread, by flow
  // (receive spreading, below).
  static absl::StatusOr<std::unique_ptr<UserspaceDatapath>> Create(int io_threads = 0,
                                                                   IoMode io_mode = IoMode::kAuto,
                                                                   std::string owner = "default",
                                                                   bool spread_tx = true,
                                                                   bool spread_rx = true);
  ~UserspaceDatapath() override;  // stops I/O; TAPs stay (persistent)

  std::string_view Name() const override { return "userspace"; }
  // "io_uring" or "epoll": what the I/O threads use.
  std::string_view io() const;
  // Whether sessions' transmit is spread over the I/O threads.
  bool spreads_tx() const { return steering_program_ >= 0; }
  // Whether spread sessions' flows are received on every thread too.
  bool spreads_rx() const { return spread_rx_; }
  // For diagnostics and tests: what each I/O thread counted for a session,
  // the tunnel's own thread first, then each replica's (none for a session
  // that is not spread).
  absl::StatusOr<std::vector<Counters>> SessionCountersByThread(uint32_t tunnel_id, uint32_t session_id);
  std::vector<std::string> Capabilities() const override;
  absl::Status PppSupport() const override {
    return absl::FailedPreconditionError(
        "the userspace datapath carries Ethernet pseudowires only; PPP needs the kernel datapath (modules "
        "l2tp_ppp and ppp_generic)");
  }
  absl::StatusOr<Observation> Observe() override;
  absl::Status CreateTunnel(const TunnelConfig& config) override;
  absl::Status DeleteTunnel(uint32_t tunnel_id) override;
  absl::Status CreateSession(const SessionConfig& config) override;
  absl::Status ModifySession(const SessionConfig& config) override;
  absl::Status DeleteSession(uint32_t tunnel_id, uint32_t session_id) override;
  absl::Status RemoveStrayInterface(const std::string& name) override;
  // Managed tunnels: the datapath reads their sockets and hands control
  // frames to the sink from its I/O threads.
  bool ReadsManagedSockets() const override { return true; }
  void SetControlFrameSink(ControlFrameSink* sink) override { control_sink_ = sink; }

 private:
  // Transmit spreading. A session without sequence numbers (whose frames
  // need no single order) gets, on each other I/O thread, a send-only
  // replica: a SessionPath reading its own queue of the session's
  // multi-queue TAP, sending through a TunnelPath on that thread that shares
  // the tunnel's socket and never reads it. The TAP's steering program
  // (tap_steering.h) spreads flows over the queues. Counters of replicas are
  // added to the session's and tunnel's.
  //
  // Receive spreading. Everything a tunnel receives arrives on its own
  // thread (one socket, one peer address and port); for a spread session
  // without required sequence numbers, that thread hands the packets of
  // some flows to the replica on another thread, which writes them to its
  // queue of the TAP (tunnel_handoff.cc). One flow always goes to the same
  // thread, so it stays in order.
  struct Replica {
    LoopContext* ctx;
    std::unique_ptr<TunnelPath> path;  // made with the tunnel's first replicated session
  };
  struct TunnelEntry {
    LoopContext* ctx = nullptr;
    std::unique_ptr<TunnelPath> path;
    int socket_fd = -1;  // the tunnel socket's, owned by `path`: read for the underlay's MTU
    std::vector<Replica> replicas;
    std::set<uint32_t> replicated;  // sessions with a replica on every thread
    // What replicas of a session counted before they were removed (counters
    // never go back), by session.
    std::map<uint32_t, Counters> retired;
    // Sessions unspread because they send sequence numbers on their own: a
    // LAC follows its peer (Sequencer), which replicas cannot.
    std::set<uint32_t> following;
  };

  UserspaceDatapath() = default;
  absl::Status CheckSessionIds(const SessionConfig& config) const;
  void ReapDeadSessions();  // mu_ held
  // Calls `fn` for every tunnel's own sessions, on their threads: one
  // RunSync per thread, whatever the number of tunnels (mu_ held).
  void ForEachOwnSession(absl::FunctionRef<void(uint32_t, TunnelEntry&, const SessionPath&)> fn);
  bool HoldsInterface(const std::string& name) const;  // mu_ held
  // Whether `name` exists; an error when it does and is not ours (mu_ held).
  absl::StatusOr<bool> ExistsAndIsOurs(const std::string& name) const;
  absl::Status ListStrays(Observation* obs) const;  // mu_ held
  // The TAP's MTU for `config` in tunnel `t`: config.mtu, or when that is 0
  // the underlay's MTU on the tunnel socket's route less the overhead, as
  // the underlay is now.
  static uint32_t SessionMtu(const TunnelEntry& t, const SessionConfig& config);
  // The tunnel's sessions as observed, with their fit to the underlay (on
  // the tunnel's thread). A session whose mtu is 0 is observed with 0 while
  // its TAP has the right size for the underlay, else with the TAP's MTU.
  struct ReplicaCounters;
  static void ObserveSessions(const TunnelEntry& t, const ReplicaCounters& replicas, Observation* obs);
  // A LAC session that started sending sequence numbers because its peer
  // does loses its replicas (their frames would leave without numbers), and
  // gets them back once it stops; checked at every Observe (mu_ held).
  void FollowPeerSequencing();

  // Transmit spreading (userspace_datapath_replicas.cc); mu_ held.
  bool Replicable(const SessionConfig& config, const TapDevice& tap) const;
  // Replicas of a new session whose TAP is `tap` (on failure the session
  // goes unspread: logged, not an error).
  void AddSessionReplicas(TunnelEntry& t, const SessionConfig& config, const TapDevice& tap);
  // Their counters are kept in t.retired.
  void RemoveSessionReplicas(TunnelEntry& t, uint32_t session_id);
  // The session is going: its replicas, and what was kept of them.
  void ForgetSessionReplicas(TunnelEntry& t, uint32_t session_id);
  // A change the session took (sequencing, MTU): its replicas take it too.
  static void ModifySessionReplicas(TunnelEntry& t, const SessionConfig& config, uint32_t mtu);
  void StopReplicas(TunnelEntry& t);
  // Receive spreading: whether `config` may be, and turning it on or off for
  // a session (on only where it has its replicas).
  bool RxSpreadable(const SessionConfig& config) const { return spread_rx_ && !config.require_sequence; }
  static void SetRxSpread(TunnelEntry& t, uint32_t session_id, bool on);
  // What the replicas counted: the tunnel's sum, and each session's.
  struct ReplicaCounters {
    Counters tunnel;
    std::map<uint32_t, Counters> sessions;
  };
  // By tunnel id (mu_ held); one RunSync per thread.
  std::map<uint32_t, ReplicaCounters> CountReplicas() const;

  std::string owner_;
  ControlFrameSink* control_sink_ = nullptr;
  int steering_program_ = -1;  // >= 0: transmit spreading on
  bool spread_rx_ = false;     // receive spreading on

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<LoopContext>> loops_;
  std::map<uint32_t, TunnelEntry> tunnels_;
};

}  // namespace l2tp::userspace
