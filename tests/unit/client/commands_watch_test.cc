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

void AddEvents(FakeAgent& agent) {
  v1::WatchEvent added;
  added.set_type(v1::WatchEvent::TYPE_ADDED);
  *added.mutable_tunnel() = testing::SampleTunnel();
  v1::WatchEvent synced;
  synced.set_type(v1::WatchEvent::TYPE_SYNCED);
  v1::WatchEvent modified;
  modified.set_type(v1::WatchEvent::TYPE_MODIFIED);
  *modified.mutable_session() = testing::SampleSession();
  agent.service().watch_events = {added, synced, modified};
}

TEST(WatchCommandTest, OneLinePerEventUntilTheStreamEnds) {
  FakeAgent agent;
  AddEvents(agent);
  auto r = RunAgainst(agent, {"watch"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ADDED tunnel/t1 phase=READY gen=2\n"
            "--- synced ---\n"
            "MODIFIED session/s1 phase=FAILED gen=1 interface l2tpeth0 exists\n");
}

TEST(WatchCommandTest, JsonOneCompactObjectPerLine) {
  FakeAgent agent;
  AddEvents(agent);
  auto r = RunAgainst(agent, {"watch", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::WatchEvent back;
    ASSERT_TRUE(ParseConfigText(lines[i], &back).ok()) << lines[i];
    EXPECT_EQ(back.SerializeAsString(), agent.service().watch_events[i].SerializeAsString());
  }
  EXPECT_EQ(lines[1], "{\"type\":\"TYPE_SYNCED\"}");
}

TEST(WatchCommandTest, YamlOneDocumentPerEvent) {
  FakeAgent agent;
  AddEvents(agent);
  auto r = RunAgainst(agent, {"watch", "-o", "yaml"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.out.substr(0, 4), "---\n");
  std::vector<std::string> docs = absl::StrSplit(r.out.substr(4), "---\n");
  ASSERT_EQ(docs.size(), 3u) << r.out;
  for (size_t i = 0; i < docs.size(); ++i) {
    v1::WatchEvent back;
    ASSERT_TRUE(ParseConfigText(docs[i], &back).ok()) << docs[i];
    EXPECT_EQ(back.SerializeAsString(), agent.service().watch_events[i].SerializeAsString());
  }
}

TEST(WatchCommandTest, TimeoutEndsAnOpenWatchSuccessfully) {
  FakeAgent agent;
  AddEvents(agent);
  agent.service().watch_holds_open = true;
  absl::Time start = absl::Now();
  auto r = RunAgainst(agent, {"--timeout", "300ms", "watch"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  EXPECT_THAT(r.out, HasSubstr("--- synced ---\n"));
}

TEST(WatchCommandTest, StreamErrorExits1) {
  FakeAgent agent;
  AddEvents(agent);
  agent.service().status = grpc::Status(grpc::StatusCode::INTERNAL, "store corrupted");
  auto r = RunAgainst(agent, {"watch"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("--- synced ---"));
  EXPECT_EQ(r.err, "error: the watch ended: INTERNAL: store corrupted\n");
}

TEST(WatchCommandTest, ErrorBeforeAnyEvent) {
  FakeAgent agent;
  agent.service().status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many watchers");
  auto r = RunAgainst(agent, {"watch"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: RESOURCE_EXHAUSTED: too many watchers\n");
}

TEST(WatchCommandTest, NoAgent) {
  auto r = testing::RunCliForTest({"--socket", "/tmp/l2tpctl-test-nothing.sock", "watch"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("/tmp/l2tpctl-test-nothing.sock"));
  EXPECT_THAT(r.err, HasSubstr("Is l2tp-agent running?"));
}

}  // namespace
}  // namespace l2tp::cli
