// One control connection and its sessions: the tunnel and session state
// machines (tunnel_fsm.h, session_fsm.h) over reliable delivery
// (reliable.h), with the messages of messages.h. Sans-I/O: the owner passes
// in decoded messages and the time, and gets back messages to send and
// status changes through ConnectionEvents. Nothing here blocks, reads a
// clock or touches a socket.
//
// A call not set up within kCallSetupTimeout of the peer's ack of our ICRQ
// (caller) or ICRP (answerer) is given up with a CDN, and the next follows.
//
// Roles: the INITIATOR sends SCCRQ, places a call (ICRQ) for each of its
// sessions once the connection is up, and opens the connection again with
// capped backoff when it fails. The RESPONDER answers an SCCRQ and accepts
// an ICRQ only for a session it has: in v3 the same Remote End ID and
// pseudowire type, in v2 any session it has not yet connected.
//
// A call that ends while the connection stays up (a CDN either way, a bad
// message, HangUp) is followed by the next: the side that places calls
// places it again with capped backoff (reset by a call that lasted), the
// other waits for the peer's next ICRQ at once.
//
// Two INITIATORs (both ends configured alike) break the tie: every SCCRQ
// carries a random Tie Breaker, and one that meets the peer's SCCRQ keeps
// going only if its value is the lower (RFC 3931 section 5.4.3). The loser
// drops its own attempt and answers the peer's SCCRQ, acting as the
// responder of that connection (the winner places the calls). An INITIATOR
// with no SCCRQ outstanding answers the peer's too. The winner drops the
// losing SCCRQ without the optional StopCCN: the loser keeps its tunnel id
// for the connection it answers, where that StopCCN would land.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/message.h"
#include "control/messages.h"
#include "control/reliable.h"
#include "control/session_fsm.h"
#include "control/time.h"
#include "control/tunnel_fsm.h"

namespace l2tp::control {

struct TunnelOptions {
  uint8_t version = kL2tpV3;
  bool initiator = true;
  uint32_t local_tunnel_id = 0;  // v2: 1..65535
  std::string host_name;
  // v2: challenge and response (RFC 2661 section 5.1.1); v3: the nonces of
  // control message authentication (the owner signs, see our_nonce()). Empty: none.
  std::string secret;
  Duration hello_interval = std::chrono::seconds(60);
  int retransmit_retries = 5;
  uint16_t receive_window = 4;
  uint32_t router_id = 0;
  std::vector<uint16_t> pseudowire_types = {kPseudowireEth};
  Duration reconnect_max = std::chrono::seconds(60);  // initiator: cap of the reconnect backoff
};

struct TunnelStatus {
  TunnelState state = TunnelState::kIdle;
  uint32_t local_tunnel_id = 0;
  uint32_t peer_tunnel_id = 0;
  std::string peer_host_name;
  std::string peer_vendor;
  std::optional<RoundTrip> hello_rtt;
  uint64_t hello_acks = 0;  // HELLOs acknowledged: a new hello_rtt sample when it grows
  uint64_t retransmissions = 0;
  std::string last_stop_reason;  // "peer stopped the tunnel: result 2 (...)", "peer silent: ..."
  std::string message;           // why the last transition happened
};

struct SessionStatus {
  uint32_t local_session_id = 0;
  SessionState state = SessionState::kIdle;
  PeerSession peer;     // learned from ICRQ/ICRP/ICCN
  std::string message;  // why the last transition happened
};

// Counters of what the connection saw (the engine adds them up per agent).
struct ConnectionStats {
  uint64_t messages_sent[21] = {};      // by message type (0: ZLB and ACK)
  uint64_t messages_received[21] = {};  // by message type
  uint64_t illegal = 0;                 // legal message, wrong moment
  uint64_t malformed = 0;               // failed CheckMessage
  uint64_t auth_failures = 0;           // bad or missing challenge response
};

// What the owner's next run needs to carry on an ESTABLISHED connection
// without the peer noticing: ids, sequence numbers, nonces, the sessions.
struct ConnectionSnapshot {
  uint32_t local_tunnel_id = 0;
  uint32_t peer_tunnel_id = 0;
  std::string peer_host_name;
  std::string peer_vendor;
  uint16_t send_next = 0;
  uint16_t receive_next = 0;
  uint16_t peer_window = 4;
  std::vector<uint8_t> our_nonce;
  std::vector<uint8_t> peer_nonce;
  struct Session {
    uint32_t local_session_id = 0;
    PeerSession peer;
  };
  std::vector<Session> sessions;  // the ESTABLISHED ones
  // We sent the SCCRQ (else answered the peer's); unset: as the configured
  // role says (a snapshot from a run before tie-breaking).
  std::optional<bool> calling;
};

class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  // Encode (with the tunnel's transport and secret) and send.
  virtual void Transmit(const ControlMessage& m) = 0;
  virtual void TunnelChanged(const TunnelStatus& status) = 0;
  virtual void SessionChanged(const SessionStatus& status) = 0;
  // Fills `out` with unpredictable bytes (challenges).
  virtual void Random(std::span<uint8_t> out) = 0;
  // The peer's call (ICRQ) matched no session of ours; a CDN saying `why`
  // went back. No session status changes, so only this tells the owner.
  virtual void CallRefused(const std::string& why) { (void)why; }
  // A call ended: the session id the session's next call goes by. A fresh
  // one keeps a peer still tearing the old call down (xl2tpd, while its
  // pppd exits) from taking the next call for a copy of the old, and the
  // kernel's old session from colliding with the new. The default keeps it.
  virtual uint32_t NextCallSessionId(uint32_t current) { return current; }
};

inline constexpr Duration kCallSetupTimeout = std::chrono::seconds(60);
// Calls placed while at most this many messages wait for the peer's window:
// the rest wait (IDLE) until acks make room, so that hundreds of calls at
// once neither overflow the send queue nor hold every ICCN and CDN behind
// their ICRQs.
inline constexpr size_t kMaxWaitingToPlaceCalls = 8;

class ControlConnection : private ChannelSink {
 public:
  ControlConnection(TunnelOptions options, ConnectionEvents* events);
  ~ControlConnection() override;

  // INITIATOR: send SCCRQ.
  void Open(TimePoint now);
  // A decoded control message for this connection (the RESPONDER's first is
  // the SCCRQ the engine routed here).
  void Receive(TimePoint now, const ControlMessage& m);
  void OnTimer(TimePoint now);
  std::optional<TimePoint> NextDeadline() const;
  // Sends StopCCN (result: general request) and lingers; sessions end.
  void Close(TimePoint now, const std::string& why);

  // A session of this tunnel. `local.session_id` must be free. The
  // INITIATOR places the call as soon as the connection is up.
  void AddSession(TimePoint now, const LocalSession& local);
  // Sends CDN if the session is up, and forgets it.
  void RemoveSession(TimePoint now, uint32_t local_session_id, const std::string& why);
  // Ends the session's current call with a CDN carrying `result` (what
  // carried it failed: pppd exited, say) and keeps the session for the next
  // call. Nothing happens unless a call is placed or up.
  void HangUp(TimePoint now, uint32_t local_session_id, const ResultCode& result);

  const TunnelOptions& options() const { return options_; }
  const TunnelStatus& status() const { return status_; }
  // Whether this end sent the current connection's SCCRQ (and places the
  // calls). An INITIATOR's is false after it answered the peer's SCCRQ.
  bool calling() const { return calling_; }
  std::vector<SessionStatus> sessions() const;
  const ConnectionStats& stats() const { return stats_; }
  // v3 with a secret: the nonces of this connection (RFC 3931 section 5.4.1),
  // for the owner to sign and check messages with (auth.h,
  // EncodeAuthenticated / VerifyAuthenticated). Empty otherwise, and until
  // chosen or learned.
  const std::vector<uint8_t>& our_nonce() const { return our_nonce_; }
  const std::vector<uint8_t>& peer_nonce() const { return peer_nonce_; }
  // The connection as it stands, when it is ESTABLISHED and nothing is
  // waiting for an ack (else nullopt: it cannot be carried over safely).
  std::optional<ConnectionSnapshot> Snapshot() const;
  // Carries on a connection a previous run snapshotted: ESTABLISHED at
  // once, with the sessions of the snapshot that were added (AddSession)
  // before; a HELLO goes out to confirm the peer still has it. Only on a
  // connection that was neither opened nor received anything.
  void Resume(TimePoint now, const ConnectionSnapshot& snapshot);

  // Retransmission and ack counters of the current reliable channel.
  ReliableStats reliable_stats() const;

 private:
  struct Session {
    LocalSession local;
    SessionStatus status;
    // The caller's next call after one ended, and its backoff.
    std::optional<TimePoint> next_call_at;
    Duration next_call_delay{std::chrono::seconds(1)};
    TimePoint established_at{};
    // WAIT_REPLY or WAIT_CONNECT, once the peer acked our ICRQ or ICRP:
    // when the call is given up if the peer has not answered it.
    std::optional<TimePoint> setup_deadline;
  };

  // ChannelSink
  void Transmit(const ControlMessage& m) override;
  void Deliver(const ControlMessage& m) override;
  void Acknowledged(const ControlMessage& m, RoundTrip rtt) override;
  void Failed(const std::string& why) override;

  void StartChannel();
  bool Send(ControlMessage m);  // false: refused (the queue is full, or the channel failed)
  void TunnelStep(TunnelEvent event, const std::string& why, const ControlMessage* m = nullptr);
  void Refuse(const ControlMessage& m, uint16_t result, std::optional<uint16_t> error,
              const std::string& why);
  void SessionStep(Session& s, SessionEvent event, const std::string& why, const ControlMessage* m = nullptr);
  void HandleTunnelMessage(MessageType type, const ControlMessage& m);
  bool AnswerPeerSccrq(const ControlMessage& sccrq);
  void StartAnswering(const std::string& why);
  void HandleSessionMessage(MessageType type, const ControlMessage& m);
  void LearnPeer(const ControlMessage& m);
  std::optional<std::string> CheckChallengeResponse(const ControlMessage& m, uint8_t responding_type);
  std::optional<ChallengeResponseBytes> ResponseTo(const ControlMessage& m, uint8_t responding_type) const;
  LocalTunnel Local() const;
  Session* FindSession(uint32_t local_session_id);
  Session* MatchIncoming(const PeerSession& peer);
  int MatchingBusy(const PeerSession& peer) const;  // sessions that would match, none idle
  void OpenSessions();
  void EndSessions(SessionEvent event, const std::string& why);
  void CallEnded(Session& s);  // a call is over, the connection is up: toward the next
  void Renumber(Session& s);   // NextCallSessionId
  void PlaceDueCalls();
  void ExpireCallSetups();
  void Established();
  void ChooseNonces(const ControlMessage* from_peer);
  void GoneDown();

  TunnelOptions options_;
  ConnectionEvents* events_;
  std::unique_ptr<ReliableChannel> channel_;
  TunnelStatus status_;
  ConnectionStats stats_;
  std::map<uint32_t, Session> sessions_;  // by local session id
  uint32_t next_call_serial_ = 1;
  std::vector<uint8_t> our_challenge_;
  std::vector<uint8_t> our_nonce_;
  std::vector<uint8_t> peer_nonce_;
  std::vector<uint8_t> tie_breaker_;  // of our outstanding SCCRQ
  bool calling_;                      // see calling()
  TimePoint now_{};
  TimePoint last_activity_{};
  TimePoint established_at_{};
  std::optional<TimePoint> linger_until_;
  std::optional<TimePoint> reconnect_at_;
  Duration reconnect_delay_{std::chrono::seconds(1)};
  uint64_t retransmissions_before_ = 0;    // of channels already replaced
  std::optional<ResultCode> stop_result_;  // what the next StopCCN says, when refusing
  std::optional<ResultCode> cdn_result_;   // what the next local CDN says (HangUp)
  bool fresh_channel_ = false;             // responder: a new SCCRQ gets a new channel
  bool calls_to_place_ = false;            // an IDLE session may wait to be placed (OpenSessions)
};

}  // namespace l2tp::control
