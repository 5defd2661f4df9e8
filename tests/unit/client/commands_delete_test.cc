#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/cli_test_support.h"

namespace v1 = ::l2tpagent::v1;

namespace l2tp::cli {
namespace {

using testing::FakeAgent;
using ::testing::HasSubstr;
using testing::RunAgainst;

TEST(DeleteCommandTest, SendsKindNameAndPreconditions) {
  FakeAgent agent;
  auto r = RunAgainst(agent, {"delete", "tunnel", "t1", "--cascade", "--resource-version", "42"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "tunnel/t1 deleted\n");
  const auto& req = agent.service().last_delete;
  EXPECT_EQ(req.kind(), v1::RESOURCE_KIND_TUNNEL);
  EXPECT_EQ(req.name(), "t1");
  EXPECT_TRUE(req.cascade());
  EXPECT_EQ(req.resource_version(), "42");
}

TEST(DeleteCommandTest, PrintsThePlanWhenTheAgentSendsOne) {
  FakeAgent agent;
  for (auto [kind, name] :
       {std::pair{v1::RESOURCE_KIND_SESSION, "s1"}, std::pair{v1::RESOURCE_KIND_TUNNEL, "t1"}}) {
    auto* a = agent.service().delete_response.mutable_plan()->add_actions();
    a->set_kind(kind);
    a->set_name(name);
    a->set_operation(v1::PlanAction::OPERATION_DELETE);
  }
  auto r = RunAgainst(agent, {"delete", "tunnels", "t1", "--cascade"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "session/s1 deleted\ntunnel/t1 deleted\n");
}

TEST(DeleteCommandTest, Session) {
  FakeAgent agent;
  auto r = RunAgainst(agent, {"delete", "session", "s1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "session/s1 deleted\n");
  EXPECT_EQ(agent.service().last_delete.kind(), v1::RESOURCE_KIND_SESSION);
  EXPECT_FALSE(agent.service().last_delete.cascade());
  EXPECT_EQ(agent.service().last_delete.resource_version(), "");
}

TEST(DeleteCommandTest, FailedPreconditionExits1) {
  FakeAgent agent;
  agent.service().status = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                        "tunnel t1 has 2 sessions; use cascade");
  auto r = RunAgainst(agent, {"delete", "tunnel", "t1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: FAILED_PRECONDITION: tunnel t1 has 2 sessions; use cascade\n");
}

TEST(DeleteCommandTest, UsageErrors) {
  FakeAgent agent;
  EXPECT_EQ(RunAgainst(agent, {"delete"}).code, 2);
  EXPECT_EQ(RunAgainst(agent, {"delete", "tunnel"}).code, 2);
  EXPECT_EQ(RunAgainst(agent, {"delete", "all", "x"}).code, 2);
  EXPECT_EQ(RunAgainst(agent, {"delete", "tunnel", "a", "b"}).code, 2);
  auto r = RunAgainst(agent, {"delete", "session", "s1", "--cascade"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--cascade applies to tunnels only"));
  EXPECT_EQ(agent.service().calls, 0);
}

}  // namespace
}  // namespace l2tp::cli
