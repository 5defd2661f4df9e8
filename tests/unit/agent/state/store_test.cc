#include "agent/state/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {

namespace storev1 = ::l2tpagent::store::v1;
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// As the registry commits a resource: with a generation and a resource_version.
template <typename R>
R Stamped(R resource) {
  resource.set_generation(1);
  resource.set_resource_version("1");
  return resource;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-store-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A valid state: the store refuses to load content Apply could not have written.
  storev1::State StateWith(uint64_t revision, const std::string& tunnel) {
    storev1::State s;
    s.set_revision(revision);
    *s.add_tunnels() = Stamped(testing::MakeTunnel(tunnel, 1));
    return s;
  }
  void WriteState(const std::string& name, const storev1::State& state) {
    std::ofstream(dir_ + "/" + name, std::ios::binary | std::ios::trunc) << Store::Encode(state);
  }
  bool SetAside() {
    for (auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind("state.pb.corrupt-", 0) == 0) return true;
    }
    return false;
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
  EXPECT_TRUE(SetAside());
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
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("bad magic"));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("no previous good state"));
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

// ---- the content of a file with a good CRC is checked like an Apply

// A state the agent could have written: a tunnel and a session in it.
storev1::State GoodState(uint64_t revision) {
  storev1::State s;
  s.set_revision(revision);
  *s.add_tunnels() = Stamped(testing::MakeTunnel("t1", 100));
  *s.add_sessions() = Stamped(testing::MakeSession("s1", "t1", 1));
  s.mutable_sessions(0)->mutable_spec()->set_interface_name("l2tp100-1");
  return s;
}

struct BadContent {
  std::string label;
  std::function<void(storev1::State*)> spoil;
  std::string reason;  // expected in the report
};

void PrintTo(const BadContent& c, std::ostream* os) { *os << c.label; }

std::vector<BadContent> BadContents() {
  return {
      {"DanglingSession",
       [](storev1::State* s) { s->mutable_sessions(0)->mutable_spec()->set_tunnel("gone"); },
       "sessions[0].spec.tunnel: tunnel \"gone\" does not exist"},
      {"DuplicateTunnelId",
       [](storev1::State* s) {
         *s->add_tunnels() = Stamped(testing::MakeTunnel("t2", 100, "192.0.2.1", "192.0.2.3"));
       },
       "tunnels[1].spec.tunnel_id: tunnel_id 100 is already used by tunnel \"t1\""},
      {"DuplicateTunnelName",
       [](storev1::State* s) {
         *s->add_tunnels() = Stamped(testing::MakeTunnel("t1", 101, "192.0.2.1", "192.0.2.3"));
       },
       "tunnels[1].name: \"t1\" appears twice (also tunnels[0])"},
      {"InvalidName", [](storev1::State* s) { s->mutable_sessions(0)->set_name("Bad_Name"); },
       "sessions[0].name: must"},
      {"NoResourceVersion", [](storev1::State* s) { s->mutable_sessions(0)->clear_resource_version(); },
       "sessions[0].resource_version: empty"},
      {"Version7", [](storev1::State* s) { s->mutable_tunnels(0)->mutable_spec()->set_version(7); },
       "tunnels[0].spec.version: must be 3, got 7"},
  };
}

class StoreContentTest : public StoreTest, public ::testing::WithParamInterface<BadContent> {
 protected:
  storev1::State Bad() {
    storev1::State s = GoodState(2);
    GetParam().spoil(&s);
    return s;
  }
};

TEST_P(StoreContentTest, InvalidContentFallsBackToPreviousGoodState) {
  WriteState("state.pb.prev", GoodState(1));
  WriteState("state.pb", Bad());
  Store::LoadReport report;
  auto store = Store::Open(dir_, &report);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(report.recovered);
  EXPECT_THAT(report.problem, HasSubstr(dir_ + "/state.pb: invalid content"));
  EXPECT_THAT(report.problem, HasSubstr(GetParam().reason));
  EXPECT_EQ((*store)->state().revision(), 1u);
  EXPECT_TRUE(SetAside());
  // The good state is current again: the next start loads it without a word.
  auto reopened = Store::Open(dir_, &report);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_FALSE(report.recovered);
  EXPECT_EQ((*reopened)->state().revision(), 1u);
}

TEST_P(StoreContentTest, InvalidContentWithoutPreviousStateRefusesToStart) {
  WriteState("state.pb", Bad());
  Store::LoadReport report;
  auto store = Store::Open(dir_, &report);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(store.status().message()),
              HasSubstr(dir_ + "/state.pb: invalid content, 1 problem: "))
      << "a test case should break one rule only";
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(GetParam().reason));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("no previous good state"));
  EXPECT_TRUE(fs::exists(dir_ + "/state.pb"));  // left in place for the operator
}

TEST_P(StoreContentTest, InvalidPreviousStateIsNotLoadedEither) {
  WriteState("state.pb.prev", Bad());
  fs::remove(dir_ + "/state.pb");
  Store::LoadReport report;
  auto store = Store::Open(dir_, &report);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(dir_ + "/state.pb: missing"));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(dir_ + "/state.pb.prev: invalid content"));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(Spoiled, StoreContentTest, ::testing::ValuesIn(BadContents()),
                         [](const auto& info) { return info.param.label; });

TEST_F(StoreTest, ValidStateWithSessionsLoads) {
  WriteState("state.pb", GoodState(3));
  Store::LoadReport report;
  auto store = Store::Open(dir_, &report);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_FALSE(report.recovered);
  EXPECT_EQ((*store)->state().sessions_size(), 1);
}

TEST_F(StoreTest, ManyProblemsAreCapped) {
  storev1::State s;
  for (int i = 0; i < 20; ++i) {
    auto* t = s.add_tunnels();
    *t = Stamped(testing::MakeTunnel("t" + std::to_string(i), 100 + i, "192.0.2.1",
                                     "198.51.100." + std::to_string(i + 1)));
    t->mutable_spec()->set_version(7);
  }
  WriteState("state.pb", s);
  Store::LoadReport report;
  auto store = Store::Open(dir_, &report);
  ASSERT_FALSE(store.ok());
  const std::string message(store.status().message());
  EXPECT_THAT(message, HasSubstr("problems: tunnels[0].spec.version: must be 3, got 7;"));
  EXPECT_THAT(message, HasSubstr("20 problems: "));
  EXPECT_THAT(message, HasSubstr("tunnels[4].spec.version: must be 3, got 7 (and 15 more)"));
  EXPECT_THAT(message, Not(HasSubstr("tunnels[5]")));
  EXPECT_LT(message.size(), 2000u) << message;
}

TEST_F(StoreTest, MissingPreviousStateIsNamedOnce) {
  WriteState("state.pb", StateWith(1, "only"));
  Corrupt(dir_ + "/state.pb", [](std::string* d) { (*d)[d->size() - 1] ^= 0x01; });
  Store::LoadReport report;
  auto store = Store::Open(dir_, &report);
  ASSERT_FALSE(store.ok());
  const std::string message(store.status().message());
  const std::string prev = dir_ + "/state.pb.prev";
  EXPECT_THAT(message, HasSubstr(prev + " does not exist"));
  EXPECT_EQ(message.find(prev), message.rfind(prev)) << message;
}

TEST_F(StoreTest, LeftoverTempFileIsRemovedAtOpen) {
  {
    Store::LoadReport report;
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE((*store)->Commit(StateWith(1, "kept")).ok());
  }
  // What ENOSPC or kill -9 in the middle of a commit leaves behind.
  const std::string tmp = dir_ + "/state.pb.tmp";
  std::ofstream(tmp, std::ios::binary) << Store::Encode(StateWith(2, "half")).substr(0, 25);
  Store::LoadReport report;
  auto store = Store::Open(dir_, &report);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_EQ(report.removed_temp, tmp);
  EXPECT_EQ((*store)->state().tunnels(0).name(), "kept");
  auto again = Store::Open(dir_, &report);
  EXPECT_EQ(report.removed_temp, "");
}

}  // namespace
}  // namespace l2tp
