#include "agent/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-store-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  storev1::State StateWith(uint64_t revision, const std::string& tunnel) {
    storev1::State s;
    s.set_revision(revision);
    s.add_tunnels()->set_name(tunnel);
    return s;
  }
  void Corrupt(const std::string& path, std::function<void(std::string*)> f) {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), {});
    f(&data);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }
  std::string dir_;
};

TEST_F(StoreTest, FreshDirectoryStartsEmpty) {
  Store::LoadReport report;
  auto store = Store::Open(dir_ + "/sub/dir", &report);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(report.fresh);
  EXPECT_EQ((*store)->state().tunnels_size(), 0);
}

TEST_F(StoreTest, CommitSurvivesReopen) {
  Store::LoadReport report;
  {
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE((*store)->Commit(StateWith(1, "a")).ok());
    ASSERT_TRUE((*store)->Commit(StateWith(2, "b")).ok());
  }
  auto again = Store::Open(dir_, &report);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(report.fresh);
  EXPECT_EQ((*again)->state().revision(), 2u);
  EXPECT_EQ((*again)->state().tunnels(0).name(), "b");
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/state.pb").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, TruncatedFileFallsBackToPreviousGoodState) {
  Store::LoadReport report;
  {
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE((*store)->Commit(StateWith(1, "old")).ok());
    ASSERT_TRUE((*store)->Commit(StateWith(2, "new")).ok());
  }
  Corrupt(dir_ + "/state.pb", [](std::string* d) { d->resize(d->size() - 3); });
  auto store = Store::Open(dir_, &report);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(report.recovered);
  EXPECT_THAT(report.problem, HasSubstr("truncated"));
  EXPECT_EQ((*store)->state().tunnels(0).name(), "old");
  // The bad file is kept aside and the good state is current again.
  bool kept = false;
  for (auto& e : fs::directory_iterator(dir_)) kept |= e.path().filename().string().rfind("state.pb.corrupt-", 0) == 0;
  EXPECT_TRUE(kept);
  auto reopened = Store::Open(dir_, &report);
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE(report.recovered);
}

TEST_F(StoreTest, FlippedByteIsDetected) {
  Store::LoadReport report;
  {
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE((*store)->Commit(StateWith(1, "old")).ok());
    ASSERT_TRUE((*store)->Commit(StateWith(2, "new")).ok());
  }
  Corrupt(dir_ + "/state.pb", [](std::string* d) { (*d)[d->size() - 1] ^= 0x01; });
  auto store = Store::Open(dir_, &report);
  ASSERT_TRUE(store.ok());
  EXPECT_THAT(report.problem, HasSubstr("checksum"));
  EXPECT_EQ((*store)->state().revision(), 1u);
}

TEST_F(StoreTest, CorruptWithoutPreviousStateRefusesToStart) {
  Store::LoadReport report;
  {
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE((*store)->Commit(StateWith(1, "only")).ok());
  }
  Corrupt(dir_ + "/state.pb", [](std::string* d) { (*d)[0] = 'X'; });
  auto store = Store::Open(dir_, &report);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr("bad magic"));
  EXPECT_THAT(store.status().message(), HasSubstr("no previous good state"));
}

TEST_F(StoreTest, DecodeRejectsGarbage) {
  EXPECT_FALSE(Store::Decode("").ok());
  EXPECT_FALSE(Store::Decode(std::string(100, '\0')).ok());
  std::string good = Store::Encode(StateWith(5, "x"));
  EXPECT_TRUE(Store::Decode(good).ok());
  EXPECT_FALSE(Store::Decode(good + "extra").ok());
}

TEST_F(StoreTest, FailedCommitKeepsState) {
  Store::LoadReport report;
  auto store = Store::Open(dir_, &report);
  ASSERT_TRUE((*store)->Commit(StateWith(1, "kept")).ok());
  // A directory where the temp file must go makes the write fail.
  fs::create_directory(dir_ + "/state.pb.tmp");
  fs::create_directory(dir_ + "/state.pb.tmp/x");
  EXPECT_FALSE((*store)->Commit(StateWith(2, "lost")).ok());
  EXPECT_EQ((*store)->state().tunnels(0).name(), "kept");
}

}  // namespace
}  // namespace l2tp
