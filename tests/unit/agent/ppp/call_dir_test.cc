#include "agent/ppp/call_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace l2tp::ppp {
namespace {

namespace fs = std::filesystem;

class CallDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/call_dir_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    run_dir_ = root_ + "/ppp";
  }
  void TearDown() override { fs::remove_all(root_); }

  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string root_;
  std::string run_dir_;
};

TEST_F(CallDirTest, PrivateDirectoryAndFiles) {
  const mode_t old_umask = umask(0);  // the modes must not depend on it
  {
    absl::StatusOr<CallDir> dir = CallDir::Create(run_dir_, "tunnel-a.session-1.call-7");
    ASSERT_TRUE(dir.ok()) << dir.status();
    EXPECT_EQ(dir->path(), run_dir_ + "/tunnel-a.session-1.call-7");
    EXPECT_EQ(Mode(run_dir_), 0700u);
    EXPECT_EQ(Mode(dir->path()), 0700u);
    ASSERT_TRUE(dir->Write("chap-secrets", "\"a\" * \"b\" *\n").ok());
    ASSERT_TRUE(dir->Write("chap-secrets", "\"a\" * \"c\" *\n").ok());  // replaced whole
    EXPECT_EQ(Mode(dir->path() + "/chap-secrets"), 0600u);
    EXPECT_EQ(Read(dir->path() + "/chap-secrets"), "\"a\" * \"c\" *\n");
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir->path())) names.push_back(e.path().filename());
    EXPECT_EQ(names, std::vector<std::string>{"chap-secrets"});               // no temporary left
    std::ofstream(dir->path() + "/resolv.conf") << "nameserver 10.0.0.53\n";  // as pppd writes it
  }
  umask(old_umask);
  EXPECT_FALSE(fs::exists(run_dir_ + "/tunnel-a.session-1.call-7"));
  EXPECT_TRUE(fs::exists(run_dir_));
}

TEST_F(CallDirTest, AStaleDirectoryIsEmptied) {
  fs::create_directories(run_dir_ + "/c1");
  std::ofstream(run_dir_ + "/c1/chap-secrets") << "old";
  chmod((run_dir_ + "/c1").c_str(), 0755);
  absl::StatusOr<CallDir> dir = CallDir::Create(run_dir_, "c1");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(fs::is_empty(dir->path()));
  EXPECT_EQ(Mode(dir->path()), 0700u);
}

TEST_F(CallDirTest, RefusesASymlinkAndBadNames) {
  fs::create_directories(run_dir_);
  fs::create_directories(root_ + "/elsewhere");
  fs::create_directory_symlink(root_ + "/elsewhere", run_dir_ + "/c2");
  absl::StatusOr<CallDir> dir = CallDir::Create(run_dir_, "c2");
  EXPECT_FALSE(dir.ok());
  // ELOOP or ENOTDIR, as the kernel has it.
  EXPECT_THAT(std::string(dir.status().message()),
              ::testing::StartsWith("open " + run_dir_ + "/c2 (want a directory, not a symlink): "));

  for (std::string_view bad : {"", "..", ".hidden", "a/b", "a b", "x\n"}) {
    EXPECT_EQ(CallDir::Create(run_dir_, bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(
      CallDir::Create(run_dir_, "a/b").status().message(),
      "call: \"a/b\" is not a usable directory name (1 to 128 of A-Z a-z 0-9 _ . -, not starting with a dot)");
  EXPECT_EQ(CallDir::Create("relative", "c").status().message(),
            "run_dir: must be an absolute path, got \"relative\"");
}

TEST_F(CallDirTest, RemoveIsIdempotentAndMovesCarryOwnership) {
  absl::StatusOr<CallDir> dir = CallDir::Create(run_dir_, "c3");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = dir->path();
  CallDir moved = *std::move(dir);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(moved.Remove().ok());
  EXPECT_TRUE(moved.Remove().ok());
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace l2tp::ppp
