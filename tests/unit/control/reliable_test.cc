// Reliable delivery (control/reliable.h) on a fake clock: two channels back
// to back through a wire that can drop, duplicate, reorder and delay, and a
// lone channel fed messages by hand where the exact input matters.
#include "control/reliable.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace l2tp::control {
namespace {

using namespace std::chrono_literals;
using Options = ReliableChannel::Options;

const TimePoint kStart = TimePoint{} + std::chrono::hours(1);

ControlMessage Message(MessageType type, uint16_t session_id = 0) {
  ControlMessage m;
  m.header.session_id = session_id;
  m.avps.push_back(U16Avp(AvpType::kMessageType, static_cast<uint16_t>(type)));
  return m;
}

// A header-only message as a peer would send it.
ControlMessage FromPeer(std::optional<MessageType> type, uint16_t ns, uint16_t nr) {
  ControlMessage m = type ? Message(*type) : ControlMessage{};
  m.header.ns = ns;
  m.header.nr = nr;
  return m;
}

bool IsBareAck(const ControlMessage& m) {
  return m.IsZlb() || m.Type() == static_cast<uint16_t>(MessageType::kAck);
}

Options V2() { return Options{}; }
Options V3() {
  Options o;
  o.version = kL2tpV3;
  return o;
}
Options NoSlowStart(Options o = V2()) {
  o.slow_start = false;
  return o;
}

// One end: a channel and what its sink saw.
struct End : ChannelSink {
  End(Options options, const TimePoint* clock) : channel(options, this), clock(clock) {}

  void Transmit(const ControlMessage& m) override {
    transmitted.push_back(m);
    transmitted_at.push_back(std::chrono::duration_cast<Duration>(*clock - kStart));
    if (wire) wire(m);
  }
  void Deliver(const ControlMessage& m) override {
    delivered.push_back(m);
    if (on_deliver) on_deliver(m);
  }
  void Acknowledged(const ControlMessage& m, RoundTrip rtt) override {
    acknowledged.emplace_back(m.header.ns, rtt);
  }
  void Failed(const std::string& why) override {
    failures.push_back(why);
    if (on_failed) on_failed();
  }

  int BareAcks() const { return std::count_if(transmitted.begin(), transmitted.end(), IsBareAck); }
  std::vector<uint16_t> DeliveredNs() const {
    std::vector<uint16_t> out;
    for (const ControlMessage& m : delivered) out.push_back(m.header.ns);
    return out;
  }
  void ClearLogs() {
    transmitted.clear();
    transmitted_at.clear();
    delivered.clear();
    acknowledged.clear();
  }

  ReliableChannel channel;
  const TimePoint* clock;
  std::function<void(const ControlMessage&)> wire;
  std::vector<ControlMessage> transmitted;  // everything put on the wire, in order
  std::vector<Duration> transmitted_at;     // since kStart
  std::vector<ControlMessage> delivered;
  std::vector<std::pair<uint16_t, RoundTrip>> acknowledged;  // Ns, rtt
  std::vector<std::string> failures;
  std::function<void(const ControlMessage&)> on_deliver;
  std::function<void()> on_failed;
};

// What the wire does to one packet: how many copies arrive, how late.
struct Fate {
  int copies = 1;
  Duration delay = 10ms;
};
using FateFn = std::function<Fate(const ControlMessage&)>;

// Drops the first `n` packets that `match`; the others arrive after 10 ms.
FateFn DropFirst(int n, std::function<bool(const ControlMessage&)> match) {
  auto left = std::make_shared<int>(n);
  return [left, match](const ControlMessage& m) {
    if (*left > 0 && match(m)) {
      --*left;
      return Fate{0};
    }
    return Fate{};
  };
}
bool Any(const ControlMessage&) { return true; }

// Two channels back to back on a fake clock. A's peer tunnel id is 7, B's 9.
class Link {
 public:
  explicit Link(Options a_options = V2(), Options b_options = V2()) : a(a_options, &now), b(b_options, &now) {
    a.channel.set_peer_tunnel_id(7);
    b.channel.set_peer_tunnel_id(9);
    a.wire = [this](const ControlMessage& m) { Put(&b, a_to_b, m); };
    b.wire = [this](const ControlMessage& m) { Put(&a, b_to_a, m); };
  }

  bool SendA(MessageType type, uint16_t session_id = 0) {
    return a.channel.Send(now, Message(type, session_id));
  }
  bool SendB(MessageType type, uint16_t session_id = 0) {
    return b.channel.Send(now, Message(type, session_id));
  }

  // Moves the clock forward by `d`, running arrivals and timers in time order.
  void Run(Duration d) {
    const TimePoint end = now + d;
    for (int steps = 0; steps < 100000; ++steps) {
      std::optional<TimePoint> next;
      auto consider = [&next](std::optional<TimePoint> t) {
        if (t && (!next || *t < *next)) next = t;
      };
      if (!packets_.empty()) consider(packets_.begin()->first.first);
      consider(a.channel.NextDeadline());
      consider(b.channel.NextDeadline());
      if (!next || *next > end) break;
      now = std::max(now, *next);
      while (!packets_.empty() && packets_.begin()->first.first <= now) {
        auto [to, m] = std::move(packets_.begin()->second);
        packets_.erase(packets_.begin());
        to->channel.Receive(now, m);
      }
      for (End* e : {&a, &b}) {
        const std::optional<TimePoint> deadline = e->channel.NextDeadline();
        if (deadline && *deadline <= now) e->channel.OnTimer(now);
      }
    }
    now = end;
  }

  TimePoint now = kStart;
  End a;
  End b;
  FateFn a_to_b;  // unset: one copy after 10 ms
  FateFn b_to_a;

 private:
  void Put(End* to, const FateFn& fate_fn, const ControlMessage& m) {
    const Fate fate = fate_fn ? fate_fn(m) : Fate{};
    for (int i = 0; i < fate.copies; ++i)
      packets_.emplace(std::make_pair(now + fate.delay, seq_++), std::make_pair(to, m));
  }

  std::map<std::pair<TimePoint, uint64_t>, std::pair<End*, ControlMessage>>
      packets_;  // by arrival, then send order
  uint64_t seq_ = 0;
};

TEST(SeqDistanceTest, WrapsAt65536) {
  EXPECT_EQ(SeqDistance(65535, 0), 1);
  EXPECT_EQ(SeqDistance(65530, 2), 8);
  EXPECT_EQ(SeqDistance(7, 7), 0);
  EXPECT_EQ(SeqDistance(0, 65535), 65535);          // 65535 is just before 0
  EXPECT_EQ(SeqDistance(100, 100 + 32767), 32767);  // the furthest ahead
  EXPECT_GE(SeqDistance(100, 100 + 32768), 32768);  // already behind
  EXPECT_GE(SeqDistance(10, 65535), 32768);         // 65535 is behind 10
}

TEST(ReliableChannelTest, DeliversOnceAndAcksWithAZlbAfterTheAckDelay) {
  Link link;
  ASSERT_TRUE(link.SendA(MessageType::kHello));
  ASSERT_EQ(link.a.transmitted.size(), 1u);
  const ControlHeader& sent = link.a.transmitted[0].header;
  EXPECT_EQ(sent.version, kL2tpV2);
  EXPECT_EQ(sent.tunnel_id, 7u);
  EXPECT_EQ(sent.ns, 0);
  EXPECT_EQ(sent.nr, 0);

  link.Run(109ms);  // delivered at 10 ms; the ack waits 100 ms for a reply
  EXPECT_EQ(link.b.delivered.size(), 1u);
  EXPECT_TRUE(link.b.transmitted.empty());
  link.Run(1ms);
  ASSERT_EQ(link.b.transmitted.size(), 1u);
  const ControlMessage& zlb = link.b.transmitted[0];
  EXPECT_TRUE(zlb.IsZlb());
  EXPECT_EQ(zlb.header.version, kL2tpV2);
  EXPECT_EQ(zlb.header.tunnel_id, 9u);
  EXPECT_EQ(zlb.header.session_id, 0);
  EXPECT_EQ(zlb.header.ns, 0);  // B's next Ns, not consumed
  EXPECT_EQ(zlb.header.nr, 1);

  link.Run(10s);
  EXPECT_EQ(link.a.acknowledged, (std::vector<std::pair<uint16_t, RoundTrip>>{{0, 120ms}}));
  EXPECT_EQ(link.b.delivered.size(), 1u);
  EXPECT_EQ(link.a.channel.stats().retransmitted, 0u);
  EXPECT_EQ(link.b.channel.stats().acks_sent, 1u);
  EXPECT_TRUE(link.a.channel.Idle());
  EXPECT_TRUE(link.b.channel.Idle());
  EXPECT_FALSE(link.a.channel.NextDeadline());
}

TEST(ReliableChannelTest, AHelloIsAckedAtOnceWhenAskedSoTheRoundTripIsTheLinks) {
  Options o = V3();
  o.ack_hello_at_once = true;
  Link link(o, o);
  ASSERT_TRUE(link.SendA(MessageType::kHello));
  link.Run(10s);
  EXPECT_EQ(link.a.acknowledged, (std::vector<std::pair<uint16_t, RoundTrip>>{{0, 20ms}}));
  // Other messages still wait for something to carry their ack.
  ASSERT_TRUE(link.SendA(MessageType::kIcrq));
  link.Run(10s);
  ASSERT_EQ(link.a.acknowledged.size(), 2u);
  EXPECT_EQ(link.a.acknowledged[1].second, 120ms);
}

TEST(ReliableChannelTest, AnAnswerSentFromDeliverCarriesTheAck) {
  Link link;
  link.b.on_deliver = [&link](const ControlMessage& m) {
    if (m.Type() == static_cast<uint16_t>(MessageType::kIcrq)) link.SendB(MessageType::kIcrp, 5);
  };
  link.SendA(MessageType::kIcrq, 3);
  link.Run(10s);

  EXPECT_EQ(link.a.transmitted[0].header.session_id, 3);  // v2 keeps the message's session id
  ASSERT_EQ(link.b.transmitted.size(), 1u);               // the ICRP, no ZLB
  const ControlMessage& icrp = link.b.transmitted[0];
  EXPECT_EQ(icrp.Type(), static_cast<uint16_t>(MessageType::kIcrp));
  EXPECT_EQ(icrp.header.session_id, 5);
  EXPECT_EQ(icrp.header.ns, 0);
  EXPECT_EQ(icrp.header.nr, 1);
  EXPECT_EQ(link.b.channel.stats().acks_sent, 0u);
  EXPECT_EQ(link.a.acknowledged, (std::vector<std::pair<uint16_t, RoundTrip>>{{0, 20ms}}));

  // A has nothing to answer: a ZLB after 100 ms, with A's next Ns.
  ASSERT_EQ(link.a.transmitted.size(), 2u);
  EXPECT_TRUE(link.a.transmitted[1].IsZlb());
  EXPECT_EQ(link.a.transmitted[1].header.ns, 1);
  EXPECT_EQ(link.a.transmitted[1].header.nr, 1);
  EXPECT_EQ(link.a.transmitted_at[1], 120ms);
  EXPECT_TRUE(link.a.channel.Idle());
  EXPECT_TRUE(link.b.channel.Idle());
}

TEST(ReliableChannelTest, AnswersFromDeliverOfABurstGetTheirOwnNs) {
  Link link(NoSlowStart(), V2());
  int delay_ms = 40;  // 40, 30, 20, 10: arrive in reverse, delivered together
  link.a_to_b = [&delay_ms](const ControlMessage&) {
    return Fate{1, Duration(std::exchange(delay_ms, delay_ms - 10))};
  };
  link.b.on_deliver = [&link](const ControlMessage&) { link.SendB(MessageType::kHello); };
  for (int i = 0; i < 4; ++i) link.SendA(MessageType::kHello);
  link.Run(10s);

  ASSERT_EQ(link.b.delivered.size(), 4u);
  ASSERT_GE(link.b.transmitted.size(), 4u);
  for (uint16_t i = 0; i < 4; ++i) {
    EXPECT_EQ(link.b.transmitted[i].header.ns, i);
    EXPECT_EQ(link.b.transmitted[i].header.nr, 4);  // all four delivered before the first answer
  }
  EXPECT_EQ(link.b.channel.stats().acks_sent, 0u);
  EXPECT_EQ(link.a.delivered.size(), 4u);
}

TEST(ReliableChannelTest, V3AcksWithAnExplicitAckThatConsumesNoNs) {
  Link link(V3(), V3());
  link.SendA(MessageType::kHello, 99);
  EXPECT_EQ(link.a.transmitted[0].header.version, kL2tpV3);
  EXPECT_EQ(link.a.transmitted[0].header.session_id, 0);  // unused in v3
  link.Run(10s);

  ASSERT_EQ(link.b.transmitted.size(), 1u);
  const ControlMessage& ack = link.b.transmitted[0];
  EXPECT_EQ(ack.Type(), static_cast<uint16_t>(MessageType::kAck));
  ASSERT_EQ(ack.avps.size(), 1u);
  EXPECT_TRUE(ack.avps[0].mandatory);
  EXPECT_EQ(ack.header.version, kL2tpV3);
  EXPECT_EQ(ack.header.tunnel_id, 9u);
  EXPECT_EQ(ack.header.ns, 0);
  EXPECT_EQ(ack.header.nr, 1);
  EXPECT_EQ(link.b.channel.stats().acks_sent, 1u);
  EXPECT_TRUE(link.a.delivered.empty());  // an ACK is not delivered
  EXPECT_EQ(link.a.acknowledged.size(), 1u);

  link.SendB(MessageType::kHello);
  EXPECT_EQ(link.b.transmitted.back().header.ns, 0);  // the ACK did not consume Ns 0
  link.Run(10s);
  EXPECT_EQ(link.a.delivered.size(), 1u);
  EXPECT_EQ(link.b.acknowledged.size(), 1u);
  EXPECT_TRUE(link.a.channel.Idle());
  EXPECT_TRUE(link.b.channel.Idle());
}

TEST(ReliableChannelTest, V3AcceptsAZlbAsAnAck) {
  TimePoint now = kStart;
  End a(V3(), &now);
  a.channel.Send(now, Message(MessageType::kHello));
  now += 30ms;
  a.channel.Receive(now, FromPeer(std::nullopt, 0, 1));
  EXPECT_EQ(a.acknowledged, (std::vector<std::pair<uint16_t, RoundTrip>>{{0, 30ms}}));
  EXPECT_TRUE(a.delivered.empty());
  EXPECT_TRUE(a.channel.Idle());
}

TEST(ReliableChannelTest, ALostMessageIsRetransmittedAfterOneSecondAndDeliveredOnce) {
  Link link;
  link.a_to_b = DropFirst(1, Any);
  link.SendA(MessageType::kSccrq);
  link.Run(10s);

  ASSERT_EQ(link.a.transmitted.size(), 2u);
  EXPECT_EQ(link.a.transmitted_at, (std::vector<Duration>{0ms, 1s}));
  EXPECT_EQ(link.a.transmitted[1].header.ns, 0);
  EXPECT_EQ(link.b.delivered.size(), 1u);
  EXPECT_EQ(link.a.channel.stats().retransmitted, 1u);
  EXPECT_EQ(link.a.channel.stats().sent, 1u);
  // The round trip counts from the first transmission.
  EXPECT_EQ(link.a.acknowledged, (std::vector<std::pair<uint16_t, RoundTrip>>{{0, 1120ms}}));
}

TEST(ReliableChannelTest, ALostAckMakesTheDuplicateAckedAgainAtOnce) {
  Link link;
  link.b_to_a = DropFirst(1, IsBareAck);
  link.SendA(MessageType::kHello);
  link.Run(10s);

  EXPECT_EQ(link.b.delivered.size(), 1u);
  EXPECT_EQ(link.b.channel.stats().duplicates, 1u);
  // The first ZLB after the ack delay (lost); the second as the duplicate arrives.
  EXPECT_EQ(link.b.transmitted_at, (std::vector<Duration>{110ms, 1010ms}));
  EXPECT_EQ(link.b.BareAcks(), 2);
  EXPECT_EQ(link.a.acknowledged, (std::vector<std::pair<uint16_t, RoundTrip>>{{0, 1020ms}}));
  EXPECT_TRUE(link.a.channel.Idle());
}

TEST(ReliableChannelTest, DuplicatedPacketsAreDeliveredOnce) {
  Link link;
  link.a_to_b = [](const ControlMessage&) { return Fate{2}; };
  link.b_to_a = [](const ControlMessage&) { return Fate{2}; };
  link.SendA(MessageType::kIcrq, 1);
  link.SendA(MessageType::kIcrq, 2);
  link.SendA(MessageType::kIcrq, 3);
  link.Run(10s);

  ASSERT_EQ(link.b.delivered.size(), 3u);
  for (uint16_t i = 0; i < 3; ++i) EXPECT_EQ(link.b.delivered[i].header.session_id, i + 1);
  EXPECT_EQ(link.b.channel.stats().duplicates, 3u);
  EXPECT_EQ(link.a.acknowledged.size(), 3u);
  EXPECT_EQ(link.a.channel.stats().bad_nr, 0u);  // a duplicated old ack is not a bad Nr
  EXPECT_EQ(link.a.channel.stats().retransmitted, 0u);
  EXPECT_TRUE(link.a.channel.Idle());
  EXPECT_TRUE(link.b.channel.Idle());
}

TEST(ReliableChannelTest, ReorderedMessagesWithinTheWindowAreDeliveredInOrder) {
  Link link(NoSlowStart(), V2());
  int delay_ms = 40;
  link.a_to_b = [&delay_ms](const ControlMessage&) {
    return Fate{1, Duration(std::exchange(delay_ms, delay_ms - 10))};
  };
  for (uint16_t i = 0; i < 4; ++i) link.SendA(MessageType::kIcrq, i);
  link.Run(10s);

  EXPECT_EQ(link.b.DeliveredNs(), (std::vector<uint16_t>{0, 1, 2, 3}));
  for (uint16_t i = 0; i < 4; ++i) EXPECT_EQ(link.b.delivered[i].header.session_id, i);
  EXPECT_EQ(link.b.channel.stats().duplicates, 0u);
  EXPECT_EQ(link.b.channel.stats().out_of_window, 0u);
  // One ZLB, due 100 ms after the first (held) arrival, acks all four.
  ASSERT_EQ(link.b.transmitted.size(), 1u);
  EXPECT_EQ(link.b.transmitted_at[0], 110ms);
  EXPECT_EQ(link.b.transmitted[0].header.nr, 4);
  EXPECT_TRUE(link.a.channel.Idle());
}

TEST(ReliableChannelTest, AFullWindowHoldsMessagesUntilAnAck) {
  struct Case {
    uint16_t peer_window;
    size_t at_once;  // of 5
  };
  for (const Case c : {Case{1, 1}, Case{2, 2}, Case{4, 4}, Case{8, 5}}) {
    SCOPED_TRACE(c.peer_window);
    Link link(NoSlowStart(), V2());
    link.a.channel.set_peer_window(c.peer_window);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(link.SendA(MessageType::kHello));
    EXPECT_EQ(link.a.transmitted.size(), c.at_once);
    EXPECT_EQ(link.a.channel.stats().sent, c.at_once);
    link.Run(10s);
    EXPECT_EQ(link.b.DeliveredNs(), (std::vector<uint16_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(link.a.channel.stats().retransmitted, 0u);
    EXPECT_TRUE(link.a.channel.Idle());
  }
}

TEST(ReliableChannelTest, TheFifthMessageWaitsForTheAckWithWindowFour) {
  Link link(NoSlowStart(), V2());
  for (int i = 0; i < 5; ++i) link.SendA(MessageType::kHello);
  EXPECT_EQ(link.a.channel.send_window(), 4);
  ASSERT_EQ(link.a.transmitted.size(), 4u);
  link.Run(119ms);
  EXPECT_EQ(link.a.transmitted.size(), 4u);
  link.Run(1ms);  // B's ZLB (Nr 4) arrives
  ASSERT_EQ(link.a.transmitted.size(), 5u);
  EXPECT_EQ(link.a.transmitted[4].header.ns, 4);
  EXPECT_EQ(link.a.transmitted_at[4], 120ms);
}

TEST(ReliableChannelTest, SlowStartOpensTheWindowWithEachAck) {
  Link link;  // slow start, peer window 4
  EXPECT_EQ(link.a.channel.send_window(), 1);
  for (int i = 0; i < 8; ++i) link.SendA(MessageType::kHello);
  link.Run(10s);
  // cwnd 1; 2 after the first ack; 4 after two more; then the peer window.
  EXPECT_EQ(link.a.transmitted_at,
            (std::vector<Duration>{0ms, 120ms, 120ms, 240ms, 240ms, 240ms, 240ms, 360ms}));
  EXPECT_EQ(link.a.channel.send_window(), 4);
  EXPECT_EQ(link.b.delivered.size(), 8u);
}

TEST(ReliableChannelTest, ARetransmissionClosesTheCongestionWindow) {
  Link link;
  for (int i = 0; i < 4; ++i) link.SendA(MessageType::kHello);
  link.Run(10s);
  ASSERT_EQ(link.a.channel.send_window(), 4);

  link.b_to_a = [](const ControlMessage&) { return Fate{0}; };  // B's acks are lost
  for (int i = 0; i < 4; ++i) link.SendA(MessageType::kHello);
  link.a.ClearLogs();
  link.Run(1s);  // the oldest is retransmitted
  EXPECT_EQ(link.a.channel.stats().retransmitted, 1u);
  EXPECT_EQ(link.a.channel.send_window(), 1);
  link.SendA(MessageType::kHello);  // four unacknowledged: it waits
  EXPECT_EQ(link.a.channel.stats().sent, 8u);

  link.b_to_a = nullptr;
  link.Run(10s);
  EXPECT_EQ(link.b.delivered.size(), 9u);
  EXPECT_TRUE(link.a.channel.Idle());
  // ssthresh 2: +1 to 2 in slow start, then one per window's worth of acks.
  EXPECT_EQ(link.a.channel.send_window(), 3);
}

// Sends `n` messages from A to B, four at a time, and waits for their acks.
void Ferry(Link& link, int n) {
  for (int sent = 0; sent < n;) {
    const int batch = std::min(4, n - sent);
    for (int i = 0; i < batch; ++i) link.SendA(MessageType::kHello);
    sent += batch;
    link.Run(200ms);
    link.a.ClearLogs();
    link.b.ClearLogs();
  }
}

TEST(ReliableChannelTest, SequenceNumbersWrapAt65536) {
  Link link(NoSlowStart(), V2());
  Ferry(link, 65533);
  ASSERT_TRUE(link.a.channel.Idle());
  ASSERT_EQ(link.b.channel.stats().delivered, 65533u);

  int delay_ms = 40;  // reversed across the wrap: 0, 65535, 65534, 65533 arrive in that order
  link.a_to_b = [&delay_ms](const ControlMessage&) {
    return Fate{1, Duration(std::exchange(delay_ms, delay_ms - 10))};
  };
  for (int i = 0; i < 4; ++i) link.SendA(MessageType::kHello);
  ASSERT_EQ(link.a.transmitted.size(), 4u);
  EXPECT_EQ(link.a.transmitted[3].header.ns, 0);
  link.Run(10s);
  EXPECT_EQ(link.b.DeliveredNs(), (std::vector<uint16_t>{65533, 65534, 65535, 0}));
  ASSERT_EQ(link.b.transmitted.size(), 1u);
  EXPECT_EQ(link.b.transmitted[0].header.nr, 1);  // Nr wrapped too
  ASSERT_EQ(link.a.acknowledged.size(), 4u);
  EXPECT_EQ(link.a.acknowledged[3].first, 0);
  EXPECT_TRUE(link.a.channel.Idle());
  EXPECT_EQ(link.b.channel.stats().duplicates + link.b.channel.stats().out_of_window, 0u);

  link.a_to_b = nullptr;
  link.SendA(MessageType::kHello);
  EXPECT_EQ(link.a.transmitted.back().header.ns, 1);
  link.Run(10s);
  EXPECT_EQ(link.b.delivered.back().header.ns, 1);
  EXPECT_EQ(link.a.channel.stats().retransmitted, 0u);
}

TEST(ReliableChannelTest, BackoffDoublesUpToTheCapThenTheChannelFails) {
  struct Case {
    int max_retries;
    Duration initial, cap;
    std::vector<Duration> transmissions;
    Duration fails_at;
  };
  const Case cases[] = {
      {5, 1s, 8s, {0s, 1s, 3s, 7s, 15s, 23s}, 31s},  // 1, 2, 4, 8, 8 s, then 8 s more
      {3, 1s, 8s, {0s, 1s, 3s, 7s}, 15s},
      {10, 1s, 8s, {0s, 1s, 3s, 7s, 15s, 23s, 31s, 39s, 47s, 55s, 63s}, 71s},
      {2, 2s, 3s, {0s, 2s, 5s}, 8s},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.max_retries);
    Options o;
    o.max_retries = c.max_retries;
    o.initial_timeout = c.initial;
    o.max_timeout = c.cap;
    Link link(o, V2());
    link.a_to_b = [](const ControlMessage&) { return Fate{0}; };
    link.SendA(MessageType::kSccrq);
    EXPECT_EQ(link.a.channel.FullRetransmitCycle(), c.fails_at);

    link.Run(c.fails_at - 1ms);
    EXPECT_EQ(link.a.transmitted_at, c.transmissions);
    for (const ControlMessage& m : link.a.transmitted) EXPECT_EQ(m.header.ns, 0);
    EXPECT_TRUE(link.a.failures.empty());
    EXPECT_FALSE(link.a.channel.failed());
    link.Run(1ms);
    ASSERT_EQ(link.a.failures.size(), 1u);
    EXPECT_TRUE(link.a.channel.failed());
    EXPECT_EQ(link.a.channel.stats().retransmitted, static_cast<uint64_t>(c.max_retries));
  }
}

TEST(ReliableChannelTest, AFailedChannelReportsOnceAndSendsNothing) {
  Link link;
  link.a_to_b = [](const ControlMessage&) { return Fate{0}; };
  bool send_in_failed = true;
  link.a.on_failed = [&] { send_in_failed = link.SendA(MessageType::kStopccn); };  // as a state machine would
  link.SendA(MessageType::kSccrq);
  link.Run(31s);
  EXPECT_EQ(link.a.failures,
            (std::vector<std::string>{"no acknowledgement after 5 retransmissions of SCCRQ (Ns 0)"}));
  EXPECT_FALSE(send_in_failed);
  const size_t transmitted = link.a.transmitted.size();
  EXPECT_EQ(transmitted, 6u);
  EXPECT_FALSE(link.a.channel.NextDeadline());
  EXPECT_TRUE(link.a.channel.Idle());

  EXPECT_FALSE(link.SendA(MessageType::kHello));
  const uint64_t received = link.a.channel.stats().received;
  link.a.channel.Receive(link.now, FromPeer(MessageType::kSccrp, 0, 0));
  EXPECT_EQ(link.a.channel.stats().received, received);
  link.Run(100s);
  EXPECT_EQ(link.a.failures.size(), 1u);
  EXPECT_EQ(link.a.transmitted.size(), transmitted);
  EXPECT_TRUE(link.a.delivered.empty());
  EXPECT_TRUE(link.a.acknowledged.empty());
}

TEST(ReliableChannelTest, ARetransmissionCarriesTheCurrentNr) {
  Link link;
  link.a_to_b = DropFirst(1, Any);
  link.SendA(MessageType::kSccrq);
  EXPECT_EQ(link.a.transmitted[0].header.nr, 0);
  link.Run(500ms);
  link.SendB(MessageType::kHello);  // A delivers it at 510 ms, acks it at 610 ms
  link.Run(600ms);
  ASSERT_EQ(link.a.transmitted.size(), 3u);
  EXPECT_TRUE(link.a.transmitted[1].IsZlb());
  const ControlMessage& again = link.a.transmitted[2];
  EXPECT_EQ(link.a.transmitted_at[2], 1s);
  EXPECT_EQ(again.Type(), static_cast<uint16_t>(MessageType::kSccrq));
  EXPECT_EQ(again.header.ns, 0);
  EXPECT_EQ(again.header.nr, 1);
}

TEST(ReliableChannelTest, AnNrForWhatWasNeverSentIsCountedAndIgnored) {
  TimePoint now = kStart;
  End a(V2(), &now);  // slow start: the second message waits
  a.channel.Send(now, Message(MessageType::kIcrq));
  a.channel.Send(now, Message(MessageType::kIcrq));
  ASSERT_EQ(a.transmitted.size(), 1u);

  struct Step {
    uint16_t nr;
    uint64_t bad_nr;
    size_t delivered, acknowledged;
  };
  const Step steps[] = {
      {2, 1, 0, 0},      // covers Ns 1, which waits unsent: the whole message is dropped
      {5, 2, 0, 0},      // far ahead
      {65535, 2, 1, 0},  // behind what was acked: old, accepted, acknowledges nothing
      {1, 2, 2, 1},
  };
  uint16_t ns = 0;
  for (const Step& s : steps) {
    SCOPED_TRACE(s.nr);
    a.channel.Receive(now, FromPeer(MessageType::kIcrp, ns, s.nr));
    if (a.delivered.size() > ns) ++ns;
    EXPECT_EQ(a.channel.stats().bad_nr, s.bad_nr);
    EXPECT_EQ(a.delivered.size(), s.delivered);
    EXPECT_EQ(a.acknowledged.size(), s.acknowledged);
  }
  EXPECT_EQ(a.channel.stats().received, 4u);
}

TEST(ReliableChannelTest, ReceiveWindowDuplicatesAndOutOfWindow) {
  TimePoint now = kStart;
  End b(V2(), &now);  // our receive window: 4
  struct Step {
    uint16_t ns;
    size_t delivered;
    uint64_t duplicates, out_of_window;
    bool ack_at_once;
  };
  const Step steps[] = {
      {4, 0, 0, 1, false},     // expected 0: 4 is past the window
      {40000, 0, 1, 1, true},  // in the 32768 values before 0: a duplicate, acked again
      {3, 0, 1, 1, false},     // held
      {3, 0, 2, 1, false},     // held already
      {0, 1, 2, 1, false},     // delivered; 1 and 2 still missing
      {2, 1, 2, 1, false},     // held
      {1, 4, 2, 1, false},     // 1, then the held 2 and 3
      {2, 4, 3, 1, true},      // a duplicate
      {8, 4, 3, 2, false},     // expected 4: 8 is past the window
      {7, 4, 3, 2, false},     // held: the last place in the window
  };
  for (const Step& s : steps) {
    SCOPED_TRACE(s.ns);
    const size_t before = b.transmitted.size();
    b.channel.Receive(now, FromPeer(MessageType::kHello, s.ns, 0));
    EXPECT_EQ(b.delivered.size(), s.delivered);
    EXPECT_EQ(b.channel.stats().duplicates, s.duplicates);
    EXPECT_EQ(b.channel.stats().out_of_window, s.out_of_window);
    EXPECT_EQ(b.transmitted.size() - before, s.ack_at_once ? 1u : 0u);
  }
  EXPECT_EQ(b.DeliveredNs(), (std::vector<uint16_t>{0, 1, 2, 3}));
  EXPECT_EQ(b.transmitted.back().header.nr, 4);
}

TEST(ReliableChannelTest, IdleAndTheFullRetransmitCycle) {
  Link link;
  EXPECT_TRUE(link.a.channel.Idle());
  EXPECT_EQ(link.a.channel.FullRetransmitCycle(), 31s);  // go-l2tp lingers 31 s too
  Options v3 = V3();
  v3.max_retries = 10;
  EXPECT_EQ(ReliableChannel(v3, &link.a).FullRetransmitCycle(), 71s);

  link.SendA(MessageType::kStopccn);
  EXPECT_FALSE(link.a.channel.Idle());  // unacknowledged
  link.Run(10ms);
  EXPECT_FALSE(link.b.channel.Idle());  // owes an ack
  link.Run(109ms);
  EXPECT_TRUE(link.b.channel.Idle());
  EXPECT_FALSE(link.a.channel.Idle());  // the ack is on the wire
  link.Run(1ms);
  EXPECT_TRUE(link.a.channel.Idle());
}

TEST(ReliableChannelTest, ABareAckCarriesTheNsOfTheNextMessageToTransmit) {
  TimePoint now = kStart;
  End a(V2(), &now);  // slow start: one message out, one waiting
  a.channel.Send(now, Message(MessageType::kIcrq));
  a.channel.Send(now, Message(MessageType::kIcrq));
  a.channel.Receive(now, FromPeer(MessageType::kHello, 0, 0));
  EXPECT_EQ(a.channel.NextDeadline(), now + 100ms);
  now += 100ms;
  a.channel.OnTimer(now);
  ASSERT_EQ(a.transmitted.size(), 2u);
  EXPECT_TRUE(a.transmitted[1].IsZlb());
  EXPECT_EQ(a.transmitted[1].header.ns, 1);  // the waiting message keeps Ns 1
  EXPECT_EQ(a.transmitted[1].header.nr, 1);
}

TEST(ReliableChannelTest, TheSendQueueIsBounded) {
  TimePoint now = kStart;
  Options o = NoSlowStart();
  o.max_queued = 2;
  End a(o, &now);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(a.channel.Send(now, Message(MessageType::kHello))) << i;
  EXPECT_FALSE(a.channel.Send(now, Message(MessageType::kHello)));
  EXPECT_EQ(a.transmitted.size(), 4u);
  a.channel.Receive(now, FromPeer(std::nullopt, 0, 1));  // one acked: one more goes, one place frees
  EXPECT_EQ(a.transmitted.size(), 5u);
  EXPECT_TRUE(a.channel.Send(now, Message(MessageType::kHello)));
  EXPECT_FALSE(a.channel.Send(now, Message(MessageType::kHello)));
  EXPECT_EQ(a.transmitted.back().header.ns, 4);
}

TEST(ReliableChannelTest, ThePeerWindow) {
  TimePoint now = kStart;
  End a(NoSlowStart(), &now);
  a.channel.set_peer_window(0);  // invalid: ignored
  EXPECT_EQ(a.channel.send_window(), 4);
  a.channel.set_peer_window(1);
  EXPECT_EQ(a.channel.send_window(), 1);
  for (int i = 0; i < 3; ++i) a.channel.Send(now, Message(MessageType::kHello));
  EXPECT_EQ(a.transmitted.size(), 1u);
  a.channel.set_peer_window(4);  // the peer's RWS AVP arrives: the waiting ones go now
  EXPECT_EQ(a.transmitted.size(), 3u);
}

TEST(ReliableChannelTest, ReceiveFromInsideDeliverDoesNotNestDeliveries) {
  TimePoint now = kStart;
  End b(V2(), &now);
  int depth = 0;
  int deepest = 0;
  b.on_deliver = [&](const ControlMessage& m) {
    ++depth;
    deepest = std::max(deepest, depth);
    // A loopback that hands the next message over synchronously.
    if (m.header.ns < 3) b.channel.Receive(now, FromPeer(MessageType::kHello, m.header.ns + 1, 0));
    --depth;
  };
  b.channel.Receive(now, FromPeer(MessageType::kHello, 0, 0));
  EXPECT_EQ(b.DeliveredNs(), (std::vector<uint16_t>{0, 1, 2, 3}));
  EXPECT_EQ(deepest, 1);
}

}  // namespace
}  // namespace l2tp::control
