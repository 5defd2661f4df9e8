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

void FillInfo(v1::GetInfoResponse* info) {
  info->set_version("0.1.0");
  info->set_datapath("kernel");
  info->set_kernel_l2tp_available(true);
  info->add_capabilities("udp");
  info->add_capabilities("ip");
  info->set_datapath_message("l2tp genl family resolved");
  info->set_tunnels(3);
  info->set_sessions(5);
}

TEST(InfoCommandTest, Table) {
  FakeAgent agent;
  FillInfo(&agent.service().info_response);
  auto r = RunAgainst(agent, {"info"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Agent version:     0.1.0\n"));
  EXPECT_THAT(r.out, HasSubstr("Client version:    "));
  EXPECT_THAT(r.out, HasSubstr("Datapath:          kernel\n"
                               "Datapath message:  l2tp genl family resolved\n"
                               "Kernel L2TP:       available\n"
                               "Capabilities:      udp, ip\n"
                               "Tunnels:           3\n"
                               "Sessions:          5\n"));
}

TEST(InfoCommandTest, NothingAvailable) {
  FakeAgent agent;
  agent.service().info_response.set_datapath("none");
  auto r = RunAgainst(agent, {"info"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Kernel L2TP:       not available\n"));
  EXPECT_THAT(r.out, HasSubstr("Capabilities:      <none>\n"));
  EXPECT_THAT(r.out, HasSubstr("Datapath message:\n"));
}

TEST(InfoCommandTest, Json) {
  FakeAgent agent;
  FillInfo(&agent.service().info_response);
  auto r = RunAgainst(agent, {"info", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  v1::GetInfoResponse back;
  ASSERT_TRUE(ParseConfigText(r.out, &back).ok()) << r.out;
  EXPECT_EQ(back.SerializeAsString(), agent.service().info_response.SerializeAsString());
  EXPECT_THAT(r.out, HasSubstr("\"kernelL2tpAvailable\": true"));
}

TEST(InfoCommandTest, NoAgentNamesTheSocket) {
  auto r = testing::RunCliForTest({"info"}, "", "/tmp/l2tpctl-test-env-missing.sock");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: cannot connect to l2tp-agent at unix socket "
                               "/tmp/l2tpctl-test-env-missing.sock: the socket does not exist"));
}

}  // namespace
}  // namespace l2tp::cli
