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

TEST(DisplayNamesTest, ControlProtocolNames) {
  EXPECT_EQ(EventReasonName(v1::Event::REASON_CONTROL), "CONTROL");
  EXPECT_EQ(EventReasonName(v1::Event::REASON_FAILED), "FAILED");
  EXPECT_EQ(ControlStateName(v1::CONTROL_STATE_UNSPECIFIED), "UNKNOWN");
  EXPECT_EQ(ControlStateName(v1::CONTROL_STATE_CLOSING), "CLOSING");
  EXPECT_EQ(ControlRoleName(v1::TunnelControl::ROLE_UNSPECIFIED), "-");
  EXPECT_EQ(ControlRoleName(v1::TunnelControl::ROLE_RESPONDER), "responder");

  v1::Tunnel t;
  t.mutable_status()->set_message("bind failed");
  EXPECT_FALSE(UsesControl(t));
  EXPECT_EQ(ControlText(t), "static");
  t.mutable_status()->mutable_tunnel_control()->set_last_stop_reason("ignored: STATIC");
  EXPECT_EQ(StatusText(t), "bind failed");
  t.mutable_spec()->mutable_control()->set_mode(v1::TunnelControl::MODE_DYNAMIC);
  EXPECT_TRUE(UsesControl(t));
  EXPECT_EQ(ControlText(t), "UNKNOWN");
  EXPECT_EQ(StatusText(t), "bind failed; last stop: ignored: STATIC");
  // Parts the status message already carries are not repeated.
  t.mutable_status()->set_message("control connection down: peer stopped the tunnel");
  t.mutable_status()->mutable_tunnel_control()->set_last_stop_reason("peer stopped the tunnel");
  t.mutable_status()->mutable_tunnel_control()->set_message("control connection down");
  EXPECT_EQ(StatusText(t), "control connection down: peer stopped the tunnel");
  // While ESTABLISHED, an old stop reason is not news.
  t.mutable_status()->clear_message();
  t.mutable_status()->mutable_tunnel_control()->set_state(v1::CONTROL_STATE_ESTABLISHED);
  t.mutable_status()->mutable_tunnel_control()->set_message("SCCCN acknowledged");
  EXPECT_EQ(StatusText(t), "SCCCN acknowledged");

  v1::Session s;
  EXPECT_EQ(ControlText(s), "static");
  s.mutable_spec()->set_remote_end_id("pw-1");
  EXPECT_EQ(ControlText(s), "UNKNOWN");
  s.mutable_status()->mutable_session_control()->set_state(v1::CONTROL_STATE_IDLE);
  s.mutable_status()->mutable_session_control()->set_message("waiting for the tunnel");
  EXPECT_EQ(ControlText(s), "IDLE");
  EXPECT_EQ(StatusText(s), "waiting for the tunnel");
}

}  // namespace
}  // namespace l2tp::cli
