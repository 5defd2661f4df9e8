// A received message goes: Receive -> the reliable channel (acks, order,
// duplicates) -> Deliver -> CheckMessage -> the tunnel or a session table
// step -> the action (send, establish, linger, go down) -> status events.
// Timers: the channel's retransmissions and acks, HELLO after an idle
// hello_interval, the closing linger, and the initiator's reconnect.
#include "control/connection.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "control/auth.h"

namespace l2tp::control {
namespace {

constexpr size_t kChallengeBytes = 16;
constexpr size_t kNonceBytes = 16;  // RFC 3931 section 5.4.1: at least 16
constexpr Duration kLateSccrq = std::chrono::seconds(5);

size_t TypeIndex(const ControlMessage& m) {
  const uint16_t t = m.Type().value_or(0);
  return t == static_cast<uint16_t>(MessageType::kAck) || t > 20 ? 0 : t;
}

bool IsSessionMessage(MessageType t) {
  switch (t) {
    case MessageType::kIcrq:
    case MessageType::kIcrp:
    case MessageType::kIccn:
    case MessageType::kCdn:
    case MessageType::kWen:
    case MessageType::kSli:
    case MessageType::kOcrq:
    case MessageType::kOcrp:
    case MessageType::kOccn: return true;
    default: return false;
  }
}

ResultCode Result(uint16_t result, std::optional<uint16_t> error, std::string message) {
  return ResultCode{result, error, std::move(message)};
}

}  // namespace

ControlConnection::ControlConnection(TunnelOptions options, ConnectionEvents* events)
    : options_(std::move(options)), events_(events), calling_(options_.initiator) {
  status_.local_tunnel_id = options_.local_tunnel_id;
  StartChannel();
}

ControlConnection::~ControlConnection() = default;

void ControlConnection::StartChannel() {
  if (channel_) retransmissions_before_ += channel_->stats().retransmitted;
  ReliableChannel::Options o;
  o.version = options_.version;
  o.receive_window = options_.receive_window;
  o.max_retries = options_.retransmit_retries;
  o.ack_hello_at_once = true;
  channel_ = std::make_unique<ReliableChannel>(o, static_cast<ChannelSink*>(this));
}

// --- Local requests ---------------------------------------------------------

void ControlConnection::Open(TimePoint now) {
  now_ = now;
  reconnect_at_.reset();
  calling_ = true;
  tie_breaker_.assign(kTieBreakerBytes, 0);  // a new one per attempt, as the RFC asks after a draw
  events_->Random(tie_breaker_);
  if (!options_.secret.empty() && options_.version == kL2tpV2) {
    our_challenge_.assign(kChallengeBytes, 0);
    events_->Random(our_challenge_);
  }
  ChooseNonces(nullptr);
  TunnelStep(TunnelEvent::kOpen, "opening");
}

void ControlConnection::Close(TimePoint now, const std::string& why) {
  now_ = now;
  reconnect_at_.reset();
  TunnelStep(TunnelEvent::kClose, why);
}

void ControlConnection::AddSession(TimePoint now, const LocalSession& local) {
  now_ = now;
  Session& s = sessions_[local.session_id];
  s.local = local;
  s.local.call_serial = next_call_serial_++;
  s.status.local_session_id = local.session_id;
  s.status.state = SessionState::kIdle;
  calls_to_place_ = true;
  s.status.message = calling_ ? "waiting for the control connection" : "waiting for the peer's call";
  events_->SessionChanged(s.status);
  OpenSessions();  // as the send queue allows
}

void ControlConnection::RemoveSession(TimePoint now, uint32_t local_session_id, const std::string& why) {
  now_ = now;
  Session* s = FindSession(local_session_id);
  if (s == nullptr) return;
  SessionStep(*s, SessionEvent::kClose, why);
  sessions_.erase(local_session_id);
}

void ControlConnection::HangUp(TimePoint now, uint32_t local_session_id, const ResultCode& result) {
  now_ = now;
  Session* s = FindSession(local_session_id);
  if (s == nullptr || s->status.state == SessionState::kIdle || s->status.state == SessionState::kDown)
    return;
  cdn_result_ = result;
  SessionStep(*s, SessionEvent::kClose, absl::StrCat("we ended the call: ", result.message));
  cdn_result_.reset();
  CallEnded(*s);
}

// --- Time -------------------------------------------------------------------

void ControlConnection::OnTimer(TimePoint now) {
  now_ = now;
  channel_->OnTimer(now);
  // Retransmissions show while they happen, not only at the next transition.
  if (const uint64_t r = retransmissions_before_ + channel_->stats().retransmitted;
      r != status_.retransmissions) {
    status_.retransmissions = r;
    events_->TunnelChanged(status_);
  }
  if (linger_until_ && now >= *linger_until_) {
    linger_until_.reset();
    TunnelStep(TunnelEvent::kLingerOver, status_.message);
  }
  ExpireCallSetups();
  PlaceDueCalls();
  if (status_.state == TunnelState::kEstablished && now - last_activity_ >= options_.hello_interval) {
    Send(BuildHello());
  }
  if (reconnect_at_ && now >= *reconnect_at_) {
    status_.state = TunnelState::kIdle;
    StartChannel();
    Open(now);
  }
}

std::optional<TimePoint> ControlConnection::NextDeadline() const {
  std::optional<TimePoint> next = channel_->NextDeadline();
  auto consider = [&next](std::optional<TimePoint> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(linger_until_);
  consider(reconnect_at_);
  for (const auto& [id, session] : sessions_) {
    consider(session.next_call_at);
    consider(session.setup_deadline);
  }
  if (status_.state == TunnelState::kEstablished) consider(last_activity_ + options_.hello_interval);
  return next;
}

// --- Received messages --------------------------------------------------------

void ControlConnection::Receive(TimePoint now, const ControlMessage& m) {
  now_ = now;
  last_activity_ = now;
  const bool sccrq = m.Type() == static_cast<uint16_t>(MessageType::kSccrq);
  if (sccrq && calling_ && !AnswerPeerSccrq(m)) return;
  if (sccrq) {
    // A new attempt: after DOWN, or from a peer that restarted while we
    // still think the old connection is up. Or a copy of the SCCRQ we
    // answered: a retransmission (WAIT_CONNECT), or one the network
    // duplicated or delayed past our ESTABLISHED, which must not tear the
    // connection down: one within kLateSccrq of ESTABLISHED is taken for a
    // copy. A peer that restarts that soon with the same id is heard once
    // its retries run out.
    const uint32_t assigned = options_.version == kL2tpV2
                                  ? U16(m, AvpType::kAssignedTunnelId).value_or(0)
                                  : U32(m, AvpType::kAssignedControlConnectionId).value_or(0);
    const bool live = status_.state != TunnelState::kIdle && status_.state != TunnelState::kDown;
    const bool same_peer = assigned == status_.peer_tunnel_id;
    const bool retransmitted = same_peer && (status_.state == TunnelState::kWaitConnect ||
                                             (status_.state == TunnelState::kEstablished &&
                                              now - established_at_ < kLateSccrq));
    if (live && !retransmitted) {
      status_.last_stop_reason = "the peer started a new control connection";
      status_.state = TunnelState::kDown;
      status_.message = status_.last_stop_reason;
      GoneDown();
      reconnect_at_.reset();  // answering this one instead
    }
    if (fresh_channel_) {
      fresh_channel_ = false;
      StartChannel();
    }
  }
  channel_->Receive(now, m);
}

// The peer's SCCRQ while we call (see the header): whether to answer it.
// Not answered, it is dropped before the channel (no ack): the peer gives
// that attempt up when our SCCRQ wins, or its retries run out.
bool ControlConnection::AnswerPeerSccrq(const ControlMessage& sccrq) {
  switch (status_.state) {
    case TunnelState::kIdle:
    case TunnelState::kDown:  // nothing outstanding: before Open, or waiting to reconnect
      StartAnswering("answering the peer's SCCRQ");
      return true;
    case TunnelState::kWaitReply:
      switch (BreakTie(tie_breaker_, sccrq)) {
        case TieBreak::kOursStands: return false;
        case TieBreak::kTheirsWins: StartAnswering("tie lost: answering the peer's SCCRQ"); return true;
        case TieBreak::kBothLose:
          status_.state = TunnelState::kDown;
          status_.message = "tie with the peer's SCCRQ (equal tie breakers): starting again";
          GoneDown();
          StartChannel();  // our SCCRQ is not sent again: the next attempt draws a new tie breaker
          events_->TunnelChanged(status_);
          return false;
      }
      return false;
    case TunnelState::kEstablished: {
      // A copy of the SCCRQ that lost the tie, or the peer started over.
      const uint32_t assigned = options_.version == kL2tpV2
                                    ? U16(sccrq, AvpType::kAssignedTunnelId).value_or(0)
                                    : U32(sccrq, AvpType::kAssignedControlConnectionId).value_or(0);
      if (assigned == status_.peer_tunnel_id) return false;
      status_.last_stop_reason = "the peer started a new control connection";
      status_.state = TunnelState::kDown;
      status_.message = status_.last_stop_reason;
      GoneDown();
      events_->TunnelChanged(status_);
      StartAnswering("answering the peer's new SCCRQ");
      return true;
    }
    default: return false;  // closing: the peer's retransmission finds us down
  }
}

// Drops our own attempt: a fresh channel (nothing of ours is retransmitted),
// and the SCCRQ goes through the responder's path from IDLE.
void ControlConnection::StartAnswering(const std::string& why) {
  calling_ = false;
  reconnect_at_.reset();
  tie_breaker_.clear();
  StartChannel();
  fresh_channel_ = false;
  status_.state = TunnelState::kIdle;
  status_.message = why;
  events_->TunnelChanged(status_);
}

void ControlConnection::Deliver(const ControlMessage& m) {
  ++stats_.messages_received[TypeIndex(m)];
  const std::optional<uint16_t> type = m.Type();
  if (!type) return;
  const auto t = static_cast<MessageType>(*type);
  if (IsSessionMessage(t)) {
    HandleSessionMessage(t, m);
  } else {
    HandleTunnelMessage(t, m);
  }
}

void ControlConnection::HandleTunnelMessage(MessageType type, const ControlMessage& m) {
  if (absl::Status st = CheckMessage(options_.version, m); !st.ok()) {
    ++stats_.malformed;
    Refuse(m, kStopGeneralError, ErrorCodeOf(st), std::string(st.message()));
    return;
  }
  if (type == MessageType::kHello || type == MessageType::kAck) return;  // the channel acks it
  switch (type) {
    case MessageType::kSccrq:
      LearnPeer(m);
      if (m.Find(AvpType::kChallenge) != nullptr && options_.secret.empty()) {
        ++stats_.auth_failures;
        Refuse(m, kStopNotAuthorized, std::nullopt, "the peer sent a challenge and no secret is configured");
        return;
      }
      if (!options_.secret.empty() && options_.version == kL2tpV2) {
        our_challenge_.assign(kChallengeBytes, 0);
        events_->Random(our_challenge_);
      }
      ChooseNonces(&m);
      TunnelStep(TunnelEvent::kSccrq, "SCCRQ received", &m);
      return;
    case MessageType::kSccrp:
      LearnPeer(m);
      if (auto bad = CheckChallengeResponse(m, 2)) {
        ++stats_.auth_failures;
        Refuse(m, kStopNotAuthorized, std::nullopt, *bad);
        return;
      }
      if (m.Find(AvpType::kChallenge) != nullptr && options_.secret.empty()) {
        ++stats_.auth_failures;
        Refuse(m, kStopNotAuthorized, std::nullopt, "the peer sent a challenge and no secret is configured");
        return;
      }
      ChooseNonces(&m);
      TunnelStep(TunnelEvent::kSccrp, "SCCRP received", &m);
      return;
    case MessageType::kScccn:
      if (auto bad = CheckChallengeResponse(m, 3)) {
        ++stats_.auth_failures;
        Refuse(m, kStopNotAuthorized, std::nullopt, *bad);
        return;
      }
      TunnelStep(TunnelEvent::kScccn, "SCCCN received", &m);
      return;
    case MessageType::kStopccn: {
      const std::optional<ResultCode> rc = ReadResultCode(m);
      status_.last_stop_reason = absl::StrCat("peer stopped the tunnel: ",
                                              rc ? DescribeResultCode(MessageType::kStopccn, *rc)
                                                 : "no result code");
      if (status_.peer_tunnel_id == 0) {
        // A refusal of our SCCRQ: the peer's id comes only with it, and the
        // ack must reach that id, or the peer sends the StopCCN again.
        const uint32_t assigned = options_.version == kL2tpV2
                                      ? U16(m, AvpType::kAssignedTunnelId).value_or(0)
                                      : U32(m, AvpType::kAssignedControlConnectionId).value_or(0);
        if (assigned != 0) channel_->set_peer_tunnel_id(assigned);
      }
      TunnelStep(TunnelEvent::kStopccn, status_.last_stop_reason, &m);
      return;
    }
    default: ++stats_.illegal; return;
  }
}

void ControlConnection::HandleSessionMessage(MessageType type, const ControlMessage& m) {
  if (status_.state != TunnelState::kEstablished) {
    ++stats_.illegal;
    return;
  }
  if (type == MessageType::kWen || type == MessageType::kSli) return;  // accepted; nothing to do
  const uint32_t ours = OurSessionId(options_.version, m);
  const PeerSession peer = ReadPeerSession(options_.version, m);
  if (absl::Status st = CheckMessage(options_.version, m); !st.ok()) {
    ++stats_.malformed;
    if (Session* s = FindSession(ours)) {
      SessionStep(*s, SessionEvent::kBadMessage, std::string(st.message()), &m);
      CallEnded(*s);
    } else if (type == MessageType::kIcrq && peer.session_id != 0) {
      Send(BuildCdn(options_.version, 0, peer.session_id,
                    Result(kCdnGeneralError, kErrorOutOfRange, std::string(st.message()))));
    }
    return;
  }
  if (type == MessageType::kIcrq) {
    Session* s = MatchIncoming(peer);
    if (s == nullptr) {
      // Sessions for this call, all busy (an LNS at max_sessions): a
      // temporary lack of resources, worth calling again later.
      const int busy = MatchingBusy(peer);
      const std::string why = busy > 0 ? absl::StrCat("no free call slot: all ", busy, " in use")
                              : options_.version == kL2tpV3
                                  ? absl::StrCat("no session with remote end id \"", peer.remote_end_id,
                                                 "\" and pseudowire type ", peer.pseudowire_type)
                                  : "no session waiting for a call";
      const ResultCode rc = busy > 0 ? Result(kCdnNoResources, std::nullopt, why)
                                     : Result(kCdnGeneralError, kErrorGeneric, why);
      Send(BuildCdn(options_.version, 0, peer.session_id, rc));
      events_->CallRefused(why);
      return;
    }
    SessionStep(*s, SessionEvent::kIcrq, "ICRQ received", &m);
    return;
  }
  Session* s = FindSession(ours);
  if (s == nullptr) {
    ++stats_.illegal;
    return;
  }
  switch (type) {
    case MessageType::kIcrp: SessionStep(*s, SessionEvent::kIcrp, "ICRP received", &m); return;
    case MessageType::kIccn: SessionStep(*s, SessionEvent::kIccn, "ICCN received", &m); return;
    case MessageType::kCdn: {
      const std::optional<ResultCode> rc = ReadResultCode(m);
      const bool live = s->status.state != SessionState::kDown && s->status.state != SessionState::kIdle;
      SessionStep(*s, SessionEvent::kCdn,
                  absl::StrCat("peer ended the session: ",
                               rc ? DescribeResultCode(MessageType::kCdn, *rc) : "no result code"),
                  &m);
      if (live) CallEnded(*s);
      return;
    }
    default: ++stats_.illegal; return;
  }
}

void ControlConnection::LearnPeer(const ControlMessage& m) {
  if (options_.version == kL2tpV2) {
    status_.peer_tunnel_id = U16(m, AvpType::kAssignedTunnelId).value_or(0);
  } else {
    status_.peer_tunnel_id = U32(m, AvpType::kAssignedControlConnectionId).value_or(0);
  }
  status_.peer_host_name = Text(m, AvpType::kHostName).value_or("");
  status_.peer_vendor = Text(m, AvpType::kVendorName).value_or("");
  channel_->set_peer_tunnel_id(status_.peer_tunnel_id);
  // RFC 2661 section 5.8: without a Receive Window Size AVP the window is 4.
  const uint16_t window = U16(m, AvpType::kReceiveWindowSize).value_or(4);
  channel_->set_peer_window(window == 0 ? 4 : window);
}

// The response the message's challenge asks of `responding_type` (2 in
// SCCRP, 3 in SCCCN); nullopt when it has no challenge or we have no secret.
std::optional<ChallengeResponseBytes> ControlConnection::ResponseTo(const ControlMessage& m,
                                                                    uint8_t responding_type) const {
  const Avp* challenge = m.Find(AvpType::kChallenge);
  if (challenge == nullptr || options_.secret.empty()) return std::nullopt;
  return ChallengeResponse(responding_type, options_.secret, challenge->value);
}

std::optional<std::string> ControlConnection::CheckChallengeResponse(const ControlMessage& m,
                                                                     uint8_t responding_type) {
  if (our_challenge_.empty()) return std::nullopt;
  const Avp* response = m.Find(AvpType::kChallengeResponse);
  if (response == nullptr) {
    return absl::StrCat(MessageTypeName(responding_type),
                        " has no challenge response and a secret is configured");
  }
  const ChallengeResponseBytes want = ChallengeResponse(responding_type, options_.secret, our_challenge_);
  if (!std::equal(want.begin(), want.end(), response->value.begin(), response->value.end())) {
    return absl::StrCat(MessageTypeName(responding_type),
                        ": wrong challenge response (the secrets of the two ends differ)");
  }
  return std::nullopt;
}

// A tunnel message we refuse: the StopCCN says why, with these codes.
void ControlConnection::Refuse(const ControlMessage& m, uint16_t result, std::optional<uint16_t> error,
                               const std::string& why) {
  stop_result_ = Result(result, error, why);
  status_.last_stop_reason = absl::StrCat("we stopped the tunnel: ", why);
  TunnelStep(TunnelEvent::kBadMessage, why, &m);
  stop_result_.reset();
}

// --- Table steps ---------------------------------------------------------------

void ControlConnection::TunnelStep(TunnelEvent event, const std::string& why, const ControlMessage* m) {
  const std::optional<TunnelTransition> step = NextTunnelStep(status_.state, event);
  if (!step) {
    ++stats_.illegal;
    return;
  }
  const TunnelState before = status_.state;
  status_.state = step->next;
  status_.message = why;
  switch (step->action) {
    case TunnelAction::kNone: break;
    case TunnelAction::kSendSccrq: Send(BuildSccrq(Local())); break;
    case TunnelAction::kSendSccrp: Send(BuildSccrp(Local(), ResponseTo(*m, 2))); break;
    case TunnelAction::kSendScccn:
      Send(BuildScccn(ResponseTo(*m, 3)));
      Established();
      break;
    case TunnelAction::kEstablish: Established(); break;
    case TunnelAction::kSendStopccn: {
      const ResultCode result = stop_result_.value_or(Result(kStopGeneralRequest, std::nullopt, why));
      stop_result_.reset();
      Send(BuildStopccn(options_.version, options_.local_tunnel_id, result));
      EndSessions(SessionEvent::kTunnelDown, why);
      linger_until_ = now_ + channel_->FullRetransmitCycle();
      break;
    }
    case TunnelAction::kLinger:
      EndSessions(SessionEvent::kTunnelDown, why);
      linger_until_ = now_ + channel_->FullRetransmitCycle();
      break;
    case TunnelAction::kGoDown: GoneDown(); break;
  }
  if (status_.state != before || step->action != TunnelAction::kNone) {
    status_.retransmissions = retransmissions_before_ + channel_->stats().retransmitted;
    events_->TunnelChanged(status_);
  }
}

void ControlConnection::SessionStep(Session& s, SessionEvent event, const std::string& why,
                                    const ControlMessage* m) {
  const std::optional<SessionTransition> step = NextSessionStep(s.status.state, event);
  if (!step) {
    ++stats_.illegal;
    return;
  }
  if (step->next == SessionState::kEstablished && s.status.state != SessionState::kEstablished) {
    s.established_at = now_;
  }
  // The set-up clock starts when the peer acknowledges our ICRQ or ICRP
  // (Acknowledged): until then the message may wait in our send window.
  if (step->next != s.status.state) s.setup_deadline.reset();
  s.status.state = step->next;
  if (s.status.state == SessionState::kIdle) calls_to_place_ = true;
  s.status.message = why;
  const uint8_t v = options_.version;
  if (m != nullptr && (event == SessionEvent::kIcrq || event == SessionEvent::kIcrp)) {
    s.status.peer = ReadPeerSession(v, *m);
  }
  switch (step->action) {
    case SessionAction::kNone: break;
    case SessionAction::kSendIcrq:
      if (!Send(BuildIcrq(v, s.local))) {  // placed again once acks make room (OpenSessions)
        s.status.state = SessionState::kIdle;
        calls_to_place_ = true;
        s.status.message = "waiting to place the call: the send queue is full";
      }
      break;
    case SessionAction::kSendIcrp: Send(BuildIcrp(v, s.local, s.status.peer.session_id)); break;
    case SessionAction::kSendIccn:
      Send(BuildIccn(v, s.local, s.status.peer.session_id));
      s.status.message = "established";
      break;
    case SessionAction::kEstablish:
      if (m != nullptr && v == kL2tpV3) {  // ICCN may restate the data-plane AVPs
        const PeerSession iccn = ReadPeerSession(v, *m);
        if (iccn.l2_sublayer) s.status.peer.l2_sublayer = iccn.l2_sublayer;
        if (iccn.data_sequencing) s.status.peer.data_sequencing = iccn.data_sequencing;
      }
      s.status.message = "established";
      break;
    case SessionAction::kSendCdn: {
      const bool error = event == SessionEvent::kBadMessage;
      const ResultCode rc = cdn_result_ ? *cdn_result_
                            : error     ? Result(kCdnGeneralError, kErrorOutOfRange, why)
                                        : Result(kCdnAdminDisconnect, std::nullopt, why);
      Send(BuildCdn(v, s.local.session_id, s.status.peer.session_id, rc));
      break;
    }
    case SessionAction::kGoDown: break;
  }
  events_->SessionChanged(s.status);
}

// --- Transitions' side effects ---------------------------------------------------

void ControlConnection::Established() {
  established_at_ = now_;
  reconnect_delay_ = std::chrono::seconds(1);
  status_.last_stop_reason.clear();
  status_.message = "established";
  last_activity_ = now_;
  calls_to_place_ = true;
  if (calling_) OpenSessions();
}

// Called on every ack: walks the sessions only while some may wait to be
// placed, so a tunnel with all its calls up pays nothing per ack.
void ControlConnection::OpenSessions() {
  if (status_.state != TunnelState::kEstablished || !calling_ || !calls_to_place_) return;
  calls_to_place_ = false;  // set again below by a call the full queue refuses
  for (auto& [id, s] : sessions_) {
    if (channel_->waiting() >= kMaxWaitingToPlaceCalls) {
      calls_to_place_ = true;  // the next ack makes room
      return;
    }
    if (s.status.state == SessionState::kIdle && !s.next_call_at) {
      SessionStep(s, SessionEvent::kOpen, "placing the call");
    }
  }
}

void ControlConnection::EndSessions(SessionEvent event, const std::string& why) {
  for (auto& [id, s] : sessions_) {
    if (s.status.state == SessionState::kDown || s.status.state == SessionState::kIdle) continue;
    SessionStep(s, event, absl::StrCat("control connection down: ", why));
  }
}

// A call that lasted this long was a success: the next starts the backoff over.
constexpr Duration kLastingCall = std::chrono::seconds(60);

void ControlConnection::CallEnded(Session& s) {
  if (s.status.state != SessionState::kDown || status_.state != TunnelState::kEstablished) return;
  if (!calling_) {
    Renumber(s);
    s.status.peer = PeerSession{};
    SessionStep(s, SessionEvent::kNextCall, absl::StrCat(s.status.message, "; waiting for the next call"));
    return;
  }
  if (s.established_at != TimePoint{} && now_ - s.established_at >= kLastingCall) {
    s.next_call_delay = std::chrono::seconds(1);
  }
  s.next_call_at = now_ + s.next_call_delay;
  s.next_call_delay = std::min(s.next_call_delay * 2, options_.reconnect_max);
}

void ControlConnection::PlaceDueCalls() {
  if (status_.state != TunnelState::kEstablished || !calling_) return;
  std::vector<Session*> due;  // renumbering moves them in sessions_
  for (auto& [id, s] : sessions_) {
    if (s.next_call_at && now_ >= *s.next_call_at) due.push_back(&s);
  }
  for (Session* s : due) {
    s->next_call_at.reset();
    s->established_at = TimePoint{};
    s->status.peer = PeerSession{};
    s->local.call_serial = next_call_serial_++;
    Renumber(*s);
    SessionStep(*s, SessionEvent::kNextCall, "calling again");
  }
  if (!due.empty()) OpenSessions();  // as the send queue allows
}

void ControlConnection::ExpireCallSetups() {
  std::vector<Session*> expired;  // CallEnded may renumber them
  for (auto& [id, s] : sessions_) {
    if (s.setup_deadline && now_ >= *s.setup_deadline) expired.push_back(&s);
  }
  for (Session* s : expired) {
    const bool caller = s->status.state == SessionState::kWaitReply;
    const std::string why = absl::StrCat("no ", caller ? "ICRP" : "ICCN", " from the peer within ",
                                         kCallSetupTimeout.count() / 1000, " s of its ack of our ",
                                         caller ? "ICRQ" : "ICRP");
    cdn_result_ = ResultCode{kCdnGeneralError, kErrorGeneric, why};
    SessionStep(*s, SessionEvent::kClose, why);
    cdn_result_.reset();
    CallEnded(*s);
  }
}

void ControlConnection::Renumber(Session& s) {
  const uint32_t old_id = s.local.session_id;
  const uint32_t new_id = events_->NextCallSessionId(old_id);
  if (new_id == old_id || new_id == 0 || sessions_.count(new_id)) return;
  auto node = sessions_.extract(old_id);  // the element stays where it is: `s` stays valid
  node.key() = new_id;
  node.mapped().local.session_id = new_id;
  node.mapped().status.local_session_id = new_id;
  sessions_.insert(std::move(node));
}

void ControlConnection::GoneDown() {
  EndSessions(SessionEvent::kTunnelDown, status_.message);
  for (auto& [id, s] : sessions_) {
    s.status.state = SessionState::kIdle;  // ready for the next connection
    calls_to_place_ = true;
    s.status.peer = PeerSession{};
    s.next_call_at.reset();
  }
  linger_until_.reset();
  our_challenge_.clear();
  if (options_.initiator) {  // the configured role: an INITIATOR that answered calls again
    reconnect_at_ = now_ + reconnect_delay_;
    reconnect_delay_ = std::min(reconnect_delay_ * 2, options_.reconnect_max);
  }
  fresh_channel_ = true;  // an SCCRQ answered next starts from Ns 0 (not here: the channel may be calling us)
}

// --- The reliable channel's side ------------------------------------------------

bool ControlConnection::Send(ControlMessage m) {
  last_activity_ = now_;
  return channel_->Send(now_, std::move(m));
}

void ControlConnection::Transmit(const ControlMessage& m) {
  ++stats_.messages_sent[TypeIndex(m)];
  events_->Transmit(m);
}

void ControlConnection::Acknowledged(const ControlMessage& m, RoundTrip rtt) {
  const uint16_t type = m.Type().value_or(0);
  if (type == static_cast<uint16_t>(MessageType::kIcrq) ||
      type == static_cast<uint16_t>(MessageType::kIcrp)) {
    // Our own message: its "peer session" AVPs are ours.
    Session* s = FindSession(ReadPeerSession(options_.version, m).session_id);
    const SessionState waiting = type == static_cast<uint16_t>(MessageType::kIcrq)
                                     ? SessionState::kWaitReply
                                     : SessionState::kWaitConnect;
    if (s != nullptr && s->status.state == waiting) s->setup_deadline = now_ + kCallSetupTimeout;
  }
  OpenSessions();  // the ack made room in the send queue for calls waiting to be placed
  if (type == static_cast<uint16_t>(MessageType::kHello)) {
    status_.hello_rtt = rtt;
    ++status_.hello_acks;
    status_.retransmissions = retransmissions_before_ + channel_->stats().retransmitted;
    events_->TunnelChanged(status_);
  }
}

void ControlConnection::Failed(const std::string& why) {
  status_.last_stop_reason = absl::StrCat("peer silent: ", why);
  TunnelStep(TunnelEvent::kPeerSilent, status_.last_stop_reason);
}

// --- Lookups ------------------------------------------------------------------

std::optional<ConnectionSnapshot> ControlConnection::Snapshot() const {
  if (status_.state != TunnelState::kEstablished || !channel_->Idle()) return std::nullopt;
  ConnectionSnapshot s;
  s.local_tunnel_id = options_.local_tunnel_id;
  s.peer_tunnel_id = status_.peer_tunnel_id;
  s.peer_host_name = status_.peer_host_name;
  s.peer_vendor = status_.peer_vendor;
  s.send_next = channel_->send_next();
  s.receive_next = channel_->receive_next();
  s.peer_window = channel_->peer_window();
  s.our_nonce = our_nonce_;
  s.peer_nonce = peer_nonce_;
  s.calling = calling_;
  for (const auto& [id, session] : sessions_) {
    if (session.status.state == SessionState::kEstablished) s.sessions.push_back({id, session.status.peer});
  }
  return s;
}

void ControlConnection::Resume(TimePoint now, const ConnectionSnapshot& snapshot) {
  now_ = now;
  status_.peer_tunnel_id = snapshot.peer_tunnel_id;
  status_.peer_host_name = snapshot.peer_host_name;
  status_.peer_vendor = snapshot.peer_vendor;
  channel_->set_peer_tunnel_id(snapshot.peer_tunnel_id);
  channel_->set_peer_window(snapshot.peer_window == 0 ? 4 : snapshot.peer_window);
  channel_->Resume(snapshot.send_next, snapshot.receive_next);
  our_nonce_ = snapshot.our_nonce;
  peer_nonce_ = snapshot.peer_nonce;
  calling_ = snapshot.calling.value_or(options_.initiator);
  status_.state = TunnelState::kEstablished;
  status_.message = "resumed from the previous run";
  last_activity_ = now;
  events_->TunnelChanged(status_);
  for (const ConnectionSnapshot::Session& held : snapshot.sessions) {
    Session* s = FindSession(held.local_session_id);
    if (s == nullptr) {  // no longer wanted: tell the peer
      Send(BuildCdn(options_.version, held.local_session_id, held.peer.session_id,
                    Result(kCdnAdminDisconnect, std::nullopt,
                           "the session was deleted while the agent restarted")));
      continue;
    }
    s->status.state = SessionState::kEstablished;
    s->status.peer = held.peer;
    s->status.message = "resumed from the previous run";
    events_->SessionChanged(s->status);
  }
  Send(BuildHello());  // the peer's ack proves it still holds the connection
  calls_to_place_ = true;
  if (calling_) OpenSessions();  // sessions added since
}

// v3 with a secret: a fresh nonce of ours for each connection (chosen when
// we send SCCRQ or answer one), and the peer's from its SCCRQ or SCCRP.
void ControlConnection::ChooseNonces(const ControlMessage* from_peer) {
  if (options_.secret.empty() || options_.version != kL2tpV3) return;
  const bool ours = from_peer == nullptr || from_peer->Type() == static_cast<uint16_t>(MessageType::kSccrq);
  if (ours) {
    our_nonce_.assign(kNonceBytes, 0);
    events_->Random(our_nonce_);
  }
  if (from_peer != nullptr) {
    const Avp* nonce = from_peer->Find(AvpType::kControlMessageAuthenticationNonce);
    peer_nonce_ = nonce != nullptr ? nonce->value : std::vector<uint8_t>{};
  }
}

LocalTunnel ControlConnection::Local() const {
  LocalTunnel l;
  l.version = options_.version;
  l.tunnel_id = options_.local_tunnel_id;
  l.host_name = options_.host_name;
  l.receive_window = options_.receive_window;
  l.router_id = options_.router_id;
  l.pseudowire_types = options_.pseudowire_types;
  l.challenge = our_challenge_;
  l.nonce = our_nonce_;
  l.tie_breaker = tie_breaker_;
  return l;
}

ControlConnection::Session* ControlConnection::FindSession(uint32_t local_session_id) {
  auto it = sessions_.find(local_session_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

int ControlConnection::MatchingBusy(const PeerSession& peer) const {
  int n = 0;
  for (const auto& [id, s] : sessions_) {
    const bool matches = options_.version == kL2tpV2 || (s.local.remote_end_id == peer.remote_end_id &&
                                                         s.local.pseudowire_type == peer.pseudowire_type);
    if (matches && s.status.state != SessionState::kIdle) ++n;
  }
  return n;
}

ControlConnection::Session* ControlConnection::MatchIncoming(const PeerSession& peer) {
  for (auto& [id, s] : sessions_) {
    if (s.status.state != SessionState::kIdle) continue;
    if (options_.version == kL2tpV2) return &s;
    if (s.local.remote_end_id == peer.remote_end_id && s.local.pseudowire_type == peer.pseudowire_type)
      return &s;
  }
  return nullptr;
}

std::vector<SessionStatus> ControlConnection::sessions() const {
  std::vector<SessionStatus> out;
  for (const auto& [id, s] : sessions_) out.push_back(s.status);
  return out;
}

ReliableStats ControlConnection::reliable_stats() const { return channel_->stats(); }

}  // namespace l2tp::control
