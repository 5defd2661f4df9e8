#include "client/resource_tables.h"

#include "gtest/gtest.h"
#include "tests/unit/client/cli_test_support.h"

namespace v1 = ::l2tpagent::v1;

namespace l2tp::cli {
namespace {

using testing::SampleDynamicSession;
using testing::SampleDynamicTunnel;
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

// A DOWN DYNAMIC tunnel: the responder never heard from its peer again.
v1::Tunnel DownDynamicTunnel() {
  v1::Tunnel t = SampleDynamicTunnel();
  t.set_name("lns");
  t.mutable_spec()->set_tunnel_id(300);
  t.mutable_spec()->mutable_control()->set_role(v1::TunnelControl::ROLE_RESPONDER);
  t.mutable_status()->set_phase(v1::PHASE_FAILED);
  t.mutable_status()->set_message("control connection down");
  *t.mutable_status()->mutable_last_transition_time() = testing::Ago(absl::Minutes(2));
  auto* control = t.mutable_status()->mutable_tunnel_control();
  control->set_state(v1::CONTROL_STATE_DOWN);
  control->set_tunnel_id(300);
  control->set_peer_tunnel_id(0);
  control->clear_peer_host_name();
  control->clear_hello_round_trip();
  control->set_retransmissions(12);
  control->set_message("");
  control->set_last_stop_reason("peer stopped the tunnel: result 2 (general error)");
  return t;
}

TEST(ResourceTablesTest, StaticTunnelsHaveNoControlColumns) {
  google::protobuf::RepeatedPtrField<v1::Tunnel> tunnels;
  *tunnels.Add() = SampleTunnel();
  // A control status on a STATIC tunnel that reports none changes nothing.
  tunnels.Mutable(0)->mutable_status()->mutable_tunnel_control()->set_retransmissions(0);
  EXPECT_EQ(TunnelTable(tunnels, /*wide=*/false, TestNow()).Render(),
            "NAME  TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE  AGE\n"
            "t1    100        200      udp    10.0.0.1  10.0.0.2  READY  5s\n");
  EXPECT_EQ(
      TunnelTable(tunnels, /*wide=*/true, TestNow()).Render(),
      "NAME  TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE  AGE  PORTS       GENERATION  MESSAGE\n"
      "t1    100        200      udp    10.0.0.1  10.0.0.2  READY  5s   1701->1702  2\n");
}

TEST(ResourceTablesTest, DynamicTunnelsShowControlStateAndPeer) {
  google::protobuf::RepeatedPtrField<v1::Tunnel> tunnels;
  *tunnels.Add() = SampleTunnel();
  *tunnels.Add() = SampleDynamicTunnel();
  *tunnels.Add() = DownDynamicTunnel();
  v1::Tunnel pending = SampleDynamicTunnel();  // not started by the agent yet
  pending.set_name("new");
  pending.mutable_status()->Clear();
  *tunnels.Add() = pending;
  EXPECT_EQ(
      TunnelTable(tunnels, /*wide=*/false, TestNow()).Render(),
      "NAME  TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE    AGE        CONTROL      PEER\n"
      "t1    100        200      udp    10.0.0.1  10.0.0.2  READY    5s         static       -\n"
      "lac   17         4711     udp    10.0.0.1  10.0.0.3  READY    5s         ESTABLISHED  lns1/4711\n"
      "lns   300        -        udp    10.0.0.1  10.0.0.3  FAILED   2m         DOWN         -\n"
      "new   -          -        udp    10.0.0.1  10.0.0.3  UNKNOWN  <unknown>  UNKNOWN      -\n");
}

TEST(ResourceTablesTest, DynamicTunnelsWideShowRoleRoundTripRetransmitsAndStopReason) {
  google::protobuf::RepeatedPtrField<v1::Tunnel> tunnels;
  *tunnels.Add() = SampleTunnel();
  *tunnels.Add() = SampleDynamicTunnel();
  *tunnels.Add() = DownDynamicTunnel();
  EXPECT_EQ(TunnelTable(tunnels, /*wide=*/true, TestNow()).Render(),
            "NAME  TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE   AGE  CONTROL      PEER       "
            "PORTS       GENERATION  ROLE       HELLO-RTT  RETRANS  MESSAGE\n"
            "t1    100        200      udp    10.0.0.1  10.0.0.2  READY   5s   static       -          "
            "1701->1702  2           -          -          -\n"
            "lac   17         4711     udp    10.0.0.1  10.0.0.3  READY   5s   ESTABLISHED  lns1/4711  "
            "1701->1701  2           initiator  1.2ms      3        SCCCN acknowledged\n"
            "lns   300        -        udp    10.0.0.1  10.0.0.3  FAILED  2m   DOWN         -          "
            "1701->1701  2           responder  -          12       control connection down; "
            "last stop: peer stopped the tunnel: result 2 (general error)\n");
}

TEST(ResourceTablesTest, DynamicTunnelPeerAndRoundTripFormats) {
  google::protobuf::RepeatedPtrField<v1::Tunnel> tunnels;
  v1::Tunnel t = SampleDynamicTunnel();
  auto* control = t.mutable_status()->mutable_tunnel_control();
  control->clear_peer_host_name();  // the id arrived, the name not (yet)
  control->mutable_hello_round_trip()->set_nanos(850'400);
  *tunnels.Add() = t;
  control->set_peer_host_name("lns1");
  control->set_peer_tunnel_id(0);
  control->mutable_hello_round_trip()->set_seconds(2);
  control->mutable_hello_round_trip()->set_nanos(345'000'000);
  *tunnels.Add() = t;
  control->mutable_hello_round_trip()->set_seconds(0);
  control->mutable_hello_round_trip()->set_nanos(45'678'000);
  *tunnels.Add() = t;
  EXPECT_EQ(
      TunnelTable(tunnels, /*wide=*/true, TestNow()).Render(),
      "NAME  TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE  AGE  CONTROL      PEER    PORTS       "
      "GENERATION  ROLE       HELLO-RTT  RETRANS  MESSAGE\n"
      "lac   17         4711     udp    10.0.0.1  10.0.0.3  READY  5s   ESTABLISHED  -/4711  1701->1701  "
      "2           initiator  850us      3        SCCCN acknowledged\n"
      "lac   17         -        udp    10.0.0.1  10.0.0.3  READY  5s   ESTABLISHED  lns1/-  1701->1701  "
      "2           initiator  2.3s       3        SCCCN acknowledged\n"
      "lac   17         -        udp    10.0.0.1  10.0.0.3  READY  5s   ESTABLISHED  lns1/-  1701->1701  "
      "2           initiator  45ms       3        SCCCN acknowledged\n");
}

TEST(ResourceTablesTest, DynamicSessionsShowControlStateAndLearnedIds) {
  google::protobuf::RepeatedPtrField<v1::Session> sessions;
  *sessions.Add() = SampleSession();
  *sessions.Add() = SampleDynamicSession();
  v1::Session down = SampleDynamicSession();
  down.set_name("pw2");
  down.mutable_spec()->set_remote_end_id("pw-2");
  down.mutable_spec()->set_session_id(20);
  down.mutable_status()->set_phase(v1::PHASE_PENDING);
  down.mutable_status()->clear_message();
  auto* control = down.mutable_status()->mutable_session_control();
  control->set_state(v1::CONTROL_STATE_DOWN);
  control->set_session_id(20);
  control->set_peer_session_id(0);
  control->clear_peer_cookie();
  control->set_message("peer sent CDN: result 3 (no such pseudowire)");
  *sessions.Add() = down;
  EXPECT_EQ(SessionTable(sessions, /*wide=*/false, TestNow()).Render(),
            "NAME  TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE    AGE  CONTROL\n"
            "s1    t1      1           2        l2tpeth0   FAILED   3m   static\n"
            "pw1   lac     9           77       <auto>     READY    5s   ESTABLISHED\n"
            "pw2   lac     20          -        <auto>     PENDING  5s   DOWN\n");
  EXPECT_EQ(SessionTable(sessions, /*wide=*/true, TestNow()).Render(),
            "NAME  TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE    AGE  CONTROL      COOKIE             "
            "SUBLAYER  SEQ     MTU   REMOTE-END-ID  MESSAGE\n"
            "s1    t1      1           2        l2tpeth0   FAILED   3m   static       a1b2c3d4/-         "
            "default   send    1400  -              interface l2tpeth0 exists\n"
            "pw1   lac     9           77       <auto>     READY    5s   ESTABLISHED  beef0002/cafe0001  "
            "default   <none>  auto  pw-1\n"
            "pw2   lac     20          -        <auto>     PENDING  5s   DOWN         -/cafe0001         "
            "default   <none>  auto  pw-2           peer sent CDN: result 3 (no such pseudowire)\n");
}

TEST(ResourceTablesTest, StaticSessionsHaveNoControlColumns) {
  google::protobuf::RepeatedPtrField<v1::Session> sessions;
  *sessions.Add() = SampleSession();
  EXPECT_EQ(SessionTable(sessions, /*wide=*/false, TestNow()).Render(),
            "NAME  TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE   AGE\n"
            "s1    t1      1           2        l2tpeth0   FAILED  3m\n");
}

// ---- PPP pseudowires (issue 14)

// An LAC session "dialout" of lac, authenticated as alice, its one call up.
v1::Session LacPppSession() {
  v1::Session s = SampleDynamicSession();
  s.set_name("dialout");
  s.mutable_spec()->clear_remote_end_id();  // an L2TPv2 tunnel's
  s.mutable_spec()->clear_peer_cookie();
  s.mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP);
  s.mutable_spec()->set_interface_name("ppp-isp");
  s.mutable_spec()->mutable_ppp()->set_user("alice");
  s.mutable_status()->mutable_session_control()->clear_peer_cookie();
  auto* call = s.mutable_status()->add_ppp_calls();
  call->set_session_id(9);
  call->set_peer_session_id(77);
  call->set_phase(v1::PPP_PHASE_NETWORK);
  call->set_interface_name("ppp-isp");
  call->set_local_address("100.64.0.7");
  call->set_peer_address("100.64.0.1");
  *call->mutable_started_time() = testing::Ago(absl::Minutes(2));
  *call->mutable_last_transition_time() = testing::Ago(absl::Minutes(1));
  return s;
}

// An LNS session "dialin" of lns with three calls: bob's and carol's up,
// a third that failed to authenticate.
v1::Session LnsPppSession() {
  v1::Session s = SampleDynamicSession();
  s.set_name("dialin");
  s.mutable_spec()->set_tunnel("lns");
  s.mutable_spec()->set_remote_end_id("dialin");
  s.mutable_spec()->clear_peer_cookie();
  s.mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP);
  s.mutable_spec()->set_interface_name("ppp-in-");
  s.mutable_spec()->mutable_ppp()->set_max_sessions(8);
  s.mutable_status()->clear_session_control();
  s.mutable_status()->mutable_session_control()->set_state(v1::CONTROL_STATE_ESTABLISHED);
  auto add = [&](uint32_t id, uint32_t peer, v1::PppPhase phase, const std::string& ifname,
                 const std::string& user, const std::string& peer_address, absl::Duration ago) {
    auto* call = s.mutable_status()->add_ppp_calls();
    call->set_session_id(id);
    call->set_peer_session_id(peer);
    call->set_phase(phase);
    call->set_interface_name(ifname);
    call->set_user(user);
    if (!peer_address.empty()) call->set_local_address("10.8.0.1");
    call->set_peer_address(peer_address);
    *call->mutable_last_transition_time() = testing::Ago(ago);
    return call;
  };
  add(31, 501, v1::PPP_PHASE_NETWORK, "ppp-in-1", "bob", "10.8.1.1", absl::Hours(3));
  add(32, 502, v1::PPP_PHASE_NETWORK, "ppp-in-2", "carol", "10.8.1.2", absl::Minutes(7));
  add(33, 503, v1::PPP_PHASE_DEAD, "ppp-in-3", "", "", absl::Seconds(40))
      ->set_last_failure("the peer failed to authenticate (exit 11)");
  return s;
}

TEST(ResourceTablesTest, PppSessionsShowPhaseUserAddressesAndOneRowPerCall) {
  google::protobuf::RepeatedPtrField<v1::Session> sessions;
  *sessions.Add() = SampleSession();
  *sessions.Add() = SampleDynamicSession();
  *sessions.Add() = LacPppSession();
  *sessions.Add() = LnsPppSession();
  v1::Session waiting = LnsPppSession();  // no call yet
  waiting.set_name("spare");
  waiting.mutable_spec()->set_interface_name("ppp-sp-");
  waiting.mutable_status()->clear_ppp_calls();
  waiting.mutable_status()->set_phase(v1::PHASE_PENDING);
  *sessions.Add() = waiting;
  EXPECT_EQ(
      SessionTable(sessions, /*wide=*/false, TestNow()).Render(),
      "NAME      TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE    AGE  CONTROL      PPP-PHASE  USER   "
      "ADDRESSES\n"
      "s1        t1      1           2        l2tpeth0   FAILED   3m   static       -          -      -\n"
      "pw1       lac     9           77       <auto>     READY    5s   ESTABLISHED  -          -      -\n"
      "dialout   lac     9           77       ppp-isp    READY    5s   ESTABLISHED  NETWORK    alice  "
      "100.64.0.7->100.64.0.1\n"
      "dialin    lns     31          501      ppp-in-1   READY    5s   ESTABLISHED  NETWORK    bob    "
      "10.8.0.1->10.8.1.1\n"
      "dialin#2  lns     32          502      ppp-in-2   -        7m   -            NETWORK    carol  "
      "10.8.0.1->10.8.1.2\n"
      "dialin#3  lns     33          503      ppp-in-3   -        40s  -            DEAD       -      -\n"
      "spare     lns     -           -        ppp-sp-    PENDING  5s   ESTABLISHED  -          -      -\n");
  EXPECT_EQ(SessionTable(sessions, /*wide=*/true, TestNow()).Render(),
            "NAME      TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE    AGE  CONTROL      PPP-PHASE  USER   "
            "ADDRESSES               COOKIE             SUBLAYER  SEQ     MTU   REMOTE-END-ID  MESSAGE\n"
            "s1        t1      1           2        l2tpeth0   FAILED   3m   static       -          -      "
            "-                       a1b2c3d4/-         default   send    1400  -              interface "
            "l2tpeth0 exists\n"
            "pw1       lac     9           77       <auto>     READY    5s   ESTABLISHED  -          -      "
            "-                       beef0002/cafe0001  default   <none>  auto  pw-1\n"
            "dialout   lac     9           77       ppp-isp    READY    5s   ESTABLISHED  NETWORK    alice  "
            "100.64.0.7->100.64.0.1  <none>             default   <none>  auto  -\n"
            "dialin    lns     31          501      ppp-in-1   READY    5s   ESTABLISHED  NETWORK    bob    "
            "10.8.0.1->10.8.1.1      <none>             default   <none>  auto  dialin\n"
            "dialin#2  lns     32          502      ppp-in-2   -        7m   -            NETWORK    carol  "
            "10.8.0.1->10.8.1.2      -                  -         -       -     -\n"
            "dialin#3  lns     33          503      ppp-in-3   -        40s  -            DEAD       -      "
            "-                       -                  -         -       -     -              ppp: the peer "
            "failed to authenticate (exit 11)\n"
            "spare     lns     -           -        ppp-sp-    PENDING  5s   ESTABLISHED  -          -      "
            "-                       <none>             default   <none>  auto  dialin\n");
}

// A PPP session's first call failing says so in MESSAGE, after the status.
TEST(ResourceTablesTest, PppFirstCallFailureFollowsTheStatusMessage) {
  google::protobuf::RepeatedPtrField<v1::Session> sessions;
  v1::Session s = LacPppSession();
  auto* call = s.mutable_status()->mutable_ppp_calls(0);
  call->set_phase(v1::PPP_PHASE_DEAD);
  call->clear_local_address();
  call->clear_peer_address();
  call->set_last_failure("we failed to authenticate to the peer (exit 19)");
  s.mutable_status()->set_message("redialing in 4s");
  *sessions.Add() = s;
  const std::string wide = SessionTable(sessions, /*wide=*/true, TestNow()).Render();
  EXPECT_NE(wide.find("DEAD       alice  -  "), std::string::npos) << wide;
  EXPECT_NE(wide.find("redialing in 4s; ppp: we failed to authenticate to the peer (exit 19)\n"),
            std::string::npos)
      << wide;
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
