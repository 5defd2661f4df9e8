#include "agent/ppp/pppd_exit.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace l2tp::ppp {
namespace {

// A real wait status: a child that exits with `code`, or is killed by `sig`.
int WaitStatusOf(int code, int sig = 0) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (sig != 0) {
      signal(sig, SIG_DFL);
      raise(sig);
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(PppdExit, CodesInWords) {
  EXPECT_EQ(DescribeExitCode(10), "PPP negotiation failed");
  EXPECT_EQ(DescribeExitCode(11), "the peer failed to authenticate");
  EXPECT_EQ(DescribeExitCode(15), "the peer stopped answering LCP echo requests");
  EXPECT_EQ(DescribeExitCode(16), "the link was hung up (the L2TP session ended)");
  EXPECT_EQ(DescribeExitCode(19), "we failed to authenticate to the peer");
  EXPECT_EQ(DescribeExitCode(5), "pppd was stopped (SIGINT, SIGTERM or SIGHUP)");
  EXPECT_EQ(DescribeExitCode(0), "the link was up and the peer ended it");
  EXPECT_EQ(DescribeExitCode(42), "pppd exited with status 42");
  for (int code = 0; code <= 21; ++code) {
    EXPECT_NE(DescribeExitCode(code).find("pppd exited with status"), 0u) << code << " has no words";
  }
}

TEST(PppdExit, WaitStatuses) {
  EXPECT_EQ(DescribeExit(WaitStatusOf(11)), "the peer failed to authenticate");
  EXPECT_EQ(DescribeExit(WaitStatusOf(0, SIGKILL)), "pppd was killed by signal 9 (SIGKILL)");
  EXPECT_EQ(DescribeExit(WaitStatusOf(0, SIGTERM)), "pppd was killed by signal 15 (SIGTERM)");
}

// pppd exits 16 ("hangup") both when the L2TP side ended the link and when
// it gave up negotiating itself; the log tells which.
TEST(PppdExit, AHangupAfterGivingUpSaysSo) {
  const std::string gave_up = "LCP got no answer to its Configure-Requests";
  EXPECT_EQ(DescribeExit(WaitStatusOf(16), gave_up),
            "pppd gave up negotiating: LCP got no answer to its Configure-Requests");
  EXPECT_EQ(DescribeExit(WaitStatusOf(16)), "the link was hung up (the L2TP session ended)");
  EXPECT_EQ(DescribeExit(WaitStatusOf(5), gave_up), "pppd was stopped (SIGINT, SIGTERM or SIGHUP)");
  EXPECT_EQ(DescribeExit(WaitStatusOf(0, SIGKILL), gave_up), "pppd was killed by signal 9 (SIGKILL)");
}

}  // namespace
}  // namespace l2tp::ppp
