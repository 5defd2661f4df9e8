#include <fstream>

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

constexpr char kConfigYaml[] = R"(tunnels:
  - name: t1
    spec: {tunnelId: 100, peerTunnelId: 200, local: 10.0.0.1, remote: 10.0.0.2}
sessions:
  - name: s1
    spec: {tunnel: t1, sessionId: 1, peerSessionId: 2, sendSequence: true}
)";

std::string WriteFile(const FakeAgent& agent, const std::string& name, const std::string& text) {
  std::string path = agent.dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

void AddAction(v1::ApplyResponse* r, v1::ResourceKind kind, const std::string& name,
               v1::PlanAction::Operation op, std::vector<std::string> changed = {}) {
  auto* a = r->mutable_plan()->add_actions();
  a->set_kind(kind);
  a->set_name(name);
  a->set_operation(op);
  for (auto& c : changed) a->add_changed_fields(c);
}

TEST(ApplyCommandTest, SendsTheFileAndPrintsThePlan) {
  FakeAgent agent;
  auto& svc = agent.service();
  AddAction(&svc.apply_response, v1::RESOURCE_KIND_TUNNEL, "t1", v1::PlanAction::OPERATION_UNCHANGED);
  AddAction(&svc.apply_response, v1::RESOURCE_KIND_SESSION, "s1", v1::PlanAction::OPERATION_MODIFY,
            {"sendSequence"});
  AddAction(&svc.apply_response, v1::RESOURCE_KIND_SESSION, "s9", v1::PlanAction::OPERATION_DELETE);
  std::string file = WriteFile(agent, "c.yaml", kConfigYaml);

  auto r = RunAgainst(agent, {"apply", "-f", file, "--prune"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "tunnel/t1 unchanged\n"
            "session/s1 configured (changed: sendSequence)\n"
            "session/s9 deleted\n");
  ASSERT_EQ(svc.last_apply.tunnels_size(), 1);
  EXPECT_EQ(svc.last_apply.tunnels(0).spec().remote(), "10.0.0.2");
  ASSERT_EQ(svc.last_apply.sessions_size(), 1);
  EXPECT_TRUE(svc.last_apply.sessions(0).spec().send_sequence());
  EXPECT_TRUE(svc.last_apply.prune());
  EXPECT_FALSE(svc.last_apply.dry_run());
}

TEST(ApplyCommandTest, DryRunFromStdin) {
  FakeAgent agent;
  auto& svc = agent.service();
  AddAction(&svc.apply_response, v1::RESOURCE_KIND_TUNNEL, "t1", v1::PlanAction::OPERATION_CREATE);
  auto r = RunAgainst(agent, {"apply", "-f", "-", "--dry-run"}, kConfigYaml);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "tunnel/t1 created (dry run)\n");
  EXPECT_TRUE(svc.last_apply.dry_run());
  EXPECT_FALSE(svc.last_apply.prune());
  EXPECT_EQ(svc.last_apply.tunnels(0).name(), "t1");
}

TEST(ApplyCommandTest, JsonOutputIsTheResponse) {
  FakeAgent agent;
  auto& svc = agent.service();
  AddAction(&svc.apply_response, v1::RESOURCE_KIND_TUNNEL, "t1", v1::PlanAction::OPERATION_CREATE);
  *svc.apply_response.add_tunnels() = testing::SampleTunnel();
  auto r = RunAgainst(agent, {"apply", "-f", "-", "-o", "json"}, "{\"tunnels\":[]}");
  EXPECT_EQ(r.code, 0) << r.err;
  v1::ApplyResponse back;
  ASSERT_TRUE(ParseConfigText(r.out, &back).ok()) << r.out;
  EXPECT_EQ(back.SerializeAsString(), svc.apply_response.SerializeAsString());
}

TEST(ApplyCommandTest, ServerRejectionPrintsCodeAndFieldPath) {
  FakeAgent agent;
  agent.service().status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        "sessions[0].spec.cookie: must be 0, 4 or 8 bytes, got 3");
  auto r = RunAgainst(agent, {"apply", "-f", "-"}, kConfigYaml);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: INVALID_ARGUMENT: sessions[0].spec.cookie: must be 0, 4 or 8 bytes, got 3\n");
}

TEST(ApplyCommandTest, ConfigErrorsNameTheFileAndCallNothing) {
  FakeAgent agent;
  std::string file = WriteFile(agent, "bad.yaml", "tunnels:\n  - name: t1\n    bogusField: 1\n");
  auto r = RunAgainst(agent, {"apply", "-f", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: " + file + ": "));
  EXPECT_THAT(r.err, HasSubstr("bogusField"));

  r = RunAgainst(agent, {"apply", "-f", agent.dir() + "/missing.yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: " + agent.dir() + "/missing.yaml: no such file\n");

  r = RunAgainst(agent, {"apply", "-f", "-"}, "tunnels: [");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("<stdin>: "));
  EXPECT_EQ(agent.service().calls, 0);
}

TEST(ApplyCommandTest, RefusesADirectory) {
  FakeAgent agent;
  auto r = RunAgainst(agent, {"apply", "-f", agent.dir()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: " + agent.dir() + ": is a directory, not a config file\n");
  EXPECT_EQ(agent.service().calls, 0);
}

TEST(ApplyCommandTest, RefusesToPruneEverythingWithAnEmptyFile) {
  FakeAgent agent;
  std::string file = WriteFile(agent, "empty.yaml", "");
  auto r = RunAgainst(agent, {"apply", "-f", file, "--prune"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(file + ": no tunnels or sessions; with --prune"));
  r = RunAgainst(agent, {"apply", "-f", "-", "--prune", "--dry-run"}, "{}");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("<stdin>: no tunnels or sessions"));
  EXPECT_EQ(agent.service().calls, 0);
}

TEST(ApplyCommandTest, UsageErrors) {
  FakeAgent agent;
  auto r = RunAgainst(agent, {"apply"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("-f FILE is required"));
  EXPECT_EQ(RunAgainst(agent, {"apply", "-f", "-", "-o", "wide"}).code, 2);
  EXPECT_EQ(RunAgainst(agent, {"apply", "-f", "-", "extra"}).code, 2);
  EXPECT_EQ(agent.service().calls, 0);
}

TEST(ApplyCommandTest, EmptyPlanSaysSoOnStderr) {
  FakeAgent agent;
  auto r = RunAgainst(agent, {"apply", "-f", "-"}, "{}");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "nothing to apply\n");
}

}  // namespace
}  // namespace l2tp::cli
