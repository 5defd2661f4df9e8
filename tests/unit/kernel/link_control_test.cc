// LinkControl against this machine's rtnetlink, in a private network
// namespace (root; skipped otherwise): the MTU dump is asked again when
// interfaces change while the kernel sends it, so that listing every
// interface's MTU under churn neither fails nor loses a steady interface.
#include "datapath/kernel/link_control.h"

#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace l2tp::kernel {
namespace {

bool g_private_netns = false;

class PrivateNetns : public ::testing::Environment {
 public:
  void SetUp() override { g_private_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new PrivateNetns);

// Runs `commands` through `ip -batch -` in this namespace; true if all ran.
bool IpBatch(const std::string& commands) {
  FILE* ip = popen("ip -batch - >/dev/null 2>&1", "w");
  if (ip == nullptr) return false;
  fputs(commands.c_str(), ip);
  return pclose(ip) == 0;
}

TEST(LinkControl, MtusUnderChurnAreAskedAgainAndKeepSteadyInterfaces) {
  if (!g_private_netns) GTEST_SKIP() << "needs root to make a network namespace";
  // Enough interfaces that a dump comes in many parts, so that changes can
  // fall between them.
  std::string setup = "link add steady0 mtu 1234 type veth peer name steady0p\n";
  for (int i = 0; i < 150; ++i) {
    setup += "link add lc" + std::to_string(i) + " type veth peer name lc" + std::to_string(i) + "p\n";
  }
  ASSERT_TRUE(IpBatch(setup));
  auto links = LinkControl::Open();
  ASSERT_TRUE(links.ok()) << links.status();

  // One interface pair made and removed over and over while we list (one
  // `ip` at a time, so nothing queues up behind the listing), for at most
  // 10 s.
  std::atomic<bool> stop = false;
  std::thread churn([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!stop && std::chrono::steady_clock::now() < deadline) {
      if (std::system("ip link add churn0 type veth peer name churn0p && ip link del churn0") != 0) return;
    }
  });
  int listed = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    auto mtus = (*links)->Mtus();
    ASSERT_TRUE(mtus.ok()) << mtus.status();
    auto it = mtus->find("steady0");
    ASSERT_NE(it, mtus->end()) << "a steady interface went missing from listing " << listed;
    EXPECT_EQ(it->second, 1234u);
    ++listed;
  }
  stop = true;
  churn.join();
  EXPECT_GT((*links)->interrupted_dumps(), 0u)
      << "no dump was interrupted in " << listed << " listings: the churn did not reach them";
}

}  // namespace
}  // namespace l2tp::kernel
