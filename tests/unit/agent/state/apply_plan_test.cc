#include "agent/state/apply_plan.h"

#include <functional>

#include "agent/state/spec_defaults.h"
#include "datapath/contract.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

using ::testing::ElementsAre;
using Op = v1::PlanAction;

DesiredState Base() {
  DesiredState d;
  d.tunnels["t1"] = testing::MakeTunnel("t1", 1);
  d.sessions["s1"] = testing::MakeSession("s1", "t1", 10);
  return d;
}

std::vector<std::string> Lines(const v1::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan.actions()) {
    out.push_back(std::string(a.kind() == v1::RESOURCE_KIND_TUNNEL ? "tunnel/" : "session/") + a.name() +
                  " " + Op::Operation_Name(a.operation()));
  }
  return out;
}

TEST(PlanTest, CreatesTunnelsBeforeSessions) {
  EXPECT_THAT(Lines(ComputeApplyPlan({}, Base(), {})),
              ElementsAre("tunnel/t1 OPERATION_CREATE", "session/s1 OPERATION_CREATE"));
}

TEST(PlanTest, DeletesSessionsBeforeTunnels) {
  EXPECT_THAT(Lines(ComputeApplyPlan(Base(), {}, {})),
              ElementsAre("session/s1 OPERATION_DELETE", "tunnel/t1 OPERATION_DELETE"));
}

TEST(PlanTest, UnchangedListedOnlyWhenMentioned) {
  EXPECT_TRUE(Lines(ComputeApplyPlan(Base(), Base(), {})).empty());
  EXPECT_THAT(Lines(ComputeApplyPlan(Base(), Base(), {"session/s1"})),
              ElementsAre("session/s1 OPERATION_UNCHANGED"));
}

TEST(PlanTest, SequencingChangesInPlace) {
  DesiredState after = Base();
  after.sessions["s1"].mutable_spec()->set_send_sequence(true);
  after.sessions["s1"].mutable_spec()->set_mtu(1400);
  auto plan = ComputeApplyPlan(Base(), after, {});
  ASSERT_EQ(plan.actions_size(), 1);
  EXPECT_EQ(plan.actions(0).operation(), Op::OPERATION_MODIFY);
  EXPECT_THAT(plan.actions(0).changed_fields(), ElementsAre("send_sequence", "mtu"));
}

TEST(PlanTest, CookieChangeReplacesSession) {
  DesiredState after = Base();
  after.sessions["s1"].mutable_spec()->set_cookie("aabbccdd");
  auto plan = ComputeApplyPlan(Base(), after, {});
  ASSERT_EQ(plan.actions_size(), 1);
  EXPECT_EQ(plan.actions(0).operation(), Op::OPERATION_REPLACE);
  EXPECT_THAT(plan.actions(0).changed_fields(), ElementsAre("cookie"));
}

TEST(PlanTest, ReplacingATunnelReplacesItsSessions) {
  DesiredState after = Base();
  after.tunnels["t1"].mutable_spec()->set_remote("192.0.2.99");
  EXPECT_THAT(Lines(ComputeApplyPlan(Base(), after, {})),
              ElementsAre("tunnel/t1 OPERATION_REPLACE", "session/s1 OPERATION_REPLACE"));
}

TEST(PlanTest, ChangedFieldsComparesPresence) {
  v1::SessionSpec a, b;
  b.set_mtu(0);
  EXPECT_THAT(ChangedFields(a, b), ElementsAre("mtu"));
  EXPECT_TRUE(SessionChangeIsInPlace({"mtu", "lns_mode", "reorder_timeout"}));
  EXPECT_FALSE(SessionChangeIsInPlace({"mtu", "peer_session_id"}));
}

// The contract names its in-place fields by SessionSpec field name; a rename
// in the API must not silently turn every in-place change into a replace.
TEST(ApplyPlanTest, EveryInPlaceFieldIsASessionSpecField) {
  for (const auto& field : kModifiableSessionFields) {
    EXPECT_NE(v1::SessionSpec::descriptor()->FindFieldByName(std::string(field.api_name)), nullptr)
        << field.api_name;
    EXPECT_TRUE(SessionChangeIsInPlace({std::string(field.api_name)})) << field.api_name;
  }
  EXPECT_FALSE(SessionChangeIsInPlace({"cookie"}));
}

// Issue 13: the control protocol's settings and a session's Remote End ID
// cannot change in place.
DesiredState DynamicBase() {
  DesiredState d;
  d.tunnels["t1"] = testing::MakeTunnel("t1", 0);
  auto* spec = d.tunnels["t1"].mutable_spec();
  spec->set_peer_tunnel_id(0);
  spec->mutable_control()->set_mode(v1::TunnelControl::MODE_DYNAMIC);
  spec->mutable_control()->set_role(v1::TunnelControl::ROLE_INITIATOR);
  d.sessions["s1"] = testing::MakeSession("s1", "t1", 0);
  d.sessions["s1"].mutable_spec()->set_peer_session_id(0);
  d.sessions["s1"].mutable_spec()->set_remote_end_id("pw-1");
  return d;
}

TEST(ApplyPlanDynamicTest, ControlChangesReplaceTheTunnelNamingTheField) {
  DesiredState after = DynamicBase();
  after.tunnels["t1"].mutable_spec()->mutable_control()->mutable_hello_interval()->set_seconds(10);
  auto plan = ComputeApplyPlan(DynamicBase(), after, {});
  EXPECT_THAT(Lines(plan), ElementsAre("tunnel/t1 OPERATION_REPLACE", "session/s1 OPERATION_REPLACE"));
  EXPECT_THAT(plan.actions(0).changed_fields(), ElementsAre("control.hello_interval"));

  for (auto change : std::vector<std::function<void(v1::TunnelControl*)>>{
           [](v1::TunnelControl* k) { k->set_role(v1::TunnelControl::ROLE_RESPONDER); },
           [](v1::TunnelControl* k) { k->set_host_name("lac"); },
           [](v1::TunnelControl* k) { k->set_secret_file("/etc/l2tp/secret"); },
           [](v1::TunnelControl* k) { k->set_retransmit_retries(7); },
           [](v1::TunnelControl* k) { k->set_receive_window(8); }}) {
    DesiredState changed = DynamicBase();
    change(changed.tunnels["t1"].mutable_spec()->mutable_control());
    auto p = ComputeApplyPlan(DynamicBase(), changed, {});
    ASSERT_EQ(p.actions_size(), 2);
    EXPECT_EQ(p.actions(0).operation(), Op::OPERATION_REPLACE);
    ASSERT_EQ(p.actions(0).changed_fields_size(), 1);
    EXPECT_THAT(p.actions(0).changed_fields(0), ::testing::StartsWith("control."));
  }
}

TEST(ApplyPlanDynamicTest, StaticToDynamicNamesModeAndRole) {
  DesiredState before = DynamicBase();
  before.tunnels["t1"].mutable_spec()->clear_control();
  DesiredState after = DynamicBase();
  auto plan = ComputeApplyPlan(before, after, {});
  ASSERT_GE(plan.actions_size(), 1);
  EXPECT_EQ(plan.actions(0).operation(), Op::OPERATION_REPLACE);
  EXPECT_THAT(plan.actions(0).changed_fields(), ElementsAre("control.mode", "control.role"));
  // Set but empty against unset: named as a whole.
  v1::TunnelSpec a, b;
  b.mutable_control();
  EXPECT_THAT(ChangedFields(a, b), ElementsAre("control"));
  EXPECT_TRUE(ChangedFields(a, a).empty());
}

TEST(ApplyPlanDynamicTest, RemoteEndIdChangeReplacesTheSession) {
  DesiredState after = DynamicBase();
  after.sessions["s1"].mutable_spec()->set_remote_end_id("pw-2");
  auto plan = ComputeApplyPlan(DynamicBase(), after, {});
  ASSERT_EQ(plan.actions_size(), 1);
  EXPECT_EQ(plan.actions(0).operation(), Op::OPERATION_REPLACE);
  EXPECT_THAT(plan.actions(0).changed_fields(), ElementsAre("remote_end_id"));
  EXPECT_FALSE(SessionChangeIsInPlace({"remote_end_id"}));
  EXPECT_FALSE(SessionChangeIsInPlace({"mtu", "remote_end_id"}));
}

}  // namespace
}  // namespace l2tp
