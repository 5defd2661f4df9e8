#include "client/output_format.h"

#include "client/display_names.h"
#include "common/config_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/cli_test_support.h"

namespace v1 = ::l2tpagent::v1;

namespace l2tp::cli {
namespace {

using ::testing::HasSubstr;

TEST(OutputFormatTest, ParsesAllowedFormats) {
  std::vector<OutputFormat> allowed = {OutputFormat::kTable, OutputFormat::kJson};
  EXPECT_EQ(*ParseOutputFormat("json", allowed), OutputFormat::kJson);
  EXPECT_EQ(*ParseOutputFormat("", allowed), OutputFormat::kTable);
  auto bad = ParseOutputFormat("wide", allowed);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("\"wide\""));
  EXPECT_THAT(bad.status().message(), HasSubstr("want table, json"));
}

TEST(OutputFormatTest, JsonAndYamlParseBackToTheSameMessage) {
  v1::Config config;
  *config.add_tunnels() = testing::SampleTunnel();
  *config.add_sessions() = testing::SampleSession();
  for (OutputFormat f : {OutputFormat::kJson, OutputFormat::kYaml}) {
    std::string text = RenderMessage(config, f);
    EXPECT_EQ(text.back(), '\n');
    v1::Config back;
    ASSERT_TRUE(ParseConfigText(text, &back).ok()) << text;
    EXPECT_EQ(back.SerializeAsString(), config.SerializeAsString()) << text;
  }
  EXPECT_THAT(RenderMessage(config, OutputFormat::kJson), HasSubstr("\"peerTunnelId\": 200"));
  EXPECT_THAT(RenderMessage(config, OutputFormat::kYaml), HasSubstr("peerTunnelId: 200"));
}

TEST(DisplayNamesTest, DefaultsShowWhatTheAgentUses) {
  EXPECT_EQ(EncapName(v1::ENCAPSULATION_UNSPECIFIED), "udp");
  EXPECT_EQ(EncapName(v1::ENCAPSULATION_IP), "ip");
  EXPECT_EQ(SublayerName(v1::L2_SPECIFIC_SUBLAYER_UNSPECIFIED), "default");
  EXPECT_EQ(SublayerName(v1::L2_SPECIFIC_SUBLAYER_NONE), "none");
  EXPECT_EQ(PseudowireName(v1::PSEUDOWIRE_UNSPECIFIED), "eth");
  EXPECT_EQ(PhaseName(v1::PHASE_UNSPECIFIED), "UNKNOWN");
  EXPECT_EQ(PhaseName(static_cast<v1::Phase>(42)), "42");
  EXPECT_EQ(ResourceRef(v1::RESOURCE_KIND_SESSION, "s1"), "session/s1");
}

}  // namespace
}  // namespace l2tp::cli
