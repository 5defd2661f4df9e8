// The encapsulation overhead of every variant and the MTU arithmetic built
// on it (datapath/encap_overhead.h); the underlay probes' answers where
// there is nothing to probe (datapath/underlay_mtu.h).
#include "datapath/encap_overhead.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "datapath/underlay_mtu.h"

namespace l2tp {
namespace {

struct Variant {
  bool ipv6;
  Encap encap;
  size_t cookie;
  L2Spec l2spec;
  uint32_t overhead;
};

std::string Name(const Variant& v) {
  return std::string(v.ipv6 ? "ipv6" : "ipv4") + (v.encap == Encap::kUdp ? "/udp" : "/ip") + "/cookie" +
         std::to_string(v.cookie) + (v.l2spec == L2Spec::kDefault ? "/sublayer" : "/no-sublayer");
}

// Outer IP (20 or 40) + UDP 8 and its L2TPv3 flags word 4 (UDP only) +
// session id 4 + cookie + sublayer 4 (default only) + Ethernet 14.
const std::vector<Variant> kVariants = {
    {false, Encap::kUdp, 0, L2Spec::kNone, 50}, {false, Encap::kUdp, 0, L2Spec::kDefault, 54},
    {false, Encap::kUdp, 4, L2Spec::kNone, 54}, {false, Encap::kUdp, 4, L2Spec::kDefault, 58},
    {false, Encap::kUdp, 8, L2Spec::kNone, 58}, {false, Encap::kUdp, 8, L2Spec::kDefault, 62},
    {false, Encap::kIp, 0, L2Spec::kNone, 38},  {false, Encap::kIp, 0, L2Spec::kDefault, 42},
    {false, Encap::kIp, 4, L2Spec::kNone, 42},  {false, Encap::kIp, 4, L2Spec::kDefault, 46},
    {false, Encap::kIp, 8, L2Spec::kNone, 46},  {false, Encap::kIp, 8, L2Spec::kDefault, 50},
    {true, Encap::kUdp, 0, L2Spec::kNone, 70},  {true, Encap::kUdp, 0, L2Spec::kDefault, 74},
    {true, Encap::kUdp, 4, L2Spec::kNone, 74},  {true, Encap::kUdp, 4, L2Spec::kDefault, 78},
    {true, Encap::kUdp, 8, L2Spec::kNone, 78},  {true, Encap::kUdp, 8, L2Spec::kDefault, 82},
    {true, Encap::kIp, 0, L2Spec::kNone, 58},   {true, Encap::kIp, 0, L2Spec::kDefault, 62},
    {true, Encap::kIp, 4, L2Spec::kNone, 62},   {true, Encap::kIp, 4, L2Spec::kDefault, 66},
    {true, Encap::kIp, 8, L2Spec::kNone, 66},   {true, Encap::kIp, 8, L2Spec::kDefault, 70},
};

TEST(EncapOverhead, EveryVariant) {
  for (const Variant& v : kVariants) {
    EXPECT_EQ(EncapOverhead(v.ipv6, v.encap, v.cookie, v.l2spec), v.overhead) << Name(v);
  }
}

TEST(EncapOverhead, FromConfigsCountsTheCookieSent) {
  for (const Variant& v : kVariants) {
    TunnelConfig t;
    t.encap = v.encap;
    t.local = *IpAddress::Parse(v.ipv6 ? "2001:db8::1" : "192.0.2.1");
    SessionConfig s;
    s.cookie.assign(v.cookie, 0xab);
    s.peer_cookie.assign(8 - v.cookie, 0xcd);  // the peer's cookie costs us nothing on send
    s.l2spec = v.l2spec;
    EXPECT_EQ(EncapOverhead(t, s), v.overhead) << Name(v);
  }
}

// The MTUs ip-l2tp(8) and the kernel's l2tp_eth give on a 1500-byte underlay.
TEST(EncapOverhead, RightSizedOn1500IsTheKernels) {
  EXPECT_EQ(RightSizedMtu(1500, EncapOverhead(false, Encap::kUdp, 0, L2Spec::kDefault)), 1446u);
  EXPECT_EQ(RightSizedMtu(1500, EncapOverhead(false, Encap::kUdp, 8, L2Spec::kDefault)), 1438u);
  EXPECT_EQ(RightSizedMtu(1500, EncapOverhead(false, Encap::kIp, 0, L2Spec::kDefault)), 1458u);
  EXPECT_EQ(RightSizedMtu(1500, EncapOverhead(true, Encap::kUdp, 0, L2Spec::kDefault)), 1426u);
  EXPECT_EQ(RightSizedMtu(1500, EncapOverhead(true, Encap::kIp, 0, L2Spec::kNone)), 1442u);
  for (const Variant& v : kVariants) {
    const uint32_t mtu = RightSizedMtu(1500, v.overhead);
    EXPECT_EQ(mtu, 1500 - v.overhead) << Name(v);
    EXPECT_EQ(FragmentingBytes(mtu, v.overhead, 1500), 0u) << Name(v);      // fits exactly
    EXPECT_EQ(FragmentingBytes(mtu + 1, v.overhead, 1500), 1u) << Name(v);  // one byte more does not
  }
}

TEST(EncapOverhead, RightSizedFollowsTheUnderlay) {
  EXPECT_EQ(RightSizedMtu(9000, 54), 8946u);
  EXPECT_EQ(RightSizedMtu(1400, 58), 1342u);
  EXPECT_EQ(RightSizedMtu(65536, 54), 65481u);  // loopback: capped at IPv4's 65535
  EXPECT_EQ(RightSizedMtu(54 + 68, 54), 68u);   // the least an interface takes
}

TEST(EncapOverhead, UnknownOrTinyUnderlayFallsBackTo1500) {
  EXPECT_EQ(RightSizedMtu(0, 54), 1446u);
  EXPECT_EQ(RightSizedMtu(54 + 67, 54), 1446u);
  EXPECT_EQ(RightSizedMtu(20, 54), 1446u);  // no underflow
}

TEST(EncapOverhead, FragmentingBytesSayByHowMuch) {
  // Issue 15's case: MTU 1450 on a 1500-byte veth, IPv4/UDP, 4-byte cookie,
  // default sublayer (58 bytes): 8 bytes over.
  EXPECT_EQ(FragmentingBytes(1450, 58, 1500), 8u);
  EXPECT_EQ(FragmentingBytes(1400, 58, 1500), 0u);
  EXPECT_EQ(FragmentingBytes(1600, 54, 1500), 154u);
  EXPECT_EQ(FragmentingBytes(9000, 54, 0), 0u);        // underlay unknown: nothing to say
  EXPECT_EQ(FragmentingBytes(65535, 54, 65536), 54u);  // capped as RightSizedMtu
}

TEST(UnderlayMtu, NothingToProbeIsUnknown) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ConnectedSocketMtu(fd, AF_INET), 0u);  // not connected: no route
  close(fd);
  EXPECT_EQ(ConnectedSocketMtu(-1, AF_INET), 0u);
  EXPECT_EQ(RouteMtu(TunnelConfig{}), 0u);  // no remote
}

}  // namespace
}  // namespace l2tp
