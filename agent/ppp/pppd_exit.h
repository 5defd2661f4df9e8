// pppd's exit status in words (man pppd, EXIT STATUS; pppd.h EXIT_*).
#pragma once

#include <string>

namespace l2tp::ppp {

// pppd's exit code as words, e.g. 11 "the peer failed to authenticate";
// "pppd exited with status N" for a code pppd does not define.
std::string DescribeExitCode(int code);

// A wait status (waitpid's) as words: the exit code's, or "pppd was killed
// by signal 9 (SIGKILL)".
std::string DescribeExit(int wait_status);

}  // namespace l2tp::ppp
