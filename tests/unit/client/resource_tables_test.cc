#include "client/resource_tables.h"

#include "gtest/gtest.h"
#include "tests/unit/client/cli_test_support.h"

namespace v1 = ::l2tpagent::v1;

namespace l2tp::cli {
namespace {

using testing::SampleSession;
using testing::SampleTunnel;
using testing::TestNow;

TEST(ResourceTablesTest, Tunnels) {
  google::protobuf::RepeatedPtrField<v1::Tunnel> tunnels;
  *tunnels.Add() = SampleTunnel();
  v1::Tunnel ip = SampleTunnel();
  ip.set_name("ip-tunnel");
  ip.mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  ip.mutable_spec()->set_tunnel_id(65536);
  ip.mutable_status()->set_phase(v1::PHASE_PENDING);
  *ip.mutable_status()->mutable_last_transition_time() = testing::Ago(absl::Hours(50));
  *tunnels.Add() = ip;
  EXPECT_EQ(TunnelTable(tunnels, /*wide=*/false, TestNow()).Render(),
            "NAME       TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE    AGE\n"
            "t1         100        200      udp    10.0.0.1  10.0.0.2  READY    5s\n"
            "ip-tunnel  65536      200      ip     10.0.0.1  10.0.0.2  PENDING  2d\n");
}

TEST(ResourceTablesTest, TunnelsWide) {
  google::protobuf::RepeatedPtrField<v1::Tunnel> tunnels;
  v1::Tunnel t = SampleTunnel();
  t.mutable_status()->set_message("bind failed");
  *tunnels.Add() = t;
  v1::Tunnel ip = SampleTunnel();
  ip.set_name("t2");
  ip.mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  ip.mutable_status()->clear_last_transition_time();
  ip.mutable_status()->set_phase(v1::PHASE_UNSPECIFIED);
  *tunnels.Add() = ip;
  EXPECT_EQ(TunnelTable(tunnels, /*wide=*/true, TestNow()).Render(),
            "NAME  TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE    AGE        PORTS       "
            "GENERATION  MESSAGE\n"
            "t1    100        200      udp    10.0.0.1  10.0.0.2  READY    5s         1701->1702  "
            "2           bind failed\n"
            "t2    100        200      ip     10.0.0.1  10.0.0.2  UNKNOWN  <unknown>  -           2\n");
}

TEST(ResourceTablesTest, Sessions) {
  google::protobuf::RepeatedPtrField<v1::Session> sessions;
  *sessions.Add() = SampleSession();
  v1::Session derived = SampleSession();
  derived.set_name("s2");
  derived.mutable_spec()->clear_interface_name();
  *sessions.Add() = derived;
  EXPECT_EQ(SessionTable(sessions, /*wide=*/false, TestNow()).Render(),
            "NAME  TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE   AGE\n"
            "s1    t1      1           2        l2tpeth0   FAILED  3m\n"
            "s2    t1      1           2        <auto>     FAILED  3m\n");
}

TEST(ResourceTablesTest, SessionsWide) {
  google::protobuf::RepeatedPtrField<v1::Session> sessions;
  *sessions.Add() = SampleSession();
  v1::Session plain = SampleSession();
  plain.set_name("s2");
  plain.mutable_spec()->clear_cookie();
  plain.mutable_spec()->set_peer_cookie("0011223344556677");
  plain.mutable_spec()->set_send_sequence(false);
  plain.mutable_spec()->set_require_sequence(true);
  plain.mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_NONE);
  plain.mutable_spec()->clear_mtu();
  plain.mutable_status()->clear_message();
  *sessions.Add() = plain;
  v1::Session bare = plain;
  bare.set_name("s3");
  bare.mutable_spec()->clear_peer_cookie();
  bare.mutable_spec()->set_require_sequence(false);
  *sessions.Add() = bare;
  EXPECT_EQ(SessionTable(sessions, /*wide=*/true, TestNow()).Render(),
            "NAME  TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE   AGE  COOKIE              "
            "SUBLAYER  SEQ      MTU   MESSAGE\n"
            "s1    t1      1           2        l2tpeth0   FAILED  3m   a1b2c3d4/-          "
            "default   send     1400  interface l2tpeth0 exists\n"
            "s2    t1      1           2        l2tpeth0   FAILED  3m   -/0011223344556677  "
            "none      require  auto\n"
            "s3    t1      1           2        l2tpeth0   FAILED  3m   <none>              "
            "none      <none>   auto\n");
}

TEST(ResourceTablesTest, Counters) {
  Table table = CountersTable();
  AddCountersRow("s1", SampleSession().status().counters(), &table);
  AddCountersRow("t1", v1::Counters(), &table);
  EXPECT_EQ(table.Render(),
            "NAME  RX-PKTS  RX-BYTES  TX-PKTS  TX-BYTES  RX-ERR  TX-ERR  SEQ-DISCARDS  OOS  "
            "COOKIE-DISCARDS  INVALID\n"
            "s1    10       1000      20       2000      1       2       3             4    "
            "5                6\n"
            "t1    0        0         0        0         0       0       0             0    "
            "0                0\n");
}

}  // namespace
}  // namespace l2tp::cli
