// Reliable delivery of control messages for one control connection
// (RFC 2661 section 5.8 and Appendix A, RFC 3931 section 4.2). Sans-I/O: the
// owner passes in the messages it decoded and the current time, and gets
// back, through a ChannelSink, the messages to put on the wire and the ones
// to act on, in order and once each.
//
// The model:
//  - Sending. Every message gets the next Ns (from 0, modulo 65536) and is
//    kept until the peer's Nr passes it. At most min(cwnd, peer window) are
//    unacknowledged at a time; the others wait in order (bounded by
//    max_queued). The peer window is its Receive Window Size AVP, 4 until it
//    is known (RFC 2661 section 5.8, RFC 3931 section 4.2).
//  - Congestion window, RFC 2661 Appendix A (slow start is a SHOULD): cwnd
//    starts at 1 and grows by one for each acknowledged message up to
//    ssthresh (first the peer window), then by one for each cwnd messages
//    acknowledged, never past the peer window. A retransmission sets ssthresh
//    to half of cwnd (at least 1) and cwnd to 1.
//  - Retransmission. One timer, on the oldest unacknowledged message (TCP's
//    way; with cwnd back at 1 only it may be outstanding). It is sent again,
//    with the current Nr (RFC 2661 section 5.8), after initial_timeout, then
//    after twice the previous timeout, capped at max_timeout (1, 2, 4, 8, 8 s
//    by default; the RFCs ask for a cap of at least 8 s). After max_retries
//    retransmissions of one message without an acknowledgement the channel
//    fails: Failed() once, then it sends and accepts nothing.
//  - Receiving. Every message's Nr acknowledges what we sent before it; an
//    Nr past what we sent drops the message (bad_nr). A ZLB, and in v3 an
//    ACK (type 20), only acknowledge: they do not consume an Ns. Otherwise
//    the expected Ns is delivered, with any held messages that follow it; an
//    Ns in the 32768 values before the expected one is a duplicate, dropped
//    and acknowledged again at once (it MUST be, RFC 2661 section 5.8); an Ns
//    ahead within our receive window is held; anything else is dropped
//    (out_of_window).
//  - Acknowledging. Everything we send carries Nr, so a message sent within
//    ack_delay of a delivery acknowledges it. Otherwise a bare ack goes out:
//    a ZLB in v2, an explicit ACK in v3 (RFC 3931 section 6.15), with the Ns
//    of the next new message and the current Nr.
//
// Callbacks: Transmit runs inside Send, Receive, OnTimer and set_peer_window
// and must not call the channel. Deliver, Acknowledged and Failed run after
// the bookkeeping, so they may call Send (a state machine that answers at
// once piggybacks the ack) or Receive; no callback may destroy the channel.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "control/message.h"
#include "control/time.h"

namespace l2tp::control {

// Sequence numbers modulo 65536: how far `to` is after `from`. A distance of
// 32768 or more means `to` is before `from` (RFC 2661 section 5.8).
inline uint16_t SeqDistance(uint16_t from, uint16_t to) { return static_cast<uint16_t>(to - from); }

class ChannelSink {
 public:
  virtual ~ChannelSink() = default;
  // Encode and send these bytes now.
  virtual void Transmit(const ControlMessage& m) = 0;
  // A received message, in order, once each. Never a ZLB or a v3 ACK.
  virtual void Deliver(const ControlMessage& m) = 0;
  // The peer acknowledged `m`; `rtt` counts from its first transmission.
  virtual void Acknowledged(const ControlMessage& m, RoundTrip rtt) = 0;
  // No acknowledgement after max_retries retransmissions; called once.
  virtual void Failed(const std::string& why) = 0;
};

struct ReliableStats {
  uint64_t sent = 0;           // first transmissions (not bare acks)
  uint64_t retransmitted = 0;  // retransmissions
  uint64_t received = 0;       // messages passed to Receive (until a failure)
  uint64_t delivered = 0;      // handed to Deliver
  uint64_t duplicates = 0;     // already delivered or already held
  uint64_t out_of_window = 0;  // ahead of our receive window
  uint64_t bad_nr = 0;         // acknowledged what we never sent
  uint64_t acks_sent = 0;      // bare acks: ZLB (v2) or ACK (v3)
};

class ReliableChannel {
 public:
  struct Options {
    uint8_t version = kL2tpV2;
    uint16_t receive_window = 4;  // ours: out-of-order messages we hold; advertise it
    int max_retries = 5;          // RFC 2661 default; RFC 3931 suggests 10
    Duration initial_timeout{1000};
    Duration max_timeout{8000};
    // How long a delivered message waits for something to carry its ack
    // before a bare one goes out. The RFCs give no number; it is short next
    // to the 1 s retransmission timeout, so the peer does not retransmit,
    // and long enough for an answer the owner sends from Deliver.
    Duration ack_delay{100};
    size_t max_queued = 256;  // messages waiting for the peer's window
    bool slow_start = true;   // RFC 2661 Appendix A; false: the peer window alone
    // Ack a HELLO without the delay: nothing will ride with that ack, and
    // the sender measures the round trip by it.
    bool ack_hello_at_once = false;
  };

  ReliableChannel(Options options, ChannelSink* sink);

  // The id in the header of what we send: v2 the peer's Tunnel ID, v3 its
  // Control Connection ID; 0 until learned (SCCRQ).
  void set_peer_tunnel_id(uint32_t id) { peer_tunnel_id_ = id; }
  // The peer's Receive Window Size. 0 is invalid and ignored. A larger
  // window may transmit waiting messages at once.
  void set_peer_window(uint16_t window);

  // Assigns Ns and fills the header (v2 keeps the message's session id);
  // transmits now if the window allows, else queues. False, and nothing
  // done, when the channel failed or max_queued messages already wait.
  bool Send(TimePoint now, ControlMessage m);
  // Messages sent but not yet transmitted: waiting for the peer's window.
  size_t waiting() const { return outgoing_.size() - in_flight_; }
  // Every decoded control message of this connection, ZLB and ACK included.
  void Receive(TimePoint now, const ControlMessage& m);
  // Retransmits or sends a bare ack when due; call at NextDeadline().
  void OnTimer(TimePoint now);
  std::optional<TimePoint> NextDeadline() const;

  // Nothing unacknowledged, nothing waiting, no ack owed.
  bool Idle() const { return outgoing_.empty() && !ack_due_; }
  // Where the channel stands, for an owner handing it to its next run
  // (meaningful when Idle()): the Ns of the next message, the Ns expected.
  uint16_t send_next() const { return static_cast<uint16_t>(send_una_ + outgoing_.size()); }
  uint16_t receive_next() const { return next_nr_; }
  uint16_t peer_window() const { return peer_window_; }
  // A fresh channel carries on from there.
  void Resume(uint16_t send_next, uint16_t receive_next) {
    send_una_ = send_next;
    next_nr_ = receive_next;
  }
  bool failed() const { return failed_; }
  // The time from a first transmission to giving up: every timeout summed
  // (31 s by default). How long to keep the channel after StopCCN (RFC 2661
  // section 5.7).
  Duration FullRetransmitCycle() const;

  const ReliableStats& stats() const { return stats_; }
  // How many messages may be unacknowledged now: min(cwnd, peer window).
  uint16_t send_window() const;

 private:
  struct Outgoing {
    ControlMessage message;  // header.ns set by Send; nr set on each transmission
    TimePoint first_sent{};
    TimePoint deadline{};  // of the next retransmission
    Duration timeout{};
    int retransmissions = 0;
  };
  struct Event {
    enum class Kind { kDeliver, kAcknowledged, kFailed };
    Kind kind;
    ControlMessage message;
    RoundTrip rtt{};
    std::string why;
  };

  bool IsBareAck(const ControlMessage& m) const;
  // Nr processing; false if the Nr acknowledges what we never sent.
  bool Acknowledge(TimePoint now, uint16_t nr);
  void GrowWindow();
  // Ns processing of a message that is not a bare ack.
  void Accept(TimePoint now, const ControlMessage& m);
  void Deliver(ControlMessage m);
  void TransmitWaiting(TimePoint now);
  void Transmit(Outgoing& o);
  void Retransmit(TimePoint now);
  void OweAck(TimePoint due);
  void SendAck();
  void Fail(const Outgoing& o);
  void RunEvents();

  Options options_;
  ChannelSink* sink_;
  uint32_t peer_tunnel_id_ = 0;
  uint16_t peer_window_ = 4;
  uint16_t cwnd_;
  std::optional<uint16_t> ssthresh_;  // unset: the peer window
  uint16_t acked_in_avoidance_ = 0;

  uint16_t send_una_ = 0;          // Ns of outgoing_.front()
  std::deque<Outgoing> outgoing_;  // the first in_flight_ transmitted, then waiting
  size_t in_flight_ = 0;

  uint16_t next_nr_ = 0;                     // the Ns we expect
  std::map<uint16_t, ControlMessage> held_;  // ahead of next_nr_, by Ns
  std::optional<TimePoint> ack_due_;

  TimePoint now_{};  // the latest time we were given
  bool failed_ = false;
  std::deque<Event> events_;
  bool running_events_ = false;
  ReliableStats stats_;
};

}  // namespace l2tp::control
