// One DYNAMIC tunnel: its managed socket, its control connection
// (control/connection.h) and its sessions, and what they mean for the API
// (control status) and the datapath (configs once up). Not thread-safe: the
// ControlPlane's lock guards every call.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "agent/control/control_stats.h"
#include "agent/control/control_updates.h"
#include "agent/control/ppp_call_runner.h"
#include "agent/reconcile/dynamic_tunnels.h"
#include "control/codec.h"
#include "control/connection.h"
#include "datapath/datapath.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

class DynamicTunnel : private control::ConnectionEvents {
 public:
  struct Params {
    std::string name;
    l2tpagent::v1::Tunnel tunnel;  // normalised; spec.tunnel_id may be 0
    uint32_t local_tunnel_id = 0;  // the id in use (picked when the spec says 0)
    std::string host_name;         // the spec's, else the node's
    std::string secret;            // read from spec.control.secret_file
    bool resume = false;           // a previous run's connection follows (Resume): send no SCCRQ
    bool offer_ppp = false;        // the datapath carries PPP: v3 offers PPP pseudowires too
    // A free session id up to `max` (0: none left), for a session's next
    // call; called under the control plane's lock. Unset: calls keep their id.
    std::function<uint32_t(uint32_t max)> pick_session_id;
  };

  // Opens the socket (through the datapath, which knows what kind it needs)
  // and, for an INITIATOR, sends SCCRQ. `updates` collects what the tunnel
  // says; it must outlive the tunnel.
  static absl::StatusOr<std::unique_ptr<DynamicTunnel>> Open(Params params, Datapath* datapath,
                                                             control::TimePoint now, ControlUpdates* updates);
  ~DynamicTunnel() override;

  const std::string& name() const { return params_.name; }
  uint64_t generation() const { return params_.tunnel.generation(); }
  uint32_t local_tunnel_id() const { return params_.local_tunnel_id; }
  int fd() const { return socket_.fd; }
  const control::TunnelStatus& status() const { return connection_->status(); }

  // A frame for this connection: checked, decoded and passed to it; dropped
  // and counted if not a control frame of this connection. From the
  // datapath it starts at the L2TP header (over IP: the zero session id);
  // `as_read_from_socket`, it is as the socket gave it (ManagedSocket says how).
  void Receive(control::TimePoint now, std::span<const uint8_t> frame, bool as_read_from_socket = false);
  // Reads what is waiting on the socket (at most `budget` frames).
  void ReadSocket(control::TimePoint now, int budget);
  void OnTimer(control::TimePoint now);
  std::optional<control::TimePoint> NextDeadline() const;

  // Sessions, by name, with one local session id per call slot (CallSlots);
  // the ids are in use from then on.
  void AddSession(control::TimePoint now, const l2tpagent::v1::Session& session,
                  const std::vector<uint32_t>& local_session_ids);
  void RemoveSession(control::TimePoint now, const std::string& name, const std::string& why);
  // How many calls a session takes at once: an LNS template's max_sessions,
  // else 1.
  static uint32_t CallSlots(const l2tpagent::v1::Tunnel& tunnel, const l2tpagent::v1::Session& session);

  // PPP sessions (docs/ppp.md). The calls ready for their pppd: ESTABLISHED,
  // in a tunnel the datapath holds. `epoch` tells a slot's calls apart.
  struct PppCallUp {
    uint64_t epoch = 0;
    PppCallStart start;  // call_id left 0
  };
  std::vector<PppCallUp> PppCallsUp() const;
  // Ends call `epoch` of the slot with session id `local_session_id` (a
  // later call of the slot is left alone); the next call follows.
  void HangUpCall(control::TimePoint now, uint32_t local_session_id, uint64_t epoch,
                  const control::ResultCode& result);
  // A PPP session's status message while it is up (its calls carry it; no
  // datapath session of the reconciler's): nullopt when not up or not PPP.
  std::optional<DynamicObjects::UpWithoutDatapath> PppSessionUp(const std::string& name) const;
  // Why the call that had session id `local_session_id` ended (its
  // status message then), once; "" if not known.
  std::string TakeEndedWhy(uint32_t local_session_id);
  bool HasPpp() const;
  // name -> generation of the sessions held.
  std::map<std::string, uint64_t> SessionGenerations() const;
  std::vector<uint32_t> SessionIds() const;

  // Carrying the connection across a restart (handover.h): where it
  // stands (nullopt unless ESTABLISHED with nothing unacked), and carrying
  // on from there after the sessions were added.
  std::optional<control::ConnectionSnapshot> Snapshot() const { return connection_->Snapshot(); }
  std::map<uint32_t, std::string> SessionNames() const;
  void Resume(control::TimePoint now, const control::ConnectionSnapshot& snapshot);

  // Sends StopCCN; the tunnel is Done() once the linger is over.
  void Close(control::TimePoint now, const std::string& why);
  bool Done() const;
  // Whether the two sockets have the same addresses and ports: a new
  // connection's socket takes over from a retired one's.
  bool SameSocketAs(const DynamicTunnel& other) const;

  // The datapath objects, once the connection (and the session) is up.
  std::optional<TunnelConfig> DatapathTunnel() const;
  std::optional<SessionConfig> DatapathSession(const std::string& name) const;
  // Why a session is not up (its state's message), for its status.
  std::string SessionWaiting(const std::string& name) const;

  // The datapath reads the socket from now on, or no longer does: reading
  // again, a socket the datapath set UDP GRO on gets it turned off.
  void SetDatapathReads(bool reads);
  bool datapath_reads() const { return datapath_reads_; }

  // The socket's life as a kernel tunnel's (a socket carries one, ever):
  // handed to the datapath with the connection's peer id of then; spent
  // when that tunnel is gone or was refused. NeedsNewSocket: spent, or the
  // connection has another peer id now.
  void SocketHanded();
  void SocketSpent() { socket_spent_ = socket_handed_ || socket_spent_; }
  bool NeedsNewSocket() const;
  absl::Status ReplaceSocket(Datapath* datapath);

  ControlCounters counters() const;

 private:
  // A call slot: the session itself, or one of an LNS template's calls.
  struct Session {
    l2tpagent::v1::Session resource;
    uint32_t local_id = 0;
    control::SessionStatus status;
    uint32_t slot = 0;   // an LNS template's call number (1..), else 0
    uint64_t epoch = 0;  // calls ESTABLISHED so far
    bool ppp = false;
  };

  DynamicTunnel(Params params, ManagedSocket socket, ControlUpdates* updates);

  // control::ConnectionEvents
  void Transmit(const control::ControlMessage& m) override;
  void TunnelChanged(const control::TunnelStatus& status) override;
  void SessionChanged(const control::SessionStatus& status) override;
  void Random(std::span<uint8_t> out) override;
  void CallRefused(const std::string& why) override;
  uint32_t NextCallSessionId(uint32_t current) override;

  control::LocalSession LocalSessionOf(const Session& s) const;
  bool DatapathHoldsTunnel() const;
  SessionConfig ConfigOf(const Session& s) const;
  Session* FindByLocalId(uint32_t id);

  Params params_;
  ManagedSocket socket_;
  control::Transport transport_;
  ControlUpdates* updates_;
  std::unique_ptr<control::ControlConnection> connection_;
  std::map<std::string, Session> sessions_;  // by name; an LNS template's calls as name#slot
  bool datapath_reads_ = false;
  bool socket_handed_ = false;
  bool socket_spent_ = false;
  uint32_t handed_peer_tunnel_id_ = 0;
  bool closing_ = false;
  std::optional<control::TunnelState> last_state_;
  uint64_t hello_acks_seen_ = 0;
  google::protobuf::Timestamp last_transition_;  // HELLO acks and retransmissions are not transitions
  std::mt19937_64 random_;
  // L2TPv3 with a secret: HMAC-MD5 key of control message authentication.
  std::optional<std::array<uint8_t, 16>> digest_key_;
  uint64_t auth_failures_ = 0;                 // frames whose Message Digest did not verify
  std::map<uint32_t, std::string> ended_why_;  // PPP calls ended, by their session id, until taken
  // Rate limit on SCCRQs (frames to connection id 0): a flood from a
  // spoofed source must not keep resetting a responder.
  control::TimePoint sccrq_window_start_{};
  int sccrq_in_window_ = 0;
  uint64_t malformed_frames_ = 0;  // did not decode
  uint64_t unexpected_frames_ = 0;
};

}  // namespace l2tp
