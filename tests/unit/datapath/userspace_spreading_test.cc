// Spreading a session over the I/O threads (datapath/userspace/README.md):
// transmit through a multi-queue TAP, receive by handing packets to the
// session's replicas by inner flow; what stays on one thread (sequenced
// sessions, frames without ports) and what survives churn. Needs
// CAP_NET_ADMIN, and CAP_BPF for the TAP steering program (skipped without).
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "datapath/userspace/flow_hash.h"
#include "datapath/userspace/userspace_datapath.h"
#include "tests/unit/datapath/private_netns.h"
#include "tests/unit/datapath/userspace_fixture.h"

namespace l2tp::userspace {
namespace {

// No IPv6 on new links: no router solicitations or MLD reports on the
// TAPs to interleave with (and take sequence numbers from) test frames.
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(
    new private_netns::Environment({private_netns::kIpv6OffAllLinks, private_netns::kIpv6OffNewLinks}));

// An IPv4/UDP frame of flow `flow` (its source port and address differ per
// flow) carrying "SPRD" and `index`: what the steering program hashes.
std::vector<uint8_t> FlowFrame(uint16_t flow, uint32_t index) {
  auto f = Hex("0200000000020200000000010800");
  const uint16_t total = 20 + 8 + 8;
  auto ip = Hex("4500000000000000401100000a6300010a630002");  // 10.99.0.1 -> 10.99.0.2, UDP
  ip[2] = total >> 8;
  ip[3] = total & 0xff;
  ip[15] = static_cast<uint8_t>(flow);  // source 10.99.0.<flow>
  f = Concat(f, ip);
  f = Concat(f, {uint8_t(0x80 | flow >> 8), uint8_t(flow), 0x00, 0x09, 0x00, 0x10, 0x00, 0x00});
  f = Concat(f, {'S', 'P', 'R', 'D', uint8_t(index >> 24), uint8_t(index >> 16), uint8_t(index >> 8),
                 uint8_t(index)});
  while (f.size() < 60) f.push_back(0);
  return f;
}

// The index of the FlowFrame an L2TP packet (12 bytes of header: UDP word,
// session id, sublayer) carries, if it carries one.
std::optional<uint32_t> FlowFrameIndex(const std::vector<uint8_t>& packet) {
  constexpr size_t kMarker = 12 + 14 + 20 + 8;
  if (packet.size() < kMarker + 8 || std::memcmp(packet.data() + kMarker, "SPRD", 4) != 0)
    return std::nullopt;
  const uint8_t* i = packet.data() + kMarker + 4;
  return uint32_t{i[0]} << 24 | i[1] << 16 | i[2] << 8 | i[3];
}
bool CarriesFlowFrame(const std::vector<uint8_t>& packet) { return FlowFrameIndex(packet).has_value(); }

// What the spreading cases start from: a UDP tunnel with its far end, and
// session 0x10 on a new TAP.
struct SpreadCase {
  TunnelConfig tunnel;
  std::optional<Peer> peer;
  SessionConfig session;
};

class UserspaceSpreadingTest : public UserspaceDatapathTest {
 protected:
  // Creates c's tunnel `tid`, its peer and the session on `ifname`, which
  // `adjust` may change first; skips where the TAP cannot be spread.
  void OpenSpreadCase(SpreadCase& c, uint32_t tid, const std::string& ifname, bool lns_mode,
                      std::function<void(SessionConfig&)> adjust = nullptr) {
    if (!dp_->spreads_tx()) GTEST_SKIP() << "no TAP steering program here (needs CAP_BPF)";
    c.tunnel = UdpTunnel(tid);
    ASSERT_TRUE(dp_->CreateTunnel(c.tunnel).ok());
    c.peer.emplace(Encap::kUdp, c.tunnel);
    ASSERT_TRUE(c.peer->ok());
    c.session = Session(tid, 0x10, ifname);
    c.session.lns_mode = lns_mode;
    if (adjust) adjust(c.session);
    ASSERT_TRUE(dp_->CreateSession(c.session).ok());
  }
};
INSTANTIATE_TEST_SUITE_P(Io, UserspaceSpreadingTest, ::testing::Values(IoMode::kUring, IoMode::kEpoll),
                         [](const auto& info) { return ModeName(info.param); });

// Transmit spreading: a session without sequence numbers is read from one
// TAP queue per I/O thread, and different flows leave from both threads;
// one that sends sequence numbers stays on one thread, its numbers in order
// across flows. Every frame leaves exactly once either way, and the
// session's counters add up what every thread sent.
TEST_P(UserspaceSpreadingTest, TransmitIsSpreadOverThreadsBySessionsWithoutSequencing) {
  constexpr uint32_t kFrames = 256;
  constexpr uint16_t kFlows = 64;
  for (bool sequenced : {false, true}) {
    SCOPED_TRACE(sequenced ? "sequence numbers" : "no sequence numbers");
    SpreadCase setup;
    ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, sequenced ? 2 : 1, sequenced ? "usdspread1" : "usdspread0",
                                           true, [&](SessionConfig& s) { s.send_sequence = sequenced; }));
    if (IsSkipped()) return;
    auto& [t, peer, s] = setup;
    for (uint32_t i = 0; i < kFrames; ++i) SendOnInterface(s.interface_name, FlowFrame(i % kFlows + 1, i));

    std::vector<int> seen(kFrames, 0);
    std::vector<uint32_t> sequence;
    for (uint32_t got = 0; got < kFrames; ++got) {
      auto p = peer->ReceiveMatching(CarriesFlowFrame);
      if (p.empty()) {
        auto threads = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
        std::string counts;
        for (const Counters& c : threads.ok() ? *threads : std::vector<Counters>{}) {
          counts += " " + std::to_string(c.tx_packets) + "/" + std::to_string(c.tx_errors);
        }
        FAIL() << "frame " << got << " of " << kFrames
               << " did not arrive; sent/errors per thread:" << counts;
      }
      const uint32_t index = *FlowFrameIndex(p);
      ASSERT_LT(index, kFrames);
      ++seen[index];
      sequence.push_back(uint32_t{p[9]} << 16 | p[10] << 8 | p[11]);
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(kFrames)) << "each frame once";

    auto by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
    ASSERT_TRUE(by_thread.ok()) << by_thread.status();
    uint64_t sum = 0;
    for (const Counters& c : *by_thread) sum += c.tx_packets;
    EXPECT_EQ(sum, kFrames);
    EXPECT_EQ(
        WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.tx_packets >= kFrames; }).tx_packets,
        kFrames);
    if (sequenced) {
      EXPECT_EQ(by_thread->size(), 1u) << "a sequenced session sends from one thread";
      for (uint32_t i = 0; i < kFrames; ++i) ASSERT_EQ(sequence[i], i) << "sequence numbers in order";
    } else {
      ASSERT_EQ(by_thread->size(), 2u) << "one replica on the second thread";
      EXPECT_GT((*by_thread)[0].tx_packets, 0u) << "the tunnel's thread sent some flows";
      EXPECT_GT((*by_thread)[1].tx_packets, 0u) << "the replica sent others";
      // Turning sequence numbers on takes the replica away; off brings it back.
      s.send_sequence = true;
      ASSERT_TRUE(dp_->ModifySession(s).ok());
      EXPECT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 1u);
      EXPECT_EQ(WaitSession(t.tunnel_id, 0x10, [](const Counters&) { return true; }).tx_packets, kFrames)
          << "what the replica sent still counts";
      s.send_sequence = false;
      ASSERT_TRUE(dp_->ModifySession(s).ok());
      EXPECT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 2u);
    }
    ASSERT_TRUE(dp_->DeleteSession(t.tunnel_id, 0x10).ok());
    EXPECT_EQ(if_nametoindex(s.interface_name.c_str()), 0u) << "the TAP goes with its last queue";
  }
}

// Frames without ports (ICMP here, whose checksum and identifier vary from
// frame to frame) all leave from the tunnel's own thread, the one that
// received what they may answer: no other thread is woken for them.
TEST_P(UserspaceSpreadingTest, FramesWithoutPortsLeaveFromTheTunnelsThread) {
  constexpr uint32_t kFrames = 64;
  SpreadCase setup;
  ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, 6, "usdpicmp0", true));
  if (IsSkipped()) return;
  auto& [t, peer, s] = setup;
  for (uint32_t i = 0; i < kFrames; ++i) {
    std::vector<uint8_t> f = FlowFrame(static_cast<uint16_t>(i + 1), i);
    f[14 + 9] = 1;  // ICMP: the "ports" are now type, code and checksum
    f[14 + 20] = 8;
    f[14 + 22] = static_cast<uint8_t>(i * 37);
    f[14 + 23] = static_cast<uint8_t>(i * 91);
    SendOnInterface(s.interface_name, f);
  }
  for (uint32_t i = 0; i < kFrames; ++i) {
    ASSERT_FALSE(peer->ReceiveMatching(CarriesFlowFrame).empty()) << "frame " << i;
  }
  auto by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
  ASSERT_TRUE(by_thread.ok() && by_thread->size() == 2u);
  EXPECT_EQ((*by_thread)[0].tx_packets, kFrames);
  EXPECT_EQ((*by_thread)[1].tx_packets, 0u);
  ASSERT_TRUE(dp_->DeleteTunnel(t.tunnel_id).ok());
}

// A LAC (lns_mode off) that does not send sequence numbers starts sending
// them when its peer does, as Linux's does; frames sent by replicas would
// leave without, so the session goes back to one thread (at the next
// Observe) while it sends them, its counters kept, and is spread again
// once the peer stops.
TEST_P(UserspaceSpreadingTest, LacFollowingItsPeersSequencingSendsFromOneThread) {
  constexpr uint16_t kFlows = 64;
  SpreadCase setup;
  ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, 4, "usdplac0", false));
  if (IsSkipped()) return;
  auto& [t, peer, s] = setup;
  ASSERT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 2u);
  for (uint32_t i = 0; i < kFlows; ++i) SendOnInterface(s.interface_name, FlowFrame(i + 1, i));
  for (uint32_t i = 0; i < kFlows; ++i) ASSERT_FALSE(peer->ReceiveMatching(CarriesFlowFrame).empty()) << i;
  const uint64_t sent = WaitSession(t.tunnel_id, 0x10, [&](const Counters& k) {
                          return k.tx_packets >= kFlows;
                        }).tx_packets;

  peer->Send(Concat(Hex("000300000000001040000000"), TestFrame(1)));  // sequence number 0
  WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= 1; });
  EXPECT_EQ(Observe().sessions.size(), 1u);
  EXPECT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 1u) << "back to one thread";
  EXPECT_GE(WaitSession(t.tunnel_id, 0x10, [](const Counters&) { return true; }).tx_packets, sent)
      << "the replicas' counts are kept";
  for (uint32_t i = 0; i < kFlows; ++i) SendOnInterface(s.interface_name, FlowFrame(i + 1, kFlows + i));
  std::vector<uint32_t> numbers;
  for (uint32_t i = 0; i < kFlows; ++i) {
    auto p = peer->ReceiveMatching(CarriesFlowFrame);
    ASSERT_FALSE(p.empty()) << i;
    ASSERT_EQ(p[8] & 0x40, 0x40) << "frame " << i << " left without a sequence number";
    numbers.push_back(uint32_t{p[9]} << 16 | p[10] << 8 | p[11]);
  }
  for (uint32_t i = 1; i < kFlows; ++i) EXPECT_EQ(numbers[i], numbers[i - 1] + 1) << "one series, in order";

  peer->Send(Concat(Hex("000300000000001000000000"), TestFrame(2)));  // none: the LAC stops
  WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= 2; });
  Observe();
  EXPECT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 2u) << "spread again";
  ASSERT_TRUE(dp_->DeleteSession(t.tunnel_id, 0x10).ok());
  ASSERT_TRUE(dp_->DeleteTunnel(t.tunnel_id).ok());
}

// Receive spreading: what the tunnel receives for a spread session is
// written to the TAP from both threads, each flow from one of them and in
// order; every frame arrives once, and the session's counters add up both
// threads. Sequenced packets, and every packet of a session that requires
// sequence numbers, are received on the tunnel's own thread. Epoll mode
// does not spread receiving.
TEST_P(UserspaceSpreadingTest, ReceiveIsSpreadOverThreadsByFlow) {
  constexpr uint32_t kFrames = 256;
  constexpr uint16_t kFlows = 64;
  SpreadCase setup;
  ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, 3, "usdprx0", true));
  if (IsSkipped()) return;
  EXPECT_EQ(dp_->spreads_rx(), GetParam() == IoMode::kUring);
  auto& [t, peer, s] = setup;
  ASSERT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 2u);
  Capture capture(s.interface_name, ETH_P_IP);
  auto packet = [](uint32_t i, std::optional<uint32_t> seq) {
    std::vector<uint8_t> sublayer = {0, 0, 0, 0};
    if (seq) sublayer = {0x40, uint8_t(*seq >> 16), uint8_t(*seq >> 8), uint8_t(*seq)};
    return Concat(Concat(Hex("0003000000000010"), sublayer), FlowFrame(i % kFlows + 1, i));
  };
  // Reads frames until `count` marked ones arrived (a USO frame written to
  // the TAP carries several: each datagram's 8 bytes after the first's
  // headers); returns their indices in arrival order per flow.
  auto receive = [&](uint32_t count) {
    std::map<uint8_t, std::vector<uint32_t>> by_flow;
    uint32_t got = 0;
    while (got < count) {
      std::vector<uint8_t> f = capture.Next();
      if (f.empty()) {
        ADD_FAILURE() << "only " << got << " of " << count << " frames arrived";
        break;
      }
      if (f.size() < 42 || f[14 + 9] != 17) continue;
      const size_t end = std::min(f.size(), size_t{14} + (f[16] << 8 | f[17]));
      for (size_t at = 42; at + 8 <= end; at += 8) {
        if (std::memcmp(&f[at], "SPRD", 4) != 0) continue;
        by_flow[f[14 + 15]].push_back(uint32_t{f[at + 4]} << 24 | f[at + 5] << 16 | f[at + 6] << 8 |
                                      f[at + 7]);
        ++got;
      }
    }
    return by_flow;
  };

  // Every flow in each batch: one GSO send of 64 packets, one per flow.
  for (uint32_t i = 0; i < kFrames; i += kFlows) {
    std::vector<std::vector<uint8_t>> batch;
    for (uint32_t k = i; k < i + kFlows; ++k) batch.push_back(packet(k, std::nullopt));
    peer->SendGso(batch);
  }
  std::set<uint32_t> seen;
  for (const auto& [flow, indices] : receive(kFrames)) {
    for (size_t k = 0; k < indices.size(); ++k) {
      EXPECT_TRUE(seen.insert(indices[k]).second) << "frame " << indices[k] << " twice";
      if (k > 0) {
        EXPECT_LT(indices[k - 1], indices[k]) << "flow " << int{flow} << " out of order";
      }
    }
  }
  EXPECT_EQ(seen.size(), kFrames);
  EXPECT_EQ(
      WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= kFrames; }).rx_packets,
      kFrames);
  auto by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
  ASSERT_TRUE(by_thread.ok() && by_thread->size() == 2u);
  EXPECT_EQ((*by_thread)[0].rx_packets + (*by_thread)[1].rx_packets, kFrames);
  EXPECT_GT((*by_thread)[0].rx_packets, 0u) << "the tunnel's thread wrote some flows";
  if (dp_->spreads_rx()) {
    EXPECT_GT((*by_thread)[1].rx_packets, 0u) << "the replica wrote others";
  } else {
    EXPECT_EQ((*by_thread)[1].rx_packets, 0u);
  }
  uint64_t replica_before = (*by_thread)[1].rx_packets;

  // A batch of one flow only, one that belongs to the replica's thread:
  // nothing to do in parallel, so the tunnel's thread writes it itself
  // (once what it handed over before is done, as it is by now).
  uint16_t remote_flow = 1;
  while (InnerFlowHash(FlowFrame(remote_flow, 0)) % 2 != 1) ++remote_flow;
  {
    std::vector<std::vector<uint8_t>> batch;
    for (uint32_t k = 0; k < kFlows; ++k) batch.push_back(packet(kFrames + k * kFlows + remote_flow - 1, {}));
    peer->SendGso(batch);
    uint32_t got = 0;
    for (const auto& [flow, indices] : receive(kFlows)) {
      EXPECT_EQ(flow, remote_flow);
      got += indices.size();
    }
    EXPECT_EQ(got, kFlows);
    WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= kFrames + kFlows; });
    by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
    EXPECT_EQ((*by_thread)[1].rx_packets, replica_before) << "a single flow is received where it arrives";
    EXPECT_EQ((*by_thread)[0].rx_packets + (*by_thread)[1].rx_packets, kFrames + kFlows);
  }

  // Sequenced packets of every flow: all on the tunnel's thread, in order.
  for (uint32_t i = 0; i < kFlows; ++i) peer->Send(packet(2 * kFrames + i, i));
  uint32_t sequenced = 0;
  for (const auto& [flow, indices] : receive(kFlows)) sequenced += indices.size();
  EXPECT_EQ(sequenced, kFlows);
  by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
  EXPECT_EQ((*by_thread)[1].rx_packets, replica_before) << "sequenced packets stay on one thread";
  EXPECT_EQ((*by_thread)[0].rx_seq_discards, 0u);

  // Sequence numbers required: nothing is spread; the unsequenced packets
  // are all judged (and dropped) on the tunnel's thread.
  s.require_sequence = true;
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  for (uint32_t i = 0; i < kFlows; ++i) peer->Send(packet(i, std::nullopt));
  Counters c = WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_seq_discards >= kFlows; });
  EXPECT_EQ(c.rx_seq_discards, kFlows);
  by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
  EXPECT_EQ((*by_thread)[1].rx_seq_discards, 0u);
  EXPECT_EQ((*by_thread)[0].rx_seq_discards, kFlows);
  ASSERT_TRUE(dp_->DeleteSession(t.tunnel_id, 0x10).ok());
  ASSERT_TRUE(dp_->DeleteTunnel(t.tunnel_id).ok());
}

// Receive spreading under churn: while batches of many flows arrive (so
// that packets are handed to the replica and in flight there), the session
// loses and regains its replicas (sequence numbers on and off), sessions
// come and go beside it, and Observe runs. Every packet is still counted
// once and nothing is lost; afterwards a long run still arrives whole (no
// ring buffer stayed held).
TEST_P(UserspaceSpreadingTest, ReceiveSpreadingLosesNothingThroughChurn) {
  constexpr uint32_t kFlows = 64, kBatches = 32;
  SpreadCase setup;
  ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, 5, "usdpchurn0", false));
  if (IsSkipped()) return;
  auto& [t, peer, steady] = setup;
  auto send_batches = [&](uint32_t batches, std::chrono::milliseconds pause) {
    for (uint32_t b = 0; b < batches; ++b) {
      std::vector<std::vector<uint8_t>> batch;
      for (uint32_t k = 0; k < kFlows; ++k) {
        batch.push_back(Concat(Hex("000300000000001000000000"), FlowFrame(k + 1, b * kFlows + k)));
      }
      peer->SendGso(batch);
      std::this_thread::sleep_for(pause);
    }
  };
  std::thread traffic([&] { send_batches(kBatches, std::chrono::milliseconds(3)); });
  for (int round = 0; round < 10; ++round) {
    steady.send_sequence = round % 2 == 0;  // replicas go, and come back
    EXPECT_TRUE(dp_->ModifySession(steady).ok());
    EXPECT_TRUE(dp_->CreateSession(Session(t.tunnel_id, 0x20, "usdpchurn1")).ok());
    EXPECT_TRUE(dp_->Observe().ok());
    EXPECT_TRUE(dp_->DeleteSession(t.tunnel_id, 0x20).ok());
  }
  traffic.join();
  constexpr uint64_t kPackets = kFlows * kBatches;
  Counters c = WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= kPackets; });
  EXPECT_EQ(c.rx_packets, kPackets);
  EXPECT_EQ(c.rx_errors, 0u);

  steady.send_sequence = false;
  ASSERT_TRUE(dp_->ModifySession(steady).ok());
  send_batches(4 * kBatches, std::chrono::milliseconds(1));
  c = WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= 5 * kPackets; });
  EXPECT_EQ(c.rx_packets, 5 * kPackets);
  EXPECT_EQ(c.rx_errors, 0u);
  if (dp_->spreads_rx()) {
    auto by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
    ASSERT_TRUE(by_thread.ok() && by_thread->size() == 2u);
    EXPECT_GT((*by_thread)[1].rx_packets, 0u) << "spread again after the churn";
  }
  ASSERT_TRUE(dp_->DeleteTunnel(t.tunnel_id).ok());
}

// A TAP left single-queue by an agent that did not spread (or an older one)
// is re-attached as it is by one that does: the session works, unspread.
TEST_P(UserspaceSpreadingTest, SingleQueueTapFromBeforeIsReattachedUnspread) {
  {
    auto plain = UserspaceDatapath::Create(2, GetParam(), "default", /*spread_tx=*/false);
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_FALSE((*plain)->spreads_tx());
    ASSERT_TRUE((*plain)->CreateTunnel(UdpTunnel(1)).ok());
    ASSERT_TRUE((*plain)->CreateSession(Session(1, 1, "usdpsq0")).ok());
    EXPECT_EQ((*plain)->SessionCountersByThread(1, 1)->size(), 1u);
  }  // that agent stops; its TAP stays
  if (!dp_->spreads_tx()) GTEST_SKIP() << "no TAP steering program here (needs CAP_BPF)";
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdpsq0")).ok());
  EXPECT_EQ(dp_->SessionCountersByThread(1, 1)->size(), 1u) << "a single-queue TAP gets no replica";
  SendOnInterface("usdpsq0", TestFrame(0x12));
  EXPECT_FALSE(peer.ReceiveTest(12).empty()) << "frames still leave";
  ASSERT_TRUE(dp_->DeleteSession(1, 1).ok());
  EXPECT_EQ(if_nametoindex("usdpsq0"), 0u);
}

}  // namespace
}  // namespace l2tp::userspace
