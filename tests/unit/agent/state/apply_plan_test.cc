#include "agent/state/apply_plan.h"

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

}  // namespace
}  // namespace l2tp
