#include "absl/strings/str_split.h"
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

class StatsCommandTest : public ::testing::Test {
 protected:
  StatsCommandTest() {
    v1::Tunnel t = SampleTunnel();
    t.mutable_status()->mutable_counters()->set_tx_packets(7);
    *agent_.service().list_response.add_tunnels() = t;
    *agent_.service().list_response.add_sessions() = SampleSession();
  }
  FakeAgent agent_;
};

TEST_F(StatsCommandTest, TunnelsThenSessionsByDefault) {
  auto r = RunAgainst(agent_, {"stats"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME        RX-PKTS  RX-BYTES  TX-PKTS  TX-BYTES  RX-ERR  TX-ERR  SEQ-DISCARDS  OOS  "
            "COOKIE-DISCARDS  INVALID\n"
            "tunnel/t1   0        0         7        0         0       0       0             0    "
            "0                0\n"
            "session/s1  10       1000      20       2000      1       2       3             4    "
            "5                6\n");
  EXPECT_EQ(agent_.service().last_list.kind(), v1::RESOURCE_KIND_UNSPECIFIED);
}

TEST_F(StatsCommandTest, OneKind) {
  auto r = RunAgainst(agent_, {"stats", "sessions"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[1], ::testing::StartsWith("s1    10       1000"));
}

TEST_F(StatsCommandTest, OneByName) {
  *agent_.service().get_response.mutable_session() = SampleSession();
  auto r = RunAgainst(agent_, {"stats", "session", "s1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\ns1    10  "));
  EXPECT_EQ(agent_.service().last_get.name(), "s1");
}

TEST_F(StatsCommandTest, JsonKeepsZeroCountersAsNumbers) {
  auto r = RunAgainst(agent_, {"stats", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("{\"tunnels\":[{\"name\":\"t1\",\"counters\":{"));
  EXPECT_THAT(r.out, HasSubstr("\"rxPackets\":0,"));
  EXPECT_THAT(r.out, HasSubstr("{\"txPackets\":7,"));
  EXPECT_THAT(r.out, HasSubstr("\"sessions\":[{\"name\":\"s1\""));
  EXPECT_THAT(r.out, HasSubstr("\"rxInvalid\":6}"));
}

TEST_F(StatsCommandTest, YamlSaysWhatJsonSays) {
  auto yaml = RunAgainst(agent_, {"stats", "tunnels", "-o", "yaml"});
  auto json = RunAgainst(agent_, {"stats", "tunnels", "-o", "json"});
  EXPECT_EQ(yaml.code, 0) << yaml.err;
  EXPECT_THAT(yaml.out, ::testing::Not(HasSubstr("sessions")));
  auto converted = YamlToJson(yaml.out);
  ASSERT_TRUE(converted.ok()) << yaml.out;
  EXPECT_EQ(*converted + "\n", json.out);
}

TEST_F(StatsCommandTest, Errors) {
  EXPECT_EQ(RunAgainst(agent_, {"stats", "all", "x"}).code, 2);
  EXPECT_EQ(RunAgainst(agent_, {"stats", "-o", "wide"}).code, 2);
  EXPECT_EQ(agent_.service().calls, 0);
  agent_.service().status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no tunnel t9");
  auto r = RunAgainst(agent_, {"stats", "tunnel", "t9"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: NOT_FOUND: no tunnel t9\n");
}

}  // namespace
}  // namespace l2tp::cli
