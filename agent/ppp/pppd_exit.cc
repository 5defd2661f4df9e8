#include "agent/ppp/pppd_exit.h"

#include <string.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"

namespace l2tp::ppp {

std::string DescribeExitCode(int code) {
  switch (code) {
    case 0: return "the link was up and the peer ended it";
    case 1: return "pppd failed (a fatal error; see its log)";
    case 2: return "pppd refused its options";
    case 3: return "pppd is not running as root";
    case 4: return "the kernel has no PPP support";
    case 5: return "pppd was stopped (SIGINT, SIGTERM or SIGHUP)";
    case 6: return "the device could not be locked";
    case 7: return "the device could not be opened";
    case 8: return "the connect script failed";
    case 9: return "the pty command could not be run";
    case 10: return "PPP negotiation failed";
    case 11: return "the peer failed to authenticate";
    case 12: return "the link was idle too long";
    case 13: return "the connect time limit was reached";
    case 14: return "callback was negotiated";
    case 15: return "the peer stopped answering LCP echo requests";
    case 16: return "the link was hung up (the L2TP session ended)";
    case 17: return "a loopback was detected (we received our own LCP requests)";
    case 18: return "the init script failed";
    case 19: return "we failed to authenticate to the peer";
    case 20: return "the traffic limit was reached";
    case 21: return "the calling number is not authorized";
    default: return absl::StrCat("pppd exited with status ", code);
  }
}

std::string DescribeExit(int wait_status, std::string_view gave_up) {
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 16 && !gave_up.empty()) {
    return "pppd gave up negotiating: " + std::string(gave_up);
  }
  if (WIFEXITED(wait_status)) return DescribeExitCode(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(sig);
    return name != nullptr ? absl::StrCat("pppd was killed by signal ", sig, " (SIG", name, ")")
                           : absl::StrCat("pppd was killed by signal ", sig);
  }
  return absl::StrCat("pppd ended with wait status ", wait_status);
}

}  // namespace l2tp::ppp
