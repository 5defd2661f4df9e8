#include "common/config_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/cli_test_support.h"

namespace v1 = ::l2tpagent::v1;

namespace l2tp::cli {
namespace {

using testing::FakeAgent;
using ::testing::HasSubstr;
using testing::RunAgainst;
using testing::SampleSession;
using testing::SampleTunnel;

class GetCommandTest : public ::testing::Test {
 protected:
  GetCommandTest() {
    *agent_.service().list_response.add_tunnels() = SampleTunnel();
    *agent_.service().list_response.add_sessions() = SampleSession();
  }
  FakeAgent agent_;
};

TEST_F(GetCommandTest, TunnelsTable) {
  auto r = RunAgainst(agent_, {"get", "tunnels"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME  TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE  AGE\n"
            "t1    100        200      udp    10.0.0.1  10.0.0.2  READY  5s\n");
  EXPECT_EQ(agent_.service().last_list.kind(), v1::RESOURCE_KIND_TUNNEL);
}

TEST_F(GetCommandTest, SessionsOfOneTunnelWide) {
  auto r = RunAgainst(agent_, {"get", "sessions", "--tunnel", "t1", "-o", "wide"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("COOKIE"));
  EXPECT_THAT(r.out, HasSubstr("s1    t1      1           2        l2tpeth0   FAILED  3m   "
                               "a1b2c3d4/-  default   send  1400  interface l2tpeth0 exists\n"));
  EXPECT_EQ(agent_.service().last_list.kind(), v1::RESOURCE_KIND_SESSION);
  EXPECT_EQ(agent_.service().last_list.tunnel(), "t1");
}

TEST_F(GetCommandTest, AllPrintsBothTables) {
  auto r = RunAgainst(agent_, {"get", "all"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("READY  5s\n\nNAME  TUNNEL  SESSION-ID"));
  EXPECT_EQ(agent_.service().last_list.kind(), v1::RESOURCE_KIND_UNSPECIFIED);
}

TEST_F(GetCommandTest, YamlListIsAConfigThatRoundTrips) {
  auto r = RunAgainst(agent_, {"get", "tunnels", "-o", "yaml"});
  EXPECT_EQ(r.code, 0) << r.err;
  v1::Config config;
  ASSERT_TRUE(ParseConfigText(r.out, &config).ok()) << r.out;
  ASSERT_EQ(config.tunnels_size(), 1);
  EXPECT_EQ(config.tunnels(0).SerializeAsString(), SampleTunnel().SerializeAsString());
  // The fake answers with both kinds; only tunnels were asked for.
  EXPECT_EQ(config.sessions_size(), 0);
}

TEST_F(GetCommandTest, JsonListUsesCamelCase) {
  auto r = RunAgainst(agent_, {"get", "sessions", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"sessions\": ["));
  EXPECT_THAT(r.out, HasSubstr("\"peerSessionId\": 2"));
}

TEST(GetCommandDynamicTest, TablesAndJsonShowTheControlProtocol) {
  FakeAgent agent;
  *agent.service().list_response.add_tunnels() = testing::SampleDynamicTunnel();
  *agent.service().list_response.add_sessions() = testing::SampleDynamicSession();
  auto r = RunAgainst(agent, {"get", "all"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME  TUNNEL-ID  PEER-ID  ENCAP  LOCAL     REMOTE    PHASE  AGE  CONTROL      PEER\n"
            "lac   17         4711     udp    10.0.0.1  10.0.0.3  READY  5s   ESTABLISHED  lns1/4711\n"
            "\n"
            "NAME  TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE  AGE  CONTROL\n"
            "pw1   lac     9           77       <auto>     READY  5s   ESTABLISHED\n");
  // json and yaml come from the proto: the new fields are there as they are.
  r = RunAgainst(agent, {"get", "all", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"mode\": \"MODE_DYNAMIC\""));
  EXPECT_THAT(r.out, HasSubstr("\"tunnelControl\": {"));
  EXPECT_THAT(r.out, HasSubstr("\"state\": \"CONTROL_STATE_ESTABLISHED\""));
  EXPECT_THAT(r.out, HasSubstr("\"peerHostName\": \"lns1\""));
  EXPECT_THAT(r.out, HasSubstr("\"helloRoundTrip\": \"0.001234567s\""));
  EXPECT_THAT(r.out, HasSubstr("\"remoteEndId\": \"pw-1\""));
  EXPECT_THAT(r.out, HasSubstr("\"sessionControl\": {"));
  EXPECT_THAT(r.out, HasSubstr("\"peerSessionId\": 77"));
  r = RunAgainst(agent, {"get", "all", "-o", "yaml"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("peerTunnelId: 4711"));
  EXPECT_THAT(r.out, HasSubstr("role: ROLE_INITIATOR"));
  v1::Config config;
  ASSERT_TRUE(ParseConfigText(r.out, &config).ok()) << r.out;
  ASSERT_EQ(config.tunnels_size(), 1);
  EXPECT_EQ(config.tunnels(0).SerializeAsString(), testing::SampleDynamicTunnel().SerializeAsString());
}

// PPP's status fields reach -o json and -o yaml from the proto, as they are.
TEST(GetCommandPppTest, JsonAndYamlCarryPppCalls) {
  FakeAgent agent;
  v1::Session s = testing::SampleDynamicSession();
  s.set_name("dialin");
  s.mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP);
  s.mutable_spec()->mutable_ppp()->set_remote_address_pool("10.8.1.0/24");
  s.mutable_spec()->mutable_ppp()->set_authentication(v1::PPP_AUTHENTICATION_CHAP);
  auto* call = s.mutable_status()->add_ppp_calls();
  call->set_session_id(31);
  call->set_phase(v1::PPP_PHASE_AUTHENTICATING);
  call->set_interface_name("ppp-in-1");
  call->set_user("bob");
  call->set_peer_address("10.8.1.1");
  *agent.service().list_response.add_sessions() = s;
  auto r = RunAgainst(agent, {"get", "sessions", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"remoteAddressPool\": \"10.8.1.0/24\""));
  EXPECT_THAT(r.out, HasSubstr("\"pppCalls\": ["));
  EXPECT_THAT(r.out, HasSubstr("\"phase\": \"PPP_PHASE_AUTHENTICATING\""));
  EXPECT_THAT(r.out, HasSubstr("\"peerAddress\": \"10.8.1.1\""));
  r = RunAgainst(agent, {"get", "sessions", "-o", "yaml"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("authentication: PPP_AUTHENTICATION_CHAP"));
  EXPECT_THAT(r.out, HasSubstr("user: bob"));
  v1::Config config;
  ASSERT_TRUE(ParseConfigText(r.out, &config).ok()) << r.out;
  ASSERT_EQ(config.sessions_size(), 1);
  EXPECT_EQ(config.sessions(0).SerializeAsString(), s.SerializeAsString());
  r = RunAgainst(agent, {"get", "sessions"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("PPP-PHASE       USER  ADDRESSES\n"));
  EXPECT_THAT(r.out, HasSubstr("AUTHENTICATING  bob   -->10.8.1.1\n"));
}

TEST_F(GetCommandTest, OneByName) {
  *agent_.service().get_response.mutable_session() = SampleSession();
  auto r = RunAgainst(agent_, {"get", "session", "s1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME  TUNNEL  SESSION-ID  PEER-ID  INTERFACE  PHASE   AGE\n"
            "s1    t1      1           2        l2tpeth0   FAILED  3m\n");
  EXPECT_EQ(agent_.service().last_get.kind(), v1::RESOURCE_KIND_SESSION);
  EXPECT_EQ(agent_.service().last_get.name(), "s1");
}

TEST_F(GetCommandTest, OneByNameAsBareJson) {
  *agent_.service().get_response.mutable_tunnel() = SampleTunnel();
  auto r = RunAgainst(agent_, {"get", "tunnel", "t1", "-ojson"});
  EXPECT_EQ(r.code, 0) << r.err;
  v1::Tunnel back;
  ASSERT_TRUE(ParseConfigText(r.out, &back).ok()) << r.out;
  EXPECT_EQ(back.SerializeAsString(), SampleTunnel().SerializeAsString());
}

TEST_F(GetCommandTest, NotFound) {
  agent_.service().status = grpc::Status(grpc::StatusCode::NOT_FOUND, "tunnel \"t7\" not found");
  auto r = RunAgainst(agent_, {"get", "tunnel", "t7"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: NOT_FOUND: tunnel \"t7\" not found\n");
}

TEST(GetCommandEmptyTest, EmptyListSaysSoOnStderr) {
  FakeAgent agent;
  auto r = RunAgainst(agent, {"get", "tunnels"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "No tunnels found.\n");
  r = RunAgainst(agent, {"get", "tunnels", "-o", "json"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "{}\n");
}

TEST(GetCommandLargeTest, ListingsBeyondGrpcsDefault4MiBArrive) {
  FakeAgent agent;
  v1::Session s = SampleSession();
  s.mutable_status()->set_message(std::string(1000, 'x'));
  for (int i = 0; i < 6000; ++i) {  // about 6 MB
    s.set_name("s" + std::to_string(i));
    *agent.service().list_response.add_sessions() = s;
  }
  ASSERT_GT(agent.service().list_response.ByteSizeLong(), 5u << 20);
  auto r = RunAgainst(agent, {"get", "sessions"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\ns5999  "));
}

TEST_F(GetCommandTest, UsageErrors) {
  EXPECT_EQ(RunAgainst(agent_, {"get"}).code, 2);
  auto r = RunAgainst(agent_, {"get", "pods"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown resource kind \"pods\""));
  EXPECT_EQ(RunAgainst(agent_, {"get", "tunnels", "--tunnel", "t1"}).code, 2);
  EXPECT_EQ(RunAgainst(agent_, {"get", "all", "x"}).code, 2);
  EXPECT_EQ(RunAgainst(agent_, {"get", "tunnel", "a", "b"}).code, 2);
  r = RunAgainst(agent_, {"get", "tunnels", "-o", "xml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unsupported format \"xml\""));
  EXPECT_EQ(agent_.service().calls, 0);
}

}  // namespace
}  // namespace l2tp::cli
