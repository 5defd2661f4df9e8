// The --config file as a layer of desired state: applied whole, what it drops
// is deleted, what the API applied is left alone, broken files change nothing.
#include "agent/state/config_reloader.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

using ::testing::HasSubstr;
using testing::MakeSession;
using testing::MakeTunnel;

class ConfigReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-config-reload-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    file_ = dir_ + "/config.yaml";
    Reopen();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Reopen() {
    reloader_.reset();
    registry_.reset();
    Store::LoadReport report;
    auto store = Store::Open(dir_ + "/state", &report);
    ASSERT_TRUE(store.ok());
    registry_ = std::make_unique<Registry>(*std::move(store), &hub_, "memory", Registry::Limits{});
    reloader_ = std::make_unique<ConfigReloader>(file_, registry_.get(), [this](const absl::Status& st) {
      (st.ok() ? applied_ : failed_)++;
    });
  }
  void Write(const std::string& text) { std::ofstream(file_, std::ios::trunc) << text; }
  // Desired resources (deleted ones linger as DELETING until a reconciler,
  // absent here, removes them from the datapath).
  std::vector<std::string> Names() {
    std::vector<std::string> out;
    auto all = registry_->List({});
    for (const auto& t : all->tunnels()) {
      if (t.status().phase() != v1::PHASE_DELETING) out.push_back("tunnel/" + t.name());
    }
    for (const auto& s : all->sessions()) {
      if (s.status().phase() != v1::PHASE_DELETING) out.push_back("session/" + s.name());
    }
    return out;
  }

  static constexpr const char* kTwoTunnels = R"(
tunnels:
  - {name: a, spec: {tunnelId: 1, peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.2}}
  - {name: b, spec: {tunnelId: 3, peerTunnelId: 4, local: 192.0.2.1, remote: 192.0.2.3}}
sessions:
  - {name: a1, spec: {tunnel: a, sessionId: 1, peerSessionId: 2}}
  - {name: b1, spec: {tunnel: b, sessionId: 1, peerSessionId: 2}}
)";
  static constexpr const char* kOneTunnel = R"(
tunnels:
  - {name: a, spec: {tunnelId: 1, peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.2}}
sessions:
  - {name: a1, spec: {tunnel: a, sessionId: 1, peerSessionId: 2, mtu: 1400}}
)";

  std::string dir_, file_;
  WatchHub hub_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<ConfigReloader> reloader_;
  int applied_ = 0, failed_ = 0;
};

TEST_F(ConfigReloaderTest, AppliesTheFileAndOnlyWhenItChanges) {
  Write(kTwoTunnels);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  EXPECT_THAT(Names(), ::testing::ElementsAre("tunnel/a", "tunnel/b", "session/a1", "session/b1"));
  ASSERT_TRUE(reloader_->CheckNow().ok());
  EXPECT_EQ(applied_, 1);  // unchanged content is not applied again
}

TEST_F(ConfigReloaderTest, WhatTheFileDropsIsDeletedAndTheRestModified) {
  Write(kTwoTunnels);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  Write(kOneTunnel);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  EXPECT_THAT(Names(), ::testing::ElementsAre("tunnel/a", "session/a1"));
  auto a1 = registry_->Get([] {
    v1::GetRequest r;
    r.set_kind(v1::RESOURCE_KIND_SESSION);
    r.set_name("a1");
    return r;
  }());
  ASSERT_TRUE(a1.ok());
  EXPECT_EQ(a1->session().spec().mtu(), 1400u);
}

TEST_F(ConfigReloaderTest, ResourcesAppliedThroughTheApiAreLeftAlone) {
  Write(kTwoTunnels);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  v1::ApplyRequest api;
  *api.add_tunnels() = MakeTunnel("api-t", 50, "192.0.2.1", "192.0.2.9");
  *api.add_sessions() = MakeSession("api-s", "api-t", 5);
  ASSERT_TRUE(registry_->Apply(api).ok());
  Write(kOneTunnel);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  EXPECT_THAT(Names(), ::testing::ElementsAre("tunnel/a", "tunnel/api-t", "session/a1", "session/api-s"));
}

TEST_F(ConfigReloaderTest, TheFilesNamesSurviveARestart) {
  Write(kTwoTunnels);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  Reopen();  // the agent restarts; meanwhile the file lost tunnel b
  Write(kOneTunnel);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  EXPECT_THAT(Names(), ::testing::ElementsAre("tunnel/a", "session/a1"));
}

TEST_F(ConfigReloaderTest, ABrokenFileChangesNothingAndIsReportedOnce) {
  Write(kTwoTunnels);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  const auto before = Names();
  Write(
      "tunnels:\n  - {name: a, spec: {tunnelId: 0, peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.2}}\n");
  absl::Status st = reloader_->CheckNow();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("tunnels[0].spec.tunnel_id"));
  EXPECT_THAT(std::string(st.message()), HasSubstr(file_));
  Write("tunnels: [ {name: \n");
  EXPECT_FALSE(reloader_->CheckNow().ok());
  EXPECT_FALSE(reloader_->CheckNow().ok());  // same broken content: not re-reported
  EXPECT_EQ(Names(), before);
  EXPECT_EQ(failed_, 2);
  Write(kTwoTunnels);  // back to the applied content: nothing to do
  EXPECT_TRUE(reloader_->CheckNow().ok());
  EXPECT_EQ(Names(), before);
}

TEST_F(ConfigReloaderTest, DroppingATunnelAnApiSessionUsesIsRefused) {
  Write(kTwoTunnels);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  v1::ApplyRequest api;
  *api.add_sessions() = MakeSession("api-on-b", "b", 9);
  ASSERT_TRUE(registry_->Apply(api).ok());
  Write(kOneTunnel);
  absl::Status st = reloader_->CheckNow();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), HasSubstr("session \"api-on-b\" still uses it"));
  EXPECT_THAT(Names(), ::testing::Contains("tunnel/b"));
  EXPECT_THAT(Names(), ::testing::Contains("session/b1"));
}

TEST_F(ConfigReloaderTest, AFileThatVanishesChangesNothing) {
  Write(kTwoTunnels);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  std::filesystem::remove(file_);
  EXPECT_EQ(reloader_->CheckNow().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Names().size(), 4u);
}

TEST_F(ConfigReloaderTest, TheThreadPicksUpAChange) {
  Write(kTwoTunnels);
  ASSERT_TRUE(reloader_->CheckNow().ok());
  reloader_->Start(std::chrono::milliseconds(10));
  Write(kOneTunnel);
  for (int i = 0; i < 500 && Names().size() != 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  reloader_->Stop();
  EXPECT_THAT(Names(), ::testing::ElementsAre("tunnel/a", "session/a1"));
}

}  // namespace
}  // namespace l2tp
