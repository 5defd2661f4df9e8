// l2tpctl: the command-line client of l2tp-agent. Everything but reading the
// process environment lives in l2tpctl_lib.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli.h"
#include "client/connection.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  l2tp::cli::CliEnvironment env{.in = &std::cin,
                                .out = &std::cout,
                                .err = &std::cerr,
                                .env_socket = std::getenv(l2tp::cli::kSocketEnvVar)};
  return l2tp::cli::RunCli(args, env);
}
