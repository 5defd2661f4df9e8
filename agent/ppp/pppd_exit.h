// pppd's exit status in words (man pppd, EXIT STATUS; pppd.h EXIT_*).
#pragma once

#include <string>
#include <string_view>

namespace l2tp::ppp {

// pppd's exit code as words, e.g. 11 "the peer failed to authenticate";
// "pppd exited with status N" for a code pppd does not define.
std::string DescribeExitCode(int code);

// A wait status (waitpid's) as words: the exit code's, or "pppd was killed
// by signal 9 (SIGKILL)". `gave_up` (PppLinkInfo::gave_up) tells what exit
// 16 meant when pppd itself gave up negotiating: pppd reports that as a
// hangup too.
std::string DescribeExit(int wait_status, std::string_view gave_up = {});

}  // namespace l2tp::ppp
