// UserspaceDatapath end to end inside a private network namespace: control
// semantics (ids, errors, TAP lifecycle), MTU sizing, and the packet path
// against a test peer socket on loopback. Spreading over the I/O threads is
// in userspace_spreading_test.cc. Needs CAP_NET_ADMIN (skipped without it).
#include "datapath/userspace/userspace_datapath.h"

#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/seccomp.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "datapath/userspace/tunnel_socket.h"
#include "tests/unit/datapath/private_netns.h"
#include "tests/unit/datapath/userspace_fixture.h"

namespace l2tp::userspace {
namespace {

// No IPv6 on new links: no router solicitations or MLD reports on the
// TAPs to interleave with (and take sequence numbers from) test frames.
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(
    new private_netns::Environment({private_netns::kIpv6OffAllLinks, private_netns::kIpv6OffNewLinks}));

int IfMtu(const std::string& name) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  int mtu = ioctl(s, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : -1;
  close(s);
  return mtu;
}

bool IfUp(const std::string& name) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  bool up = ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
  close(s);
  return up;
}

INSTANTIATE_TEST_SUITE_P(Io, UserspaceDatapathTest, ::testing::Values(IoMode::kUring, IoMode::kEpoll),
                         [](const auto& info) { return ModeName(info.param); });

TEST_P(UserspaceDatapathTest, ControlErrorsMatchTheKernelsRules) {
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(dp_->CreateTunnel(UdpTunnel(1))));
  EXPECT_TRUE(absl::IsNotFound(dp_->DeleteTunnel(9)));
  EXPECT_TRUE(absl::IsNotFound(dp_->CreateSession(Session(9, 1, "usdp0"))));
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(dp_->CreateSession(Session(1, 1, "usdp1"))));
  EXPECT_TRUE(absl::IsAlreadyExists(dp_->CreateSession(Session(1, 2, "usdp0"))));
  SessionConfig bad_cookie = Session(1, 3, "usdp3");
  bad_cookie.cookie = {1, 2, 3};
  EXPECT_TRUE(absl::IsInvalidArgument(dp_->CreateSession(bad_cookie)));
  SessionConfig renamed = Session(1, 1, "usdp9");
  EXPECT_TRUE(absl::IsInvalidArgument(dp_->ModifySession(renamed)));
  EXPECT_TRUE(absl::IsNotFound(dp_->ModifySession(Session(1, 7, "usdp0"))));
  EXPECT_TRUE(absl::IsNotFound(dp_->DeleteSession(1, 7)));
  EXPECT_TRUE(absl::IsNotFound(dp_->DeleteSession(9, 1)));
  TunnelConfig v2 = UdpTunnel(5);
  v2.version = 2;
  EXPECT_TRUE(absl::IsInvalidArgument(dp_->CreateTunnel(v2)));
}

TEST_P(UserspaceDatapathTest, IpEncapSessionIdsAreUniquePerNamespace) {
  TunnelConfig ip = UdpTunnel(2);
  ip.encap = Encap::kIp;
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  ASSERT_TRUE(dp_->CreateTunnel(ip).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 5, "usdp0")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(dp_->CreateSession(Session(2, 5, "usdp1"))));
  EXPECT_TRUE(dp_->CreateSession(Session(2, 6, "usdp1")).ok());
  // UDP tunnels only need per-tunnel uniqueness.
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(3)).ok());
  EXPECT_TRUE(dp_->CreateSession(Session(3, 5, "usdp2")).ok());
}

TEST_P(UserspaceDatapathTest, ObserveModifyDeleteLifecycle) {
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  SessionConfig s = Session(1, 1, "usdp0");
  s.cookie = {1, 2, 3, 4};
  s.peer_cookie = {5, 6, 7, 8, 9, 10, 11, 12};
  s.mtu = 1400;
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  EXPECT_EQ(IfMtu("usdp0"), 1400);
  EXPECT_TRUE(IfUp("usdp0"));

  Observation obs = Observe();
  ASSERT_EQ(obs.tunnels.size(), 1u);
  EXPECT_EQ(obs.tunnels[0].config, UdpTunnel(1));
  ASSERT_EQ(obs.sessions.size(), 1u);
  EXPECT_EQ(obs.sessions[0].config, s);

  s.send_sequence = true;
  s.reorder_timeout_ms = 50;
  s.mtu = 1300;
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  EXPECT_EQ(IfMtu("usdp0"), 1300);
  EXPECT_EQ(Observe().sessions.at(0).config, s);

  ASSERT_TRUE(dp_->DeleteSession(1, 1).ok());
  EXPECT_EQ(if_nametoindex("usdp0"), 0u);  // TAP removed
  ASSERT_TRUE(dp_->CreateSession(Session(1, 2, "usdp1")).ok());
  ASSERT_TRUE(dp_->DeleteTunnel(1).ok());
  EXPECT_EQ(if_nametoindex("usdp1"), 0u);  // sessions die with their tunnel
  EXPECT_TRUE(Observe().sessions.empty());
}

// An underlay of a chosen MTU: the veth usdpu0 holds the tunnels' local
// addresses (10.77.0.1, fd77::1) and reaches their remotes, on-link at its
// own MTU (10.77.0.0/24, fd77::/64) or through a route that sets 1400
// (10.78.0.0/24, fd78::/64). Nothing answers there: the MTU is the route's.
class Underlay {
 public:
  explicit Underlay(int mtu) {
    system("ip link del usdpu0 2>/dev/null");  // left by a failed run
    ok_ = Run("ip link add usdpu0 mtu " + std::to_string(mtu) + " type veth peer name usdpu1") &&
          Run("echo 0 >/proc/sys/net/ipv6/conf/usdpu0/disable_ipv6") && Run("ip link set usdpu1 up") &&
          Run("ip link set usdpu0 up") && Run("ip addr add 10.77.0.1/24 dev usdpu0") &&
          Run("ip -6 addr add fd77::1/64 dev usdpu0 nodad") &&
          Run("ip route add 10.78.0.0/24 dev usdpu0 mtu 1400") &&
          Run("ip -6 route add fd78::/64 dev usdpu0 mtu 1400");
  }
  ~Underlay() { system("ip link del usdpu0 2>/dev/null"); }
  bool ok() const { return ok_; }
  bool SetMtu(int mtu) {
    return Run("ip link set usdpu1 mtu " + std::to_string(mtu)) &&
           Run("ip link set usdpu0 mtu " + std::to_string(mtu));
  }

 private:
  static bool Run(const std::string& command) { return system(command.c_str()) == 0; }
  bool ok_ = false;
};

TunnelConfig UnderlayTunnel(uint32_t id, bool ipv6, Encap encap, const char* remote) {
  TunnelConfig t = UdpTunnel(id);
  t.encap = encap;
  t.local = *IpAddress::Parse(ipv6 ? "fd77::1" : "10.77.0.1");
  t.remote = *IpAddress::Parse(remote);
  return t;
}

// Worked out here by hand, not by encap_overhead.h: outer IP, UDP and its
// L2TPv3 flags word, session id, cookie, sublayer, inner Ethernet header.
uint32_t Overhead(bool ipv6, Encap encap, size_t cookie, L2Spec l2spec) {
  return (ipv6 ? 40 : 20) + (encap == Encap::kUdp ? 8 + 4 : 0) + 4 + static_cast<uint32_t>(cookie) +
         (l2spec == L2Spec::kDefault ? 4 : 0) + 14;
}

const ObservedSession* FindObserved(const Observation& obs, uint32_t tunnel_id, uint32_t session_id) {
  for (const auto& s : obs.sessions) {
    if (s.config.tunnel_id == tunnel_id && s.config.session_id == session_id) return &s;
  }
  return nullptr;
}

// An unset MTU is the underlay's less the exact overhead, for every variant.
TEST_P(UserspaceDatapathTest, UnsetMtuIsTheUnderlaysLessTheOverhead) {
  Underlay underlay(1500);
  ASSERT_TRUE(underlay.ok());
  uint32_t tid = 0, sid = 0;
  for (bool ipv6 : {false, true}) {
    for (Encap encap : {Encap::kUdp, Encap::kIp}) {
      ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(++tid, ipv6, encap, ipv6 ? "fd77::2" : "10.77.0.2")).ok());
      for (size_t cookie : {0, 4, 8}) {
        for (L2Spec l2spec : {L2Spec::kDefault, L2Spec::kNone}) {
          const std::string what = std::string(ipv6 ? "ipv6" : "ipv4") +
                                   (encap == Encap::kUdp ? "/udp" : "/ip") + "/cookie " +
                                   std::to_string(cookie) + (l2spec == L2Spec::kNone ? "/no sublayer" : "");
          ++sid;
          SessionConfig s = Session(tid, sid, "usdpm" + std::to_string(sid));
          s.cookie.assign(cookie, 0x5a);
          s.l2spec = l2spec;
          ASSERT_TRUE(dp_->CreateSession(s).ok()) << what;
          EXPECT_EQ(IfMtu(s.interface_name), static_cast<int>(1500 - Overhead(ipv6, encap, cookie, l2spec)))
              << what;
          const Observation obs = Observe();
          const ObservedSession* o = FindObserved(obs, tid, sid);
          ASSERT_NE(o, nullptr) << what;
          EXPECT_EQ(o->config.mtu, 0u) << what;  // as asked: the spec compares equal
          EXPECT_EQ(o->underlay_mtu, 1500u) << what;
          EXPECT_EQ(o->fragmenting_bytes, 0u) << what;
        }
      }
    }
  }
  for (uint32_t t = 1; t <= tid; ++t) EXPECT_TRUE(dp_->DeleteTunnel(t).ok());
}

// The route's MTU counts where it is below the device's. After a change of
// the underlay a right-sized TAP is observed with its MTU (no longer what
// mtu 0 asks for), and modifying it with mtu 0 sizes it again.
TEST_P(UserspaceDatapathTest, UnsetMtuFollowsTheRouteAndItsChanges) {
  Underlay underlay(1500);
  ASSERT_TRUE(underlay.ok());
  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(1, false, Encap::kUdp, "10.78.0.2")).ok());
  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(2, true, Encap::kIp, "fd78::2")).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdpm1")).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(2, 2, "usdpm2")).ok());
  EXPECT_EQ(IfMtu("usdpm1"), 1400 - 54);
  EXPECT_EQ(IfMtu("usdpm2"), 1400 - 62);
  EXPECT_EQ(FindObserved(Observe(), 1, 1)->underlay_mtu, 1400u);

  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(3, false, Encap::kUdp, "10.77.0.2")).ok());
  SessionConfig s = Session(3, 3, "usdpm3");
  SessionConfig set = Session(3, 4, "usdpm4");
  set.mtu = 1300;
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  ASSERT_TRUE(dp_->CreateSession(set).ok());
  EXPECT_EQ(IfMtu("usdpm3"), 1446);
  ASSERT_TRUE(underlay.SetMtu(9000));
  Observation obs = Observe();
  EXPECT_EQ(FindObserved(obs, 3, 3)->underlay_mtu, 9000u);
  EXPECT_EQ(FindObserved(obs, 3, 3)->config.mtu, 1446u);  // not right-sized any more
  EXPECT_EQ(FindObserved(obs, 3, 4)->config, set);        // a set MTU is what it is
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  EXPECT_EQ(IfMtu("usdpm3"), 9000 - 54);
  set.mtu = 0;  // unset: sized for the underlay as it is now
  ASSERT_TRUE(dp_->ModifySession(set).ok());
  EXPECT_EQ(IfMtu("usdpm4"), 9000 - 54);
  obs = Observe();
  EXPECT_EQ(FindObserved(obs, 3, 3)->config, s);
  EXPECT_EQ(FindObserved(obs, 3, 4)->config, set);
  for (uint32_t t = 1; t <= 3; ++t) EXPECT_TRUE(dp_->DeleteTunnel(t).ok());
}

// A set MTU that does not fit is taken, as Linux takes it, and the
// observation says by how much every full-size frame is over.
TEST_P(UserspaceDatapathTest, OversizedMtuIsAcceptedAndReported) {
  Underlay underlay(1500);
  ASSERT_TRUE(underlay.ok());
  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(1, false, Encap::kUdp, "10.77.0.2")).ok());
  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(2, true, Encap::kUdp, "fd78::2")).ok());
  SessionConfig s = Session(1, 1, "usdpm1");
  s.cookie = {1, 2, 3, 4};
  s.mtu = 1450;  // issue 15's: 1450 + 58 is 8 bytes over 1500
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  EXPECT_EQ(IfMtu("usdpm1"), 1450);
  SessionConfig v6 = Session(2, 2, "usdpm2");
  v6.mtu = 1400;  // 1400 + 74 over a route of 1400
  ASSERT_TRUE(dp_->CreateSession(v6).ok());
  Observation obs = Observe();
  ASSERT_NE(FindObserved(obs, 1, 1), nullptr);
  EXPECT_EQ(FindObserved(obs, 1, 1)->config, s);
  EXPECT_EQ(FindObserved(obs, 1, 1)->underlay_mtu, 1500u);
  EXPECT_EQ(FindObserved(obs, 1, 1)->fragmenting_bytes, 8u);
  EXPECT_EQ(FindObserved(obs, 2, 2)->underlay_mtu, 1400u);
  EXPECT_EQ(FindObserved(obs, 2, 2)->fragmenting_bytes, 74u);

  s.mtu = 1442;  // fits exactly
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  EXPECT_EQ(FindObserved(Observe(), 1, 1)->fragmenting_bytes, 0u);
  s.mtu = 9000;
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  EXPECT_EQ(IfMtu("usdpm1"), 9000);
  EXPECT_EQ(FindObserved(Observe(), 1, 1)->fragmenting_bytes, 9000u + 58 - 1500);
  ASSERT_TRUE(underlay.SetMtu(9000 + 58));  // the underlay grows: the same MTU now just fits
  EXPECT_EQ(FindObserved(Observe(), 1, 1)->fragmenting_bytes, 0u);
  EXPECT_TRUE(dp_->DeleteTunnel(1).ok());
  EXPECT_TRUE(dp_->DeleteTunnel(2).ok());
}

TEST_P(UserspaceDatapathTest, TapDeletedBehindOurBackIsDropped) {
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  ASSERT_EQ(system("ip link del usdp0"), 0);
  EXPECT_TRUE(Observe().sessions.empty());
  EXPECT_EQ(Observe().tunnels.size(), 1u);
  // The agent's repair: create it again.
  EXPECT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  EXPECT_NE(if_nametoindex("usdp0"), 0u);
}

TEST_P(UserspaceDatapathTest, PersistentTapIsReattachedAfterRestart) {
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  unsigned index = if_nametoindex("usdp0");
  ASSERT_EQ(system("ip addr add 10.200.0.1/24 dev usdp0"), 0);
  dp_.reset();  // agent stops: the TAP stays, with what users put on it
  EXPECT_EQ(if_nametoindex("usdp0"), index);

  auto dp = UserspaceDatapath::Create(1, GetParam());
  ASSERT_TRUE(dp.ok());
  dp_ = std::move(*dp);
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  EXPECT_EQ(if_nametoindex("usdp0"), index);
  EXPECT_EQ(system("ip -4 addr show dev usdp0 | grep -q 10.200.0.1"), 0);
  ASSERT_TRUE(dp_->DeleteTunnel(1).ok());
}

TEST_P(UserspaceDatapathTest, NameOfAnotherKindOfLinkIsRefused) {
  ASSERT_EQ(system("ip link add usdpdummy type veth peer name usdpdummy1"), 0);
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  EXPECT_FALSE(dp_->CreateSession(Session(1, 1, "usdpdummy")).ok());
  system("ip link del usdpdummy");
}

struct PathCase {
  Encap encap;
  std::vector<uint8_t> cookie;
  L2Spec l2spec;
  bool send_sequence;
};

class UserspacePacketPathTest : public DatapathFixture,
                                public ::testing::WithParamInterface<std::tuple<IoMode, PathCase>> {
 protected:
  void SetUp() override { Start(std::get<0>(GetParam())); }
};

TEST_P(UserspacePacketPathTest, EncapsulatesAndDecapsulates) {
  const PathCase& c = std::get<1>(GetParam());
  TunnelConfig t = UdpTunnel(1);
  t.encap = c.encap;
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  Peer peer(c.encap, t);
  ASSERT_TRUE(peer.ok());
  SessionConfig s = Session(1, 0x10, "usdp0");
  s.peer_session_id = 0x20;
  s.cookie = c.cookie;
  s.peer_cookie = c.cookie;
  s.l2spec = c.l2spec;
  s.send_sequence = c.send_sequence;
  s.lns_mode = true;  // keep our numbering fixed whatever the peer does
  ASSERT_TRUE(dp_->CreateSession(s).ok());

  std::vector<uint8_t> udp_word = c.encap == Encap::kUdp ? Hex("00030000") : std::vector<uint8_t>{};
  auto sublayer = [&](uint32_t seq) -> std::vector<uint8_t> {
    if (c.l2spec == L2Spec::kNone) return {};
    if (!c.send_sequence) return Hex("00000000");
    return {0x40, uint8_t(seq >> 16), uint8_t(seq >> 8), uint8_t(seq)};
  };
  size_t header_len = udp_word.size() + 4 + c.cookie.size() + sublayer(0).size();

  // Transmit: a frame sent on the TAP leaves as exactly header + frame.
  for (uint32_t seq = 0; seq < 2; ++seq) {
    SendOnInterface("usdp0", TestFrame(0x11));
    std::vector<uint8_t> want = Concat(Concat(Concat(udp_word, Hex("00000020")), c.cookie),
                                       Concat(sublayer(seq), TestFrame(0x11)));
    EXPECT_EQ(peer.ReceiveTest(header_len), want) << "seq " << seq;
  }

  // Receive: a packet for our session lands on the TAP.
  Capture capture("usdp0");
  std::vector<uint8_t> in = Concat(Concat(Concat(udp_word, Hex("00000010")), c.cookie),
                                   Concat(sublayer(0), TestFrame(0x22)));
  peer.Send(in);
  EXPECT_EQ(capture.Next(), TestFrame(0x22));
  Counters got = WaitSession(1, 0x10, [](const Counters& k) { return k.rx_packets >= 1; });
  EXPECT_EQ(got.rx_packets, 1u);
  EXPECT_EQ(got.rx_bytes, in.size());
  EXPECT_GE(got.tx_packets, 2u);
  EXPECT_EQ(WaitTunnel(1, [](const Counters& k) { return k.rx_packets >= 1; }).rx_bytes, in.size());
}

INSTANTIATE_TEST_SUITE_P(
    Variants, UserspacePacketPathTest,
    ::testing::Combine(
        ::testing::Values(IoMode::kUring, IoMode::kEpoll),
        ::testing::Values(PathCase{Encap::kUdp, {}, L2Spec::kDefault, false},
                          PathCase{Encap::kUdp, {1, 2, 3, 4}, L2Spec::kNone, false},
                          PathCase{Encap::kUdp, {1, 2, 3, 4, 5, 6, 7, 8}, L2Spec::kDefault, true},
                          PathCase{Encap::kIp, {}, L2Spec::kNone, false},
                          PathCase{Encap::kIp, {9, 8, 7, 6}, L2Spec::kDefault, true},
                          PathCase{Encap::kIp, {1, 2, 3, 4, 5, 6, 7, 8}, L2Spec::kDefault, false})),
    [](const auto& info) {
      return ModeName(std::get<0>(info.param)) + "_" + std::to_string(info.index % 6);
    });

// A peer that is not listening answers with ICMP port unreachable, which the
// socket reports on its next receive (an error completion in io_uring mode,
// EPOLLERR in epoll mode). The tunnel keeps receiving afterwards.
TEST_P(UserspaceDatapathTest, IcmpErrorsDoNotStopTheTunnel) {
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 0x10, "usdp0")).ok());
  for (int i = 0; i < 3; ++i) {
    SendOnInterface("usdp0", TestFrame(0x55));  // to 127.0.0.2, where nobody listens
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(WaitSession(1, 0x10, [](const Counters& k) { return k.tx_packets >= 3; }).tx_packets, 3u);
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  Capture capture("usdp0");
  peer.Send(Concat(Hex("000300000000001000000000"), TestFrame(0x66)));
  EXPECT_EQ(capture.Next(), TestFrame(0x66));
  SendOnInterface("usdp0", TestFrame(0x77));
  EXPECT_FALSE(peer.ReceiveTest(12).empty());
}

TEST_P(UserspaceDatapathTest, BadPacketsAreDroppedAndCounted) {
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  SessionConfig s = Session(1, 0x10, "usdp0");
  s.peer_cookie = Hex("a1a2a3a4");
  s.require_sequence = true;
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  auto frame = TestFrame(0x33);

  peer.Send(Hex("000300"));                                           // short: invalid
  peer.Send(Concat(Hex("0002000000000010a1a2a3a440000000"), frame));  // version 2: invalid
  peer.Send(Concat(Hex("0003000000000077a1a2a3a440000000"), frame));  // unknown session
  peer.Send(Hex("c803000c0000000100000000"));                         // control message
  peer.Send(Hex("0003000000000010a1a2"));                             // truncated cookie
  peer.Send(Hex("0003000000000010a1a2a3a44000"));                     // truncated sublayer
  peer.Send(Hex("0003000000000010a1a2a3a440000000aabb"));             // frame too short
  peer.Send(Concat(Hex("0003000000000010b1b2b3b440000000"), frame));  // bad cookie
  peer.Send(Concat(Hex("0003000000000010a1a2a3a400000000"), frame));  // no sequence
  peer.Send(Concat(Hex("0003000000000010a1a2a3a440000000"), frame));  // good

  Counters session = WaitSession(1, 0x10, [](const Counters& k) { return k.rx_packets >= 1; });
  Counters tunnel = WaitTunnel(1, [](const Counters& k) { return k.rx_packets >= 1; });
  EXPECT_EQ(session.rx_packets, 1u);
  EXPECT_EQ(session.rx_cookie_discards, 1u);
  EXPECT_EQ(session.rx_seq_discards, 1u);
  EXPECT_EQ(session.rx_errors, 2u);
  EXPECT_EQ(tunnel.rx_invalid, 5u);
  EXPECT_EQ(tunnel.rx_errors, 2u);  // unknown session + control message
  EXPECT_EQ(tunnel.rx_packets, 1u);
}

// IPv4 UDP tunnels send zero checksums unless asked (as Linux does); GSO
// sends need checksums on, and the socket goes back to zero checksums for
// the plain datagrams that follow.
TEST_P(UserspaceDatapathTest, ZeroUdpChecksumsComeBackAfterGsoSends) {
  TunnelConfig t = UdpTunnel(7);
  ASSERT_FALSE(t.udp_checksum);
  auto sock = TunnelSocket::Open(t);
  ASSERT_TRUE(sock.ok()) << sock.status();
  Peer peer(Encap::kUdp, t);  // a listener, so no ICMP error comes back
  ASSERT_TRUE(peer.ok());
  int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);  // sees every UDP packet
  ASSERT_GE(raw, 0);
  // The UDP checksum field of the next packet to the tunnel's peer port.
  auto next_checksum = [&]() -> int {
    for (int tries = 0; tries < 100; ++tries) {
      pollfd p{raw, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) return -1;
      uint8_t buf[65536];
      ssize_t n = recv(raw, buf, sizeof buf, 0);
      if (n < 28) continue;
      const uint8_t* udp = buf + (buf[0] & 0x0f) * 4;
      if ((udp[2] << 8 | udp[3]) == t.udp_destination_port) return udp[6] << 8 | udp[7];
    }
    return -1;
  };
  std::vector<uint8_t> data(4 * 100, 0x5a);
  auto plain = [&] {
    sock->PreparePlainSend();
    ASSERT_EQ(send(sock->fd(), data.data(), 100, 0), 100);
  };
  plain();
  EXPECT_EQ(next_checksum(), 0) << "plain datagram before any GSO send";
  const iovec all{data.data(), data.size()};
  ASSERT_TRUE(sock->SendGso({&all, 1}, 100)) << strerror(errno);
  EXPECT_GT(next_checksum(), 0) << "GSO send";
  plain();
  EXPECT_EQ(next_checksum(), 0) << "plain datagram after a GSO send";
  plain();
  EXPECT_EQ(next_checksum(), 0) << "second plain datagram";
  close(raw);
}

TEST_P(UserspaceDatapathTest, ReorderQueueIsReleasedByTheTimer) {
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  SessionConfig s = Session(1, 0x10, "usdp0");
  s.reorder_timeout_ms = 100;
  s.lns_mode = true;
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  auto packet = [&](uint8_t seq) {
    return Concat(Hex("0003000000000010"), Concat({0x40, 0, 0, seq}, TestFrame(seq)));
  };
  Capture capture("usdp0");
  peer.Send(packet(0));
  auto start = std::chrono::steady_clock::now();
  peer.Send(packet(2));  // 1 never comes: 2 waits, expires; 3 is then delivered
  // Later than 2 by more than the timer's wake-up latency, so 3 has not
  // expired yet when 2 does.
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  peer.Send(packet(3));
  EXPECT_EQ(capture.Next(), TestFrame(0));
  EXPECT_EQ(capture.Next(), TestFrame(3));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(95));
  Counters c = WaitSession(1, 0x10, [](const Counters& k) { return k.rx_packets >= 2; });
  EXPECT_EQ(c.rx_packets, 2u);
  EXPECT_EQ(c.rx_seq_discards, 1u);
}

TEST_P(UserspaceDatapathTest, ControlChangesDuringTrafficDoNotDisturbOtherSessions) {
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(2)).ok());
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  SessionConfig steady = Session(1, 0x10, "usdp0");
  ASSERT_TRUE(dp_->CreateSession(steady).ok());

  constexpr int kPackets = 2000;
  std::thread traffic([&] {
    auto packet = Concat(Hex("000300000000001000000000"), TestFrame(0x44));
    for (int i = 0; i < kPackets; ++i) {
      peer.Send(packet);
      if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  // Meanwhile: churn sessions next to it, in its tunnel and in another one,
  // modify it, and observe.
  for (int round = 0; round < 20; ++round) {
    EXPECT_TRUE(dp_->CreateSession(Session(1, 0x20, "usdp1")).ok());
    EXPECT_TRUE(dp_->CreateSession(Session(2, 0x30, "usdp2")).ok());
    steady.mtu = round % 2 ? 1400 : 1300;
    steady.reorder_timeout_ms = round % 2 ? 0 : 20;
    EXPECT_TRUE(dp_->ModifySession(steady).ok());
    EXPECT_TRUE(dp_->Observe().ok());
    EXPECT_TRUE(dp_->DeleteSession(1, 0x20).ok());
    EXPECT_TRUE(dp_->DeleteTunnel(2).ok());
    EXPECT_TRUE(dp_->CreateTunnel(UdpTunnel(2)).ok());
  }
  traffic.join();
  Counters c = WaitSession(1, 0x10, [](const Counters& k) { return k.rx_packets >= kPackets; });
  EXPECT_EQ(c.rx_packets, static_cast<uint64_t>(kPackets));
  EXPECT_EQ(c.rx_errors, 0u);
}

#if defined(__x86_64__)
// In a child process: refuses io_uring_setup with EPERM, as container
// runtimes' default seccomp profiles do, then checks what the datapath makes
// of it. Exits 0 when all is as it should be.
[[noreturn]] void CheckDatapathWithIoUringRefused() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    _exit(10);
  }
  // auto runs on epoll; an explicit io_uring fails and says why.
  auto fallback = UserspaceDatapath::Create(1, IoMode::kAuto);
  if (!fallback.ok() || (*fallback)->io() != "epoll") _exit(11);
  fallback->reset();
  auto refused = UserspaceDatapath::Create(1, IoMode::kUring);
  if (refused.ok() || refused.status().message().find("io_uring") == std::string::npos) _exit(12);
  _exit(0);
}
#endif

// Container runtimes' default seccomp profiles refuse io_uring (seccomp
// cannot be undone, so a child process installs the filter).
TEST(UserspaceDatapathIo, FallsBackToEpollWhereSeccompRefusesIoUring) {
#if defined(__x86_64__)
  EXPECT_EXIT(CheckDatapathWithIoUringRefused(), ::testing::ExitedWithCode(0), "");
#else
  GTEST_SKIP() << "the filter is written for x86-64 system call numbers";
#endif
}

}  // namespace
}  // namespace l2tp::userspace
