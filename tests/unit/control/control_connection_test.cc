// Two ControlConnections talking through the codec on a fake clock: what
// each end reports as the protocol runs, with loss and silence injected.
#include "control/connection.h"

#include <deque>
#include <functional>
#include <random>

#include "control/codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp::control {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct End : ConnectionEvents {
  std::deque<std::vector<uint8_t>> wire;  // encoded, waiting for delivery
  std::string secret;
  std::vector<TunnelStatus> tunnel_log;
  std::vector<SessionStatus> session_log;
  std::vector<uint16_t> sent_types;
  uint8_t next_random = 1;

  void Transmit(const ControlMessage& m) override {
    sent_types.push_back(m.Type().value_or(0));
    auto bytes = EncodeControlMessage(m, Transport::kUdp, secret);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    wire.push_back(*std::move(bytes));
  }
  void TunnelChanged(const TunnelStatus& s) override { tunnel_log.push_back(s); }
  void SessionChanged(const SessionStatus& s) override { session_log.push_back(s); }
  void Random(std::span<uint8_t> out) override {
    for (uint8_t& b : out) b = next_random++;
  }
  uint32_t renumber_from = 0;  // nonzero: each next call gets a fresh id, from here up
  uint32_t NextCallSessionId(uint32_t current) override {
    return renumber_from != 0 ? renumber_from++ : current;
  }
  bool Sent(MessageType t) const {
    return std::find(sent_types.begin(), sent_types.end(), static_cast<uint16_t>(t)) != sent_types.end();
  }
};

TunnelOptions Options(uint8_t version, bool initiator, uint32_t id) {
  TunnelOptions o;
  o.version = version;
  o.initiator = initiator;
  o.local_tunnel_id = id;
  o.host_name = initiator ? "lac" : "lns";
  o.router_id = id;
  o.hello_interval = 60s;
  return o;
}

LocalSession Pw(uint32_t id, const std::string& remote_end_id) {
  LocalSession s;
  s.session_id = id;
  s.remote_end_id = remote_end_id;
  s.receive_cookie = {uint8_t(id), 0, 0, 1};
  return s;
}

// a is the initiator, b the responder.
struct Pair {
  End ea, eb;
  std::unique_ptr<ControlConnection> a, b;
  TimePoint now{std::chrono::hours(1)};
  bool a_to_b_open = true, b_to_a_open = true;
  std::function<bool(const ControlMessage&)> drop;  // lost on the way, either way
  bool drop_keeps_ack = false;                      // what `drop` loses arrives as a ZLB

  Pair(TunnelOptions oa, TunnelOptions ob) {
    ea.secret = oa.secret;
    eb.secret = ob.secret;
    a = std::make_unique<ControlConnection>(oa, &ea);
    b = std::make_unique<ControlConnection>(ob, &eb);
  }

  // A bad underlay: each frame is lost, duplicated or swapped with the next
  // one with these probabilities (a fixed seed keeps the test repeatable).
  double loss = 0, duplication = 0, reordering = 0;
  std::mt19937 rng{7};

  void Impair(std::deque<std::vector<uint8_t>>& wire) {
    std::deque<std::vector<uint8_t>> out;
    std::uniform_real_distribution<double> u(0, 1);
    for (auto& f : wire) {
      if (u(rng) < loss) continue;
      out.push_back(f);
      if (u(rng) < duplication) out.push_back(f);
      if (out.size() >= 2 && u(rng) < reordering) std::swap(out[out.size() - 1], out[out.size() - 2]);
    }
    wire = std::move(out);
  }

  void Carry(End& from, ControlConnection& to, bool open, const std::string& secret, TimePoint now) {
    Impair(from.wire);
    while (!from.wire.empty()) {
      std::vector<uint8_t> bytes = std::move(from.wire.front());
      from.wire.pop_front();
      if (!open) continue;
      auto m = DecodeControlMessage(bytes, Transport::kUdp, secret);
      ASSERT_TRUE(m.ok()) << m.status();
      if (drop && drop(*m)) {
        if (!drop_keeps_ack) continue;
        m->avps.clear();  // only its header arrives, as a ZLB: the ack it carried
      }
      to.Receive(now, *m);
    }
  }
  void Pump() {
    for (int i = 0; i < 100 && (!ea.wire.empty() || !eb.wire.empty()); ++i) {
      Carry(ea, *b, a_to_b_open, eb.secret, now);
      Carry(eb, *a, b_to_a_open, ea.secret, now);
    }
  }
  // Runs both ends' timers up to now + d, in 50 ms steps.
  void Run(Duration d) {
    const TimePoint end = now + d;
    while (now < end) {
      now += 50ms;
      for (ControlConnection* c : {a.get(), b.get()}) {
        auto deadline = c->NextDeadline();
        if (deadline && *deadline <= now) c->OnTimer(now);
      }
      Pump();
    }
  }
};

TEST(ConnectionTest, V3TunnelAndSessionsMatchedByRemoteEndId) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->AddSession(p.now, Pw(1, "pw-x"));
  p.a->AddSession(p.now, Pw(2, "pw-y"));
  p.b->AddSession(p.now, Pw(11, "pw-y"));
  p.b->AddSession(p.now, Pw(12, "pw-x"));
  p.a->Open(p.now);
  p.Run(1s);

  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.b->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.a->status().peer_tunnel_id, 200u);
  EXPECT_EQ(p.b->status().peer_tunnel_id, 100u);
  EXPECT_EQ(p.a->status().peer_host_name, "lns");
  EXPECT_EQ(p.a->status().peer_vendor, "l2tp-agent");
  auto sa = p.a->sessions();
  ASSERT_EQ(sa.size(), 2u);
  EXPECT_EQ(sa[0].state, SessionState::kEstablished);
  EXPECT_EQ(sa[0].peer.session_id, 12u);  // pw-x
  EXPECT_EQ(sa[0].peer.cookie, (std::vector<uint8_t>{12, 0, 0, 1}));
  EXPECT_EQ(sa[1].peer.session_id, 11u);  // pw-y
  auto sb = p.b->sessions();
  EXPECT_EQ(sb[0].state, SessionState::kEstablished);  // 11
  EXPECT_EQ(sb[0].peer.session_id, 2u);
  EXPECT_EQ(sb[0].peer.l2_sublayer, 1);
}

// An owner that restarts hands the connection to its next run: the peer
// sees a HELLO with the next Ns and nothing else.
TEST(ConnectionTest, ASnapshotResumedByTheNextRunCarriesOn) {
  for (bool restart_initiator : {true, false}) {
    Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
    p.a->AddSession(p.now, Pw(1, "pw-x"));
    p.a->AddSession(p.now, Pw(2, "pw-y"));
    p.b->AddSession(p.now, Pw(11, "pw-y"));
    p.b->AddSession(p.now, Pw(12, "pw-x"));
    p.a->Open(p.now);
    p.Run(2s);
    auto& restarted = restart_initiator ? p.a : p.b;
    End& restarted_end = restart_initiator ? p.ea : p.eb;
    ControlConnection& peer = restart_initiator ? *p.b : *p.a;
    std::optional<ConnectionSnapshot> snap = restarted->Snapshot();
    ASSERT_TRUE(snap.has_value());
    EXPECT_EQ(snap->sessions.size(), 2u);
    const size_t peer_log = (restart_initiator ? p.eb : p.ea).tunnel_log.size();

    // The next run: same options, the sessions, then Resume. It says so once.
    TunnelOptions o = restarted->options();
    restarted = std::make_unique<ControlConnection>(o, &restarted_end);
    restarted_end.tunnel_log.clear();
    restarted->AddSession(p.now, restart_initiator ? Pw(1, "pw-x") : Pw(11, "pw-y"));
    restarted->AddSession(p.now, restart_initiator ? Pw(2, "pw-y") : Pw(12, "pw-x"));
    restarted->Resume(p.now, *snap);
    EXPECT_EQ(restarted->status().state, TunnelState::kEstablished);
    for (const SessionStatus& s : restarted->sessions()) EXPECT_EQ(s.state, SessionState::kEstablished);
    p.Run(2min);  // HELLOs both ways, acked
    EXPECT_EQ(restarted->status().state, TunnelState::kEstablished);
    EXPECT_EQ(peer.status().state, TunnelState::kEstablished);
    EXPECT_EQ(restarted->reliable_stats().retransmitted, 0u);
    EXPECT_EQ(peer.reliable_stats().retransmitted, 0u);
    EXPECT_EQ(peer.stats().illegal, 0u);
    EXPECT_TRUE(restarted->status().hello_rtt.has_value());
    // The peer saw no transition at all.
    EXPECT_EQ((restart_initiator ? p.eb : p.ea).tunnel_log.size() - peer_log,
              static_cast<size_t>(
                  std::count_if((restart_initiator ? p.eb : p.ea).tunnel_log.begin() + peer_log,
                                (restart_initiator ? p.eb : p.ea).tunnel_log.end(),
                                [](const TunnelStatus& s) { return s.state == TunnelState::kEstablished; })));
  }
}

// A copy of the SCCRQ the network delayed past ESTABLISHED is acked and
// dropped; a new SCCRQ later (the peer restarted) starts over.
TEST(ConnectionTest, ALateCopyOfTheSccrqDoesNotTearTheConnectionDown) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->AddSession(p.now, Pw(1, "pw-x"));
  p.b->AddSession(p.now, Pw(11, "pw-x"));
  p.a->Open(p.now);
  const std::vector<uint8_t> sccrq = p.ea.wire.front();
  p.Run(1s);
  ASSERT_EQ(p.b->status().state, TunnelState::kEstablished);
  auto copy = DecodeControlMessage(sccrq, Transport::kUdp, "");
  ASSERT_TRUE(copy.ok());
  p.b->Receive(p.now, *copy);
  p.Run(30s);
  EXPECT_EQ(p.b->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.b->sessions()[0].state, SessionState::kEstablished);
  p.b->Receive(p.now, *copy);  // long after: a restarted peer
  EXPECT_EQ(p.b->status().state, TunnelState::kWaitConnect);
}

// Both ends configured as INITIATOR open at once: the SCCRQs cross, the
// lower tie breaker wins, and one connection comes up, the winner calling.
TEST(ConnectionTest, TwoInitiatorsBreakTheTie) {
  for (uint8_t version : {kL2tpV3, kL2tpV2}) {
    for (bool a_wins : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "v" << int(version) << (a_wins ? " a wins" : " b wins"));
      Pair p(Options(version, true, 100), Options(version, true, 200));
      p.ea.next_random = a_wins ? 1 : 100;  // the first 8 random bytes are the tie breaker
      p.eb.next_random = a_wins ? 100 : 1;
      p.a->AddSession(p.now, Pw(1, "pw-x"));
      p.b->AddSession(p.now, Pw(11, "pw-x"));
      p.a->Open(p.now);
      p.b->Open(p.now);
      p.Run(3s);
      ControlConnection& winner = a_wins ? *p.a : *p.b;
      ControlConnection& loser = a_wins ? *p.b : *p.a;
      End& loser_end = a_wins ? p.eb : p.ea;
      ASSERT_EQ(winner.status().state, TunnelState::kEstablished);
      ASSERT_EQ(loser.status().state, TunnelState::kEstablished);
      EXPECT_TRUE(winner.calling());
      EXPECT_FALSE(loser.calling());
      EXPECT_EQ(p.a->status().peer_tunnel_id, 200u);
      EXPECT_EQ(p.b->status().peer_tunnel_id, 100u);
      EXPECT_EQ(p.a->sessions()[0].state, SessionState::kEstablished);
      EXPECT_EQ(p.b->sessions()[0].state, SessionState::kEstablished);
      EXPECT_EQ(winner.stats().illegal + loser.stats().illegal, 0u);
      EXPECT_TRUE(
          std::any_of(loser_end.tunnel_log.begin(), loser_end.tunnel_log.end(), [](const TunnelStatus& t) {
            return t.message == "tie lost: answering the peer's SCCRQ";
          }));
      // Still one connection a minute later: no late SCCRQ copy tore it down.
      p.Run(2min);
      EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
      EXPECT_EQ(p.b->status().state, TunnelState::kEstablished);
      EXPECT_EQ(p.a->status().peer_tunnel_id, 200u);
    }
  }
}

TEST(ConnectionTest, EqualTieBreakersBothStartAgain) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, true, 200));
  p.a->Open(p.now);  // both ends' random bytes run 1, 2, 3...: the same tie breaker
  p.b->Open(p.now);
  p.Pump();
  EXPECT_EQ(p.a->status().state, TunnelState::kDown);
  EXPECT_EQ(p.b->status().state, TunnelState::kDown);
  EXPECT_THAT(p.a->status().message, HasSubstr("equal tie breakers"));
  p.eb.next_random = 200;  // the next attempt draws new values
  p.Run(5s);
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.b->status().state, TunnelState::kEstablished);
  EXPECT_NE(p.a->calling(), p.b->calling());
}

// An INITIATOR with no SCCRQ of its own outstanding answers the peer's; the
// connection it answered is handed over with that role.
TEST(ConnectionTest, AnInitiatorNotYetCallingAnswersThePeer) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, true, 200));
  p.a->AddSession(p.now, Pw(1, "pw-x"));
  p.b->AddSession(p.now, Pw(11, "pw-x"));
  p.a->Open(p.now);  // b never opens
  p.Run(2s);
  ASSERT_EQ(p.b->status().state, TunnelState::kEstablished);
  EXPECT_FALSE(p.b->calling());
  EXPECT_EQ(p.b->sessions()[0].state, SessionState::kEstablished);
  std::optional<ConnectionSnapshot> snap = p.b->Snapshot();
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->calling, false);
}

TEST(ConnectionTest, NoSnapshotWhileSomethingWaitsForAnAck) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->Open(p.now);
  EXPECT_FALSE(p.a->Snapshot().has_value()) << "not established";
  p.Run(2s);
  ASSERT_TRUE(p.a->Snapshot().has_value());
  p.a->AddSession(p.now, Pw(1, "pw-x"));  // ICRQ in flight, unacked
  EXPECT_FALSE(p.a->Snapshot().has_value());
}

TEST(ConnectionTest, ResponderWithoutTheSessionAnswersCdn) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->AddSession(p.now, Pw(1, "nobody-has-this"));
  p.a->Open(p.now);
  p.Run(1s);
  ASSERT_EQ(p.a->status().state, TunnelState::kEstablished);
  auto s = p.a->sessions();
  EXPECT_EQ(s[0].state, SessionState::kDown);
  EXPECT_THAT(s[0].message, HasSubstr("peer ended the session: result 2 (general error)"));
  EXPECT_THAT(s[0].message, HasSubstr("no session with remote end id \"nobody-has-this\""));
}

// An LNS with every call slot busy answers "facilities unavailable,
// temporary" (result 4): the caller may try again later.
TEST(ConnectionTest, AResponderWithEveryMatchingSessionBusyAnswersNoResources) {
  Pair p(Options(kL2tpV2, true, 5), Options(kL2tpV2, false, 6));
  p.a->AddSession(p.now, Pw(1, ""));
  p.a->AddSession(p.now, Pw(2, ""));
  p.b->AddSession(p.now, Pw(11, ""));  // one slot
  p.a->Open(p.now);
  p.Run(2s);
  ASSERT_EQ(p.a->status().state, TunnelState::kEstablished);
  auto s = p.a->sessions();
  ASSERT_EQ(s.size(), 2u);
  const int up = (s[0].state == SessionState::kEstablished) + (s[1].state == SessionState::kEstablished);
  EXPECT_EQ(up, 1);
  const SessionStatus& refused = s[0].state == SessionState::kEstablished ? s[1] : s[0];
  EXPECT_EQ(refused.state, SessionState::kDown);
  EXPECT_THAT(refused.message, HasSubstr("result 4 (facilities unavailable, temporary)"));
  EXPECT_THAT(refused.message, HasSubstr("no free call slot: all 1 in use"));
}

TEST(ConnectionTest, V2WithMatchingSecretsEstablishes) {
  TunnelOptions oa = Options(kL2tpV2, true, 5), ob = Options(kL2tpV2, false, 6);
  oa.secret = ob.secret = "s3cret";
  Pair p(oa, ob);
  p.a->AddSession(p.now, Pw(1, ""));
  p.b->AddSession(p.now, Pw(9, ""));
  p.a->Open(p.now);
  p.Run(1s);
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.b->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.a->sessions()[0].state, SessionState::kEstablished);
  EXPECT_EQ(p.a->sessions()[0].peer.session_id, 9u);
  EXPECT_EQ(p.a->stats().auth_failures + p.b->stats().auth_failures, 0u);
}

TEST(ConnectionTest, V2WithDifferentSecretsIsRefused) {
  TunnelOptions oa = Options(kL2tpV2, true, 5), ob = Options(kL2tpV2, false, 6);
  oa.secret = "one";
  ob.secret = "two";
  Pair p(oa, ob);
  p.a->Open(p.now);
  p.Run(2s);
  EXPECT_NE(p.a->status().state, TunnelState::kEstablished);
  EXPECT_NE(p.b->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.a->stats().auth_failures, 1u);
  EXPECT_THAT(p.a->status().message, HasSubstr("wrong challenge response"));
  EXPECT_THAT(p.b->status().last_stop_reason, HasSubstr("result 4"));
  EXPECT_THAT(p.a->status().last_stop_reason,
              HasSubstr("we stopped the tunnel: SCCRP: wrong challenge response"));
}

// The peer refuses our SCCRQ with a StopCCN before any SCCRP: its id comes
// only with that StopCCN, and our ack must be addressed to it (xl2tpd sends
// the StopCCN again, five times, to an ack for tunnel 0).
TEST(ConnectionTest, AStopccnRefusingOurSccrqIsAckedToThePeersId) {
  TunnelOptions oa = Options(kL2tpV2, true, 5), ob = Options(kL2tpV2, false, 6);
  oa.secret = "s3cret";  // a challenges; b has no secret and refuses
  Pair p(oa, ob);
  p.a->Open(p.now);
  p.Carry(p.ea, *p.b, true, "", p.now);
  ASSERT_TRUE(p.eb.Sent(MessageType::kStopccn));
  p.Carry(p.eb, *p.a, true, p.ea.secret, p.now);
  EXPECT_THAT(p.a->status().last_stop_reason, HasSubstr("peer stopped the tunnel: result 4"));
  for (int i = 0; i < 20; ++i) {  // past the ack delay
    p.now += 50ms;
    if (auto d = p.a->NextDeadline(); d && *d <= p.now) p.a->OnTimer(p.now);
  }
  ASSERT_FALSE(p.ea.wire.empty()) << "no ack sent";
  for (const auto& bytes : p.ea.wire) {
    auto m = DecodeControlMessage(bytes, Transport::kUdp, p.eb.secret);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->header.tunnel_id, 6u);
  }
}

TEST(ConnectionTest, StopccnBothWays) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->AddSession(p.now, Pw(1, "pw"));
  p.b->AddSession(p.now, Pw(2, "pw"));
  p.a->Open(p.now);
  p.Run(1s);
  ASSERT_EQ(p.b->sessions()[0].state, SessionState::kEstablished);
  p.b->Close(p.now, "shutting down");
  p.Run(1s);
  EXPECT_EQ(p.a->status().state, TunnelState::kClosing);
  EXPECT_THAT(p.a->status().last_stop_reason,
              HasSubstr("peer stopped the tunnel: result 1 (general request to clear"));
  EXPECT_THAT(p.a->status().last_stop_reason, HasSubstr("shutting down"));
  EXPECT_EQ(p.a->sessions()[0].state, SessionState::kDown);
  p.Run(60s);  // linger over; the initiator opens again and the responder answers
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.a->sessions()[0].state, SessionState::kEstablished);
}

TEST(ConnectionTest, SilentPeerGoesDownAfterTheRetriesAndComesBack) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->Open(p.now);
  p.Run(1s);
  ASSERT_EQ(p.a->status().state, TunnelState::kEstablished);
  p.b_to_a_open = p.a_to_b_open = false;  // b is stopped (kill -STOP)
  p.Run(60s);                             // the idle HELLO at 60 s
  p.Run(1s + 2s + 4s + 500ms);            // three retransmissions so far, still ESTABLISHED
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.a->status().retransmissions, 3u) << "the count shows while retransmitting";
  EXPECT_EQ(p.ea.tunnel_log.back().retransmissions, 3u);
  p.Run(7500ms + 8s + 8s);  // the rest and the last wait
  EXPECT_EQ(p.a->status().state, TunnelState::kDown);
  EXPECT_THAT(p.a->status().last_stop_reason, HasSubstr("peer silent"));
  EXPECT_GE(p.a->status().retransmissions, 5u);
  p.b_to_a_open = p.a_to_b_open = true;  // kill -CONT: b still thinks it is up
  p.Run(120s);
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.b->status().state, TunnelState::kEstablished);
  EXPECT_EQ(p.b->status().peer_tunnel_id, 100u);
}

// The idle period counts both directions (RFC 3931 section 4.4): the end with
// the shorter interval sends the HELLO, and the other's timer restarts.
TEST(ConnectionTest, HelloMeasuresTheRoundTrip) {
  TunnelOptions ob = Options(kL2tpV3, false, 200);
  ob.hello_interval = 120s;
  Pair p(Options(kL2tpV3, true, 100), ob);
  p.a->Open(p.now);
  p.Run(1s);
  EXPECT_FALSE(p.a->status().hello_rtt);
  p.Run(61s);
  EXPECT_TRUE(p.ea.Sent(MessageType::kHello));
  EXPECT_FALSE(p.eb.Sent(MessageType::kHello));
  ASSERT_TRUE(p.a->status().hello_rtt);
  EXPECT_LE(*p.a->status().hello_rtt, 1s);
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
}

TEST(ConnectionTest, UnknownMandatoryAvpStopsTheTunnel) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->Open(p.now);
  p.Run(1s);
  ControlMessage odd = BuildHello();
  odd.avps.push_back(Avp{.mandatory = true, .vendor_id = 0, .type = 250, .value = {1}});
  odd.header.version = kL2tpV3;
  odd.header.tunnel_id = 100;
  odd.header.ns = 1;  // next after the responder's SCCRP (Ns 0)
  odd.header.nr = 2;  // acks the SCCRQ and SCCCN
  p.a->Receive(p.now, odd);
  EXPECT_EQ(p.a->status().state, TunnelState::kClosing);
  EXPECT_THAT(p.a->status().message, HasSubstr("unknown mandatory"));
  EXPECT_EQ(p.a->stats().malformed, 1u);
  // The StopCCN says why, in codes: general error, unknown mandatory AVP.
  ASSERT_FALSE(p.ea.wire.empty());
  auto stop = DecodeControlMessage(p.ea.wire.back(), Transport::kUdp, "");
  ASSERT_TRUE(stop.ok()) << stop.status();
  ASSERT_EQ(stop->Type(), static_cast<uint16_t>(MessageType::kStopccn));
  auto rc = ReadResultCode(*stop);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->result, kStopGeneralError);
  EXPECT_EQ(rc->error, kErrorUnknownMandatoryAvp);
}

// 20% loss, duplication and reordering on the underlay: the connection and
// both sessions still come up, and stay up through the HELLOs.
TEST(ConnectionTest, ComesUpOverALossyUnderlay) {
  for (uint8_t v : {kL2tpV2, kL2tpV3}) {
    Pair p(Options(v, true, 100), Options(v, false, 200));
    p.loss = p.duplication = p.reordering = 0.2;
    p.a->AddSession(p.now, Pw(1, "pw-1"));
    p.a->AddSession(p.now, Pw(2, "pw-2"));
    p.b->AddSession(p.now, Pw(11, "pw-1"));
    p.b->AddSession(p.now, Pw(12, "pw-2"));
    p.a->Open(p.now);
    p.Run(60s);
    EXPECT_EQ(p.a->status().state, TunnelState::kEstablished)
        << "v" << int(v) << " " << p.a->status().message;
    EXPECT_EQ(p.b->status().state, TunnelState::kEstablished) << "v" << int(v);
    for (const auto& s : p.a->sessions()) EXPECT_EQ(s.state, SessionState::kEstablished) << "v" << int(v);
    for (const auto& s : p.b->sessions()) EXPECT_EQ(s.state, SessionState::kEstablished) << "v" << int(v);
    p.Run(300s);
    EXPECT_EQ(p.a->status().state, TunnelState::kEstablished)
        << "v" << int(v) << " " << p.a->status().last_stop_reason;
    EXPECT_GT(p.a->reliable_stats().duplicates + p.b->reliable_stats().duplicates, 0u);
  }
}

int Count(const End& e, MessageType t) {
  return static_cast<int>(std::count(e.sent_types.begin(), e.sent_types.end(), static_cast<uint16_t>(t)));
}

// A refused call is placed again with a backoff that doubles (1 s, 2 s,
// 4 s, ...), and goes through once the peer has the session.
TEST(ConnectionTest, TheCallerCallsAgainWithBackoffAfterACallEnds) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->AddSession(p.now, Pw(1, "pw-late"));
  p.a->Open(p.now);
  p.Run(7500ms);  // calls at about 0, 1, 3 and 7 s
  ASSERT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_EQ(Count(p.ea, MessageType::kIcrq), 4);
  EXPECT_EQ(p.a->sessions()[0].state, SessionState::kDown);
  p.b->AddSession(p.now, Pw(11, "pw-late"));
  p.Run(8s);  // the next at about 15 s
  EXPECT_EQ(Count(p.ea, MessageType::kIcrq), 5);
  EXPECT_EQ(p.a->sessions()[0].state, SessionState::kEstablished);
  EXPECT_EQ(p.b->sessions()[0].state, SessionState::kEstablished);
}

// HangUp ends the call with the CDN given; the answerer's session takes the
// caller's next call (L2TPv2: any idle session), which comes after 1 s.
TEST(ConnectionTest, AHungUpCallIsFollowedByTheNext) {
  for (uint8_t version : {kL2tpV2, kL2tpV3}) {
    Pair p(Options(version, true, 5), Options(version, false, 6));
    p.a->AddSession(p.now, Pw(1, "pw"));
    p.b->AddSession(p.now, Pw(11, "pw"));
    p.a->Open(p.now);
    p.Run(1s);
    ASSERT_EQ(p.b->sessions()[0].state, SessionState::kEstablished);
    const uint32_t first_peer = p.b->sessions()[0].peer.session_id;

    p.a->HangUp(p.now, 1, ResultCode{kCdnGeneralError, kErrorGeneric, "pppd exited: LCP echo timeout"});
    EXPECT_EQ(p.a->sessions()[0].state, SessionState::kDown);
    EXPECT_THAT(p.a->sessions()[0].message, HasSubstr("we ended the call: pppd exited: LCP echo timeout"));
    p.Pump();
    // The answerer saw the reason, and waits for the next call.
    bool saw_reason = false;
    for (const SessionStatus& s : p.eb.session_log) {
      saw_reason |= s.state == SessionState::kDown &&
                    s.message.find("pppd exited: LCP echo timeout") != std::string::npos;
    }
    EXPECT_TRUE(saw_reason) << int(version);
    EXPECT_EQ(p.b->sessions()[0].state, SessionState::kIdle);
    EXPECT_THAT(p.b->sessions()[0].message, HasSubstr("waiting for the next call"));

    p.Run(500ms);
    EXPECT_EQ(p.a->sessions()[0].state, SessionState::kDown) << "no call again before the backoff";
    p.Run(1s);
    EXPECT_EQ(p.a->sessions()[0].state, SessionState::kEstablished) << int(version);
    EXPECT_EQ(p.b->sessions()[0].state, SessionState::kEstablished) << int(version);
    EXPECT_EQ(p.b->sessions()[0].peer.session_id, first_peer);
    EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  }
}

// A session hung up by the answerer is called again by the caller too; the
// backoff grows while calls end at once, and a call that lasted resets it.
TEST(ConnectionTest, TheBackoffGrowsUntilACallLasts) {
  Pair p(Options(kL2tpV3, true, 100), Options(kL2tpV3, false, 200));
  p.a->AddSession(p.now, Pw(1, "pw"));
  p.b->AddSession(p.now, Pw(11, "pw"));
  p.a->Open(p.now);
  p.Run(1s);
  auto hang_up_when_up = [&](Duration within) {
    const TimePoint end = p.now + within;
    while (p.now < end && p.b->sessions()[0].state != SessionState::kEstablished) p.Run(50ms);
    const TimePoint up = p.now;
    p.b->HangUp(p.now, 11, ResultCode{kCdnGeneralError, kErrorGeneric, "the peer failed to authenticate"});
    p.Pump();
    return up;
  };
  TimePoint t0 = hang_up_when_up(1s);
  TimePoint t1 = hang_up_when_up(5s);
  TimePoint t2 = hang_up_when_up(5s);
  EXPECT_GE(t1 - t0, 950ms);
  EXPECT_LE(t1 - t0, 1200ms);
  EXPECT_GE(t2 - t1, 1950ms);
  EXPECT_LE(t2 - t1, 2200ms);
  p.Run(5s);  // the third call is up; it lasts over a minute
  ASSERT_EQ(p.a->sessions()[0].state, SessionState::kEstablished);
  p.Run(61s);
  TimePoint t3 = hang_up_when_up(1s);
  TimePoint t4 = hang_up_when_up(5s);
  EXPECT_LE(t4 - t3, 1200ms) << "a call that lasted starts the backoff over";
}

// A peer that acknowledges our ICRQ but never answers it: the call is given
// up after kCallSetupTimeout with a CDN, and placed again.
TEST(ConnectionTest, ACallNotSetUpInTimeIsGivenUpAndPlacedAgain) {
  TunnelOptions ob = Options(kL2tpV3, false, 200);
  ob.retransmit_retries = 100;  // the answerer keeps resending its ICRP
  Pair p(Options(kL2tpV3, true, 100), ob);
  p.ea.renumber_from = 1000;  // as the agent does: a late ICRP of the old call finds no session
  p.eb.renumber_from = 2000;
  p.a->AddSession(p.now, Pw(1, "pw"));
  p.b->AddSession(p.now, Pw(11, "pw"));
  p.drop = [](const ControlMessage& m) { return m.Type() == static_cast<uint16_t>(MessageType::kIcrp); };
  p.drop_keeps_ack = true;  // our ICRQ is acknowledged, never answered
  p.a->Open(p.now);
  p.Run(59s);
  EXPECT_EQ(p.a->sessions()[0].state, SessionState::kWaitReply);
  EXPECT_EQ(Count(p.ea, MessageType::kIcrq), 1);
  p.Run(2s);
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
  EXPECT_TRUE(p.ea.Sent(MessageType::kCdn));
  bool gave_up = false;
  for (const SessionStatus& s : p.ea.session_log) {
    gave_up |= s.message.find("no ICRP from the peer within 60 s of its ack of our ICRQ") !=
               std::string::npos;
  }
  EXPECT_TRUE(gave_up);
  p.drop = nullptr;
  p.Run(3s);
  // Placed again after 1 s, under a fresh session id.
  EXPECT_EQ(Count(p.ea, MessageType::kIcrq), 2);
  EXPECT_EQ(p.a->sessions()[0].local_session_id, 1000u);
  EXPECT_EQ(p.a->status().state, TunnelState::kEstablished);
}

// Hundreds of calls at once: placed as the send queue makes room, every one
// sent (none refused by a full queue and lost), all up.
TEST(ConnectionTest, ThreeHundredCallsAtOnceAreAllPlacedAndComeUp) {
  Pair p(Options(kL2tpV2, true, 5), Options(kL2tpV2, false, 6));
  p.a->Open(p.now);
  p.Run(1s);
  ASSERT_EQ(p.a->status().state, TunnelState::kEstablished);
  for (uint32_t i = 1; i <= 300; ++i) {
    p.b->AddSession(p.now, Pw(1000 + i, ""));
    p.a->AddSession(p.now, Pw(i, ""));
  }
  p.Run(30s);
  int up = 0;
  for (const SessionStatus& s : p.a->sessions()) up += s.state == SessionState::kEstablished;
  EXPECT_EQ(up, 300);
  EXPECT_EQ(Count(p.ea, MessageType::kIcrq), 300);
  EXPECT_EQ(Count(p.ea, MessageType::kIccn), 300);
}

}  // namespace
}  // namespace l2tp::control
