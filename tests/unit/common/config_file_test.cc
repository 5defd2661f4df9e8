#include "common/config_file.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {
namespace {

using ::testing::HasSubstr;

TEST(ConfigFileTest, YamlScalarsKeepTheirTypes) {
  auto json = YamlToJson("a: 1\nb: true\nc: \"1\"\nd: hello\ne: ~\nf: [1, x]\ng: 0x10\n");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"({"a":1,"b":true,"c":"1","d":"hello","e":null,"f":[1,"x"],"g":"0x10"})");
}

TEST(ConfigFileTest, PlainScalarsAreNumbersExactlyWhenJsonSaysSo) {
  for (const char* number : {"0", "-0", "7", "-12", "3.25", "1e5", "1E+5", "-2.5e-3", "1701"}) {
    auto json = YamlToJson(std::string("n: ") + number);
    ASSERT_TRUE(json.ok());
    EXPECT_EQ(*json, std::string(R"({"n":)") + number + "}") << number;
  }
  for (const char* text : {"01", "1.", ".5", "+1", "1e", "1e+", "1.5.2", "12a", "0x1f", "a1b2c3d4", "-x"}) {
    auto json = YamlToJson(std::string("n: \"") + text + "\"\nm: " + text);
    ASSERT_TRUE(json.ok()) << text;
    EXPECT_THAT(*json, HasSubstr(std::string(R"("m":)"))) << text;
    EXPECT_THAT(*json, ::testing::Not(HasSubstr(std::string(R"("m":)") + text + "}"))) << text;
  }
}

TEST(ConfigFileTest, ParsesYamlAndJsonConfigs) {
  l2tpagent::v1::Config yaml, json;
  ASSERT_TRUE(ParseConfigText("tunnels:\n  - name: t1\n    spec: {tunnelId: 5, encap: ENCAPSULATION_IP}\n", &yaml).ok());
  ASSERT_TRUE(ParseConfigText(R"({"tunnels":[{"name":"t1","spec":{"tunnel_id":5,"encap":"ENCAPSULATION_IP"}}]})", &json).ok());
  EXPECT_EQ(yaml.DebugString(), json.DebugString());
  EXPECT_EQ(yaml.tunnels(0).spec().tunnel_id(), 5u);
}

TEST(ConfigFileTest, UnknownFieldsAreErrors) {
  l2tpagent::v1::Config c;
  auto st = ParseConfigText("tunnels:\n  - name: t1\n    spec: {tunnelID: 5}\n", &c);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("tunnelID"));
}

TEST(ConfigFileTest, YamlSyntaxErrorsNameTheLine) {
  l2tpagent::v1::Config c;
  auto st = ParseConfigText("tunnels:\n  - name: [unclosed\n", &c);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("YAML line"));
}

TEST(ConfigFileTest, RoundTripsThroughYaml) {
  l2tpagent::v1::Config c;
  auto* t = c.add_tunnels();
  t->set_name("t1");
  t->mutable_spec()->set_local("192.0.2.1");
  t->mutable_spec()->set_tunnel_id(7);
  auto* s = c.add_sessions();
  s->set_name("s1");
  s->mutable_spec()->set_cookie("00112233");
  s->mutable_spec()->mutable_reorder_timeout()->set_nanos(100000000);
  l2tpagent::v1::Config back;
  ASSERT_TRUE(ParseConfigText(ToYaml(c), &back).ok()) << ToYaml(c);
  EXPECT_EQ(back.DebugString(), c.DebugString());
}

TEST(ConfigFileTest, TheShippedExampleParses) {
  l2tpagent::v1::Config c;
  auto st = LoadConfigFile(std::string(L2TP_SOURCE_DIR) + "/examples/pseudowires.yaml", &c);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(c.tunnels_size(), 2);
  EXPECT_EQ(c.sessions(0).spec().cookie(), "0x8a7b6c5d");
}

TEST(ConfigFileTest, MissingFileIsNamed) {
  l2tpagent::v1::Config c;
  auto st = LoadConfigFile("/nonexistent/x.yaml", &c);
  EXPECT_THAT(st.message(), HasSubstr("/nonexistent/x.yaml: No such file or directory"));
}

TEST(ConfigFileTest, DirectoryIsNotAConfig) {
  l2tpagent::v1::Config c;
  auto st = LoadConfigFile("/tmp", &c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("is a directory"));
}

}  // namespace
}  // namespace l2tp
