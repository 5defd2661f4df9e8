// Send:    Send -> outgoing_ (Ns assigned) -> TransmitWaiting while the
//          window allows -> sink Transmit (current Nr; the owed ack is paid).
// Receive: Receive -> Acknowledge (Nr: pop what it covers, grow cwnd)
//          -> Accept (Ns: deliver, hold, duplicate or out of window)
//          -> TransmitWaiting (the window may have opened) -> an ack due now
//          -> RunEvents (Acknowledged, Deliver: the owner may Send from them).
// Timer:   OnTimer -> retransmit the oldest, or fail -> a bare ack when due.
// Callbacks other than Transmit are queued as events and run last, when the
// state is consistent, so the owner may call back into the channel.
#include "control/reliable.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace l2tp::control {
namespace {

// Half the sequence space: distances from here on point backwards.
constexpr uint16_t kHalfSpace = 32768;
constexpr uint16_t kMaxWindow = kHalfSpace - 1;  // a larger one would make duplicates ambiguous

}  // namespace

ReliableChannel::ReliableChannel(Options options, ChannelSink* sink)
    : options_(options), sink_(sink), cwnd_(options.slow_start ? 1 : kMaxWindow) {
  options_.receive_window = std::min(options_.receive_window, kMaxWindow);
}

void ReliableChannel::set_peer_window(uint16_t window) {
  if (window == 0) return;  // invalid (RFC 2661 section 5.8); keep what we have
  peer_window_ = std::min(window, kMaxWindow);
  if (options_.slow_start) cwnd_ = std::min(cwnd_, peer_window_);
  if (!failed_) TransmitWaiting(now_);
}

uint16_t ReliableChannel::send_window() const { return std::min(cwnd_, peer_window_); }

bool ReliableChannel::IsBareAck(const ControlMessage& m) const {
  if (m.IsZlb()) return true;
  return options_.version == kL2tpV3 && m.Type() == static_cast<uint16_t>(MessageType::kAck);
}

// --- Sending -----------------------------------------------------------------

bool ReliableChannel::Send(TimePoint now, ControlMessage m) {
  now_ = now;
  if (failed_) return false;
  const size_t waiting = outgoing_.size() - in_flight_;
  if ((waiting > 0 || in_flight_ >= send_window()) && waiting >= options_.max_queued) return false;
  m.header.version = options_.version;
  if (options_.version == kL2tpV3) m.header.session_id = 0;  // v2 keeps the caller's
  m.header.ns = static_cast<uint16_t>(send_una_ + outgoing_.size());
  outgoing_.push_back(Outgoing{std::move(m)});
  TransmitWaiting(now);
  return true;
}

void ReliableChannel::TransmitWaiting(TimePoint now) {
  while (in_flight_ < outgoing_.size() && in_flight_ < send_window()) {
    Outgoing& o = outgoing_[in_flight_++];
    o.message.header.tunnel_id = peer_tunnel_id_;  // kept on retransmission
    o.first_sent = now;
    o.timeout = options_.initial_timeout;
    o.deadline = now + o.timeout;
    ++stats_.sent;
    Transmit(o);
  }
}

void ReliableChannel::Transmit(Outgoing& o) {
  o.message.header.nr = next_nr_;
  ack_due_.reset();  // this message carries the ack
  sink_->Transmit(o.message);
}

// --- Receiving ---------------------------------------------------------------

void ReliableChannel::Receive(TimePoint now, const ControlMessage& m) {
  now_ = now;
  if (failed_) return;
  ++stats_.received;
  if (!Acknowledge(now, m.header.nr)) {
    ++stats_.bad_nr;  // a confused or forged peer: act on nothing in it
    return;
  }
  if (!IsBareAck(m)) Accept(now, m);
  TransmitWaiting(now);
  if (ack_due_ && *ack_due_ <= now) SendAck();
  RunEvents();
}

bool ReliableChannel::Acknowledge(TimePoint now, uint16_t nr) {
  const uint16_t covered = SeqDistance(send_una_, nr);
  if (covered >= kHalfSpace) return true;  // older than what was acked: reordered, nothing new
  if (covered > in_flight_) return false;
  for (uint16_t i = 0; i < covered; ++i) {
    Outgoing& o = outgoing_.front();
    const RoundTrip rtt = std::chrono::duration_cast<RoundTrip>(now - o.first_sent);
    events_.push_back(Event{Event::Kind::kAcknowledged, std::move(o.message), rtt, {}});
    outgoing_.pop_front();
    GrowWindow();
  }
  in_flight_ -= covered;
  send_una_ = nr;
  return true;
}

// RFC 2661 Appendix A: slow start up to ssthresh, then congestion avoidance.
void ReliableChannel::GrowWindow() {
  if (!options_.slow_start) return;
  if (cwnd_ < ssthresh_.value_or(peer_window_)) {
    ++cwnd_;
  } else if (++acked_in_avoidance_ >= cwnd_) {
    acked_in_avoidance_ = 0;
    ++cwnd_;
  }
  cwnd_ = std::min(cwnd_, peer_window_);
}

void ReliableChannel::Accept(TimePoint now, const ControlMessage& m) {
  const uint16_t ahead = SeqDistance(next_nr_, m.header.ns);
  if (ahead == 0) {
    const bool hello = options_.ack_hello_at_once && m.Type() == static_cast<uint16_t>(MessageType::kHello);
    Deliver(m);
    for (auto it = held_.find(next_nr_); it != held_.end(); it = held_.find(next_nr_)) {
      Deliver(std::move(it->second));
      held_.erase(it);
    }
    OweAck(hello ? now : now + options_.ack_delay);
  } else if (ahead >= kHalfSpace) {
    // Our ack was lost and the peer retransmits: it MUST be acked again.
    ++stats_.duplicates;
    OweAck(now);
  } else if (ahead < options_.receive_window) {
    if (!held_.emplace(m.header.ns, m).second) ++stats_.duplicates;
    OweAck(now + options_.ack_delay);  // what we have so far
  } else {
    ++stats_.out_of_window;
  }
}

void ReliableChannel::Deliver(ControlMessage m) {
  ++next_nr_;
  ++stats_.delivered;
  events_.push_back(Event{Event::Kind::kDeliver, std::move(m), {}, {}});
}

// --- Acks and timers -----------------------------------------------------------

void ReliableChannel::OweAck(TimePoint due) {
  if (!ack_due_ || due < *ack_due_) ack_due_ = due;
}

void ReliableChannel::SendAck() {
  ControlMessage ack;
  ack.header.version = options_.version;
  ack.header.tunnel_id = peer_tunnel_id_;
  ack.header.ns = static_cast<uint16_t>(send_una_ + in_flight_);  // the next new message's; not consumed
  ack.header.nr = next_nr_;
  if (options_.version == kL2tpV3) {
    // RFC 3931 section 6.15; M set as on every message type the RFC defines.
    ack.avps.push_back(U16Avp(AvpType::kMessageType, static_cast<uint16_t>(MessageType::kAck)));
  }
  ack_due_.reset();
  ++stats_.acks_sent;
  sink_->Transmit(ack);
}

void ReliableChannel::OnTimer(TimePoint now) {
  now_ = now;
  if (failed_) return;
  if (in_flight_ > 0 && outgoing_.front().deadline <= now) Retransmit(now);
  if (ack_due_ && *ack_due_ <= now) SendAck();
  RunEvents();
}

void ReliableChannel::Retransmit(TimePoint now) {
  Outgoing& o = outgoing_.front();
  if (o.retransmissions >= options_.max_retries) {
    Fail(o);
    return;
  }
  ++o.retransmissions;
  ++stats_.retransmitted;
  o.timeout = std::min(o.timeout * 2, options_.max_timeout);
  o.deadline = now + o.timeout;
  if (options_.slow_start) {  // Appendix A: a retransmission means congestion
    ssthresh_ = std::max<uint16_t>(cwnd_ / 2, 1);
    cwnd_ = 1;
    acked_in_avoidance_ = 0;
  }
  Transmit(o);  // with the current Nr
}

void ReliableChannel::Fail(const Outgoing& o) {
  const std::optional<uint16_t> type = o.message.Type();
  std::string why = absl::StrCat("no acknowledgement after ", o.retransmissions, " retransmissions of ",
                                 type ? MessageTypeName(*type) : std::string("ZLB"), " (Ns ",
                                 o.message.header.ns, ")");
  failed_ = true;
  outgoing_.clear();
  in_flight_ = 0;
  held_.clear();
  ack_due_.reset();
  events_.push_back(Event{Event::Kind::kFailed, {}, {}, std::move(why)});
}

std::optional<TimePoint> ReliableChannel::NextDeadline() const {
  if (failed_) return std::nullopt;
  std::optional<TimePoint> next;
  if (in_flight_ > 0) next = outgoing_.front().deadline;
  if (ack_due_ && (!next || *ack_due_ < *next)) next = ack_due_;
  return next;
}

Duration ReliableChannel::FullRetransmitCycle() const {
  Duration total{0};
  Duration timeout = options_.initial_timeout;
  // The wait before each retransmission, and the one after the last.
  for (int i = 0; i <= options_.max_retries; ++i) {
    total += timeout;
    timeout = std::min(timeout * 2, options_.max_timeout);
  }
  return total;
}

void ReliableChannel::RunEvents() {
  if (running_events_) return;  // a callback called back in: the outer loop runs the new events
  running_events_ = true;
  while (!events_.empty()) {
    Event e = std::move(events_.front());
    events_.pop_front();
    switch (e.kind) {
      case Event::Kind::kDeliver: sink_->Deliver(e.message); break;
      case Event::Kind::kAcknowledged: sink_->Acknowledged(e.message, e.rtt); break;
      case Event::Kind::kFailed: sink_->Failed(e.why); break;
    }
  }
  running_events_ = false;
}

}  // namespace l2tp::control
