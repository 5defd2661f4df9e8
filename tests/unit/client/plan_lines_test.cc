#include "client/plan_lines.h"

#include "gtest/gtest.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

v1::PlanAction Action(v1::ResourceKind kind, const std::string& name, v1::PlanAction::Operation op,
                      std::vector<std::string> changed = {}, const std::string& reason = "") {
  v1::PlanAction a;
  a.set_kind(kind);
  a.set_name(name);
  a.set_operation(op);
  for (auto& c : changed) a.add_changed_fields(c);
  a.set_reason(reason);
  return a;
}

TEST(PlanLinesTest, EachOperation) {
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_TUNNEL, "t1", v1::PlanAction::OPERATION_CREATE), false),
            "tunnel/t1 created");
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_SESSION, "s1", v1::PlanAction::OPERATION_MODIFY,
                            {"sendSequence"}),
                     false),
            "session/s1 configured (changed: sendSequence)");
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_TUNNEL, "t2", v1::PlanAction::OPERATION_REPLACE, {"remote"}),
                     false),
            "tunnel/t2 replaced (changed: remote)");
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_SESSION, "s9", v1::PlanAction::OPERATION_DELETE), false),
            "session/s9 deleted");
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_TUNNEL, "t1", v1::PlanAction::OPERATION_UNCHANGED), false),
            "tunnel/t1 unchanged");
}

// Field names are the agent's, verbatim, as in `-o json`.
TEST(PlanLinesTest, ChangedFieldsThenReason) {
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_TUNNEL, "t2", v1::PlanAction::OPERATION_REPLACE, {"remote"},
                            "tunnel parameters cannot change in place"),
                     false),
            "tunnel/t2 replaced (changed: remote; tunnel parameters cannot change in place)");
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_SESSION, "s1", v1::PlanAction::OPERATION_MODIFY,
                            {"send_sequence", "mtu"}),
                     false),
            "session/s1 configured (changed: send_sequence, mtu)");
}

TEST(PlanLinesTest, ReasonShownWhenNoFieldChanged) {
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_SESSION, "s3", v1::PlanAction::OPERATION_REPLACE, {},
                            "its tunnel is replaced"),
                     false),
            "session/s3 replaced (its tunnel is replaced)");
}

TEST(PlanLinesTest, DryRunSuffix) {
  EXPECT_EQ(PlanLine(Action(v1::RESOURCE_KIND_SESSION, "s1", v1::PlanAction::OPERATION_MODIFY, {"mtu"}),
                     true),
            "session/s1 configured (changed: mtu) (dry run)");
}

TEST(PlanLinesTest, WholePlanOneLinePerAction) {
  v1::Plan plan;
  *plan.add_actions() = Action(v1::RESOURCE_KIND_TUNNEL, "t1", v1::PlanAction::OPERATION_CREATE);
  *plan.add_actions() = Action(v1::RESOURCE_KIND_SESSION, "s1", v1::PlanAction::OPERATION_CREATE);
  EXPECT_EQ(PlanLines(plan, true), "tunnel/t1 created (dry run)\nsession/s1 created (dry run)\n");
  EXPECT_EQ(PlanLines(v1::Plan(), false), "");
}

}  // namespace
}  // namespace l2tp::cli
