// l2tpctl's entry point minus main(): global flags, command dispatch, help.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace l2tp::cli {

struct CliEnvironment {
  std::istream* in;
  std::ostream* out;
  std::ostream* err;
  const char* env_socket = nullptr;       // value of L2TPCTL_SOCKET, if set
  absl::Time now = absl::InfinitePast();  // InfinitePast: read the clock
};

// `args` excludes the program name. Returns the process exit code.
int RunCli(const std::vector<std::string>& args, const CliEnvironment& env);

}  // namespace l2tp::cli
