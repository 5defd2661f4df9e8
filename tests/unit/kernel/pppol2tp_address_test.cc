// The four PPPoL2TP connect addresses, byte for byte. The expected bytes are
// written out by hand from the layouts in <linux/if_pppox.h> and
// <linux/if_pppol2tp.h> (the outer sockaddr_pppol2tp* structs are packed: the
// inner address starts at offset 6; the inner structs keep their natural
// alignment: sockaddr_in/in6 at 4-byte boundaries inside them). pid, fd and
// the ids are host order (little-endian here), the port and address network
// order.
#include "datapath/kernel/pppol2tp_address.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <vector>

namespace l2tp::kernel {
namespace {

std::vector<uint8_t> Bytes(const PppoL2tpAddress& a) { return {a.bytes().begin(), a.bytes().end()}; }

PppoL2tpTarget V2(const char* peer) {
  PppoL2tpTarget t;
  t.version = 2;
  t.tunnel_fd = 7;
  t.peer = *IpAddress::Parse(peer);
  t.peer_port = 1701;  // 0x06a5
  t.tunnel_id = 0x1234;
  t.session_id = 0x5678;
  t.peer_tunnel_id = 0x9abc;
  t.peer_session_id = 0xdef0;
  return t;
}

PppoL2tpTarget V3(const char* peer) {
  PppoL2tpTarget t = V2(peer);
  t.version = 3;
  t.tunnel_id = 0x11223344;
  t.session_id = 0x55667788;
  t.peer_tunnel_id = 0x99aabbcc;
  t.peer_session_id = 0xddeeff01;
  return t;
}

class PppoL2tpAddressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::endian::native != std::endian::little) GTEST_SKIP() << "golden bytes are little-endian";
  }
};

TEST_F(PppoL2tpAddressTest, L2tpV2Ipv4IsSockaddrPppol2tp) {
  auto a = BuildPppoL2tpAddress(V2("192.0.2.2"));
  ASSERT_TRUE(a.ok()) << a.status();
  const std::vector<uint8_t> want = {
      0x18, 0x00,                                      // 0  sa_family AF_PPPOX (24)
      0x01, 0x00, 0x00, 0x00,                          // 2  sa_protocol PX_PROTO_OL2TP
      0x00, 0x00, 0x00, 0x00,                          // 6  pid 0
      0x07, 0x00, 0x00, 0x00,                          // 10 fd 7
      0x02, 0x00,                                      // 14 sin_family AF_INET
      0x06, 0xa5,                                      // 16 sin_port 1701
      0xc0, 0x00, 0x02, 0x02,                          // 18 sin_addr 192.0.2.2
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // 22 sin_zero
      0x34, 0x12,                                      // 30 s_tunnel
      0x78, 0x56,                                      // 32 s_session
      0xbc, 0x9a,                                      // 34 d_tunnel
      0xf0, 0xde,                                      // 36 d_session
  };
  EXPECT_EQ(a->length, 38u);
  EXPECT_EQ(Bytes(*a), want);
}

TEST_F(PppoL2tpAddressTest, L2tpV2Ipv6IsSockaddrPppol2tpin6WithIdsBeforeTheAddress) {
  auto a = BuildPppoL2tpAddress(V2("2001:db8::2"));
  ASSERT_TRUE(a.ok()) << a.status();
  const std::vector<uint8_t> want = {
      0x18, 0x00,              // 0  sa_family
      0x01, 0x00, 0x00, 0x00,  // 2  sa_protocol
      0x00, 0x00, 0x00, 0x00,  // 6  pid
      0x07, 0x00, 0x00, 0x00,  // 10 fd
      0x34, 0x12,              // 14 s_tunnel
      0x78, 0x56,              // 16 s_session
      0xbc, 0x9a,              // 18 d_tunnel
      0xf0, 0xde,              // 20 d_session
      0x0a, 0x00,              // 22 sin6_family AF_INET6
      0x06, 0xa5,              // 24 sin6_port
      0x00, 0x00, 0x00, 0x00,  // 26 sin6_flowinfo
      0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  // 30 sin6_addr 2001:db8::2
      0x00, 0x00, 0x00, 0x00,                          // 46 sin6_scope_id
  };
  EXPECT_EQ(a->length, 50u);
  EXPECT_EQ(Bytes(*a), want);
}

TEST_F(PppoL2tpAddressTest, L2tpV3Ipv4IsSockaddrPppol2tpv3With32BitIds) {
  auto a = BuildPppoL2tpAddress(V3("192.0.2.2"));
  ASSERT_TRUE(a.ok()) << a.status();
  const std::vector<uint8_t> want = {
      0x18, 0x00,                                      // 0  sa_family
      0x01, 0x00, 0x00, 0x00,                          // 2  sa_protocol
      0x00, 0x00, 0x00, 0x00,                          // 6  pid
      0x07, 0x00, 0x00, 0x00,                          // 10 fd
      0x02, 0x00, 0x06, 0xa5, 0xc0, 0x00, 0x02, 0x02,  // 14 sockaddr_in
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //    sin_zero
      0x44, 0x33, 0x22, 0x11,                          // 30 s_tunnel
      0x88, 0x77, 0x66, 0x55,                          // 34 s_session
      0xcc, 0xbb, 0xaa, 0x99,                          // 38 d_tunnel
      0x01, 0xff, 0xee, 0xdd,                          // 42 d_session
  };
  EXPECT_EQ(a->length, 46u);
  EXPECT_EQ(Bytes(*a), want);
}

TEST_F(PppoL2tpAddressTest, L2tpV3Ipv6IsSockaddrPppol2tpv3in6) {
  auto a = BuildPppoL2tpAddress(V3("2001:db8::2"));
  ASSERT_TRUE(a.ok()) << a.status();
  const std::vector<uint8_t> want = {
      0x18, 0x00,              // 0  sa_family
      0x01, 0x00, 0x00, 0x00,  // 2  sa_protocol
      0x00, 0x00, 0x00, 0x00,  // 6  pid
      0x07, 0x00, 0x00, 0x00,  // 10 fd
      0x44, 0x33, 0x22, 0x11,  // 14 s_tunnel
      0x88, 0x77, 0x66, 0x55,  // 18 s_session
      0xcc, 0xbb, 0xaa, 0x99,  // 22 d_tunnel
      0x01, 0xff, 0xee, 0xdd,  // 26 d_session
      0x0a, 0x00, 0x06, 0xa5,  // 30 sin6_family, sin6_port
      0x00, 0x00, 0x00, 0x00,  // 34 sin6_flowinfo
      0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  // 38 sin6_addr
      0x00, 0x00, 0x00, 0x00,                          // 54 sin6_scope_id
  };
  EXPECT_EQ(a->length, 58u);
  EXPECT_EQ(Bytes(*a), want);
}

TEST_F(PppoL2tpAddressTest, L2tpV3TakesTheWhole32Bits) {
  PppoL2tpTarget t = V3("192.0.2.2");
  t.session_id = 0xffffffff;
  auto a = BuildPppoL2tpAddress(t);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(std::vector<uint8_t>(a->bytes().begin() + 34, a->bytes().begin() + 38),
            (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff}));
}

TEST(PppoL2tpAddress, L2tpV2IdsAbove16BitsAreRefusedNamingTheField) {
  for (const char* field : {"tunnel_id", "session_id", "peer_tunnel_id", "peer_session_id"}) {
    PppoL2tpTarget t = V2("192.0.2.2");
    uint32_t* id = std::string(field) == "tunnel_id"        ? &t.tunnel_id
                   : std::string(field) == "session_id"     ? &t.session_id
                   : std::string(field) == "peer_tunnel_id" ? &t.peer_tunnel_id
                                                            : &t.peer_session_id;
    *id = 65536;
    auto a = BuildPppoL2tpAddress(t);
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(a.status().message().find(std::string(field) +
                                        " 65536 does not fit L2TPv2's 16 bits (at most 65535)"),
              absl::string_view::npos)
        << a.status();
    *id = 65535;
    EXPECT_TRUE(BuildPppoL2tpAddress(t).ok()) << field;
    *id = 0;
    a = BuildPppoL2tpAddress(t);
    EXPECT_NE(a.status().message().find(std::string(field) + " must not be 0"), absl::string_view::npos)
        << a.status();
  }
}

TEST(PppoL2tpAddress, OtherRefusals) {
  PppoL2tpTarget t = V3("192.0.2.2");
  t.version = 4;
  EXPECT_EQ(BuildPppoL2tpAddress(t).status().message(),
            "PPPoL2TP address for session 287454020/1432778632: version 4: L2TP versions are 2 and 3");
  t = V2("192.0.2.2");
  t.tunnel_fd = -1;
  EXPECT_EQ(BuildPppoL2tpAddress(t).status().message(),
            "PPPoL2TP address for session 4660/22136: tunnel_fd -1: the tunnel's socket is needed");
  t = V2("192.0.2.2");
  t.peer = IpAddress{};
  EXPECT_EQ(BuildPppoL2tpAddress(t).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PppoL2tpAddress, TargetForASessionOfAManagedTunnel) {
  TunnelConfig tunnel;
  tunnel.version = 2;
  tunnel.tunnel_id = 10;
  tunnel.peer_tunnel_id = 20;
  tunnel.remote = *IpAddress::Parse("192.0.2.2");
  tunnel.udp_destination_port = 1701;
  tunnel.socket_fd = 9;
  SessionConfig session;
  session.tunnel_id = 10;
  session.session_id = 100;
  session.peer_session_id = 200;
  auto t = PppoL2tpTargetFor(tunnel, session);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->version, 2u);
  EXPECT_EQ(t->tunnel_fd, 9);
  EXPECT_EQ(t->peer, tunnel.remote);
  EXPECT_EQ(t->peer_port, 1701);
  EXPECT_EQ(t->tunnel_id, 10u);
  EXPECT_EQ(t->peer_tunnel_id, 20u);
  EXPECT_EQ(t->session_id, 100u);
  EXPECT_EQ(t->peer_session_id, 200u);

  tunnel.encap = Encap::kIp;
  EXPECT_EQ(PppoL2tpTargetFor(tunnel, session).status().message(),
            "session 10/100: L2TPv2 runs over UDP only");
  tunnel.version = 3;
  t = PppoL2tpTargetFor(tunnel, session);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->peer_port, 0) << "L2TP/IP has no ports";
  session.tunnel_id = 11;
  EXPECT_EQ(PppoL2tpTargetFor(tunnel, session).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace l2tp::kernel
