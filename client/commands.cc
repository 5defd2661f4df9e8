#include "client/commands.h"

#include "absl/strings/str_cat.h"

namespace l2tp::cli {

const std::vector<CommandSpec>& AllCommands() {
  static const auto* commands = new std::vector<CommandSpec>{ApplyCommand(), GetCommand(),   DeleteCommand(),
                                                             WatchCommand(), StatsCommand(), EventsCommand(),
                                                             InfoCommand()};
  return *commands;
}

const CommandSpec* FindCommand(const std::string& name) {
  for (const auto& c : AllCommands())
    if (c.name == name) return &c;
  return nullptr;
}

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"socket", 0, true, "PATH",
       absl::StrCat("agent's unix socket (default $", kSocketEnvVar, " or ", kDefaultSocket, ")")},
      {"server", 0, true, "HOST:PORT", "reach the agent over TCP instead (needs --tls-ca or --insecure)"},
      {"tls-ca", 0, true, "FILE", "with --server: TLS, trusting the agent certificate's CA (PEM)"},
      {"tls-cert", 0, true, "FILE",
       "with --tls-ca: client certificate (PEM), for an agent that requires one"},
      {"tls-key", 0, true, "FILE", "with --tls-cert: its private key (PEM)"},
      {"insecure", 0, false, "", "with --server: plaintext TCP (the agent's --insecure loopback listener)"},
      {"timeout", 0, true, "DURATION",
       "deadline for each call, e.g. 10s, 1m (default 30s; for watch: how long to watch)"},
      {"help", 'h', false, "", "show help"},
  };
  return *flags;
}

std::vector<FlagSpec> TopLevelFlags() {
  std::vector<FlagSpec> flags = GlobalFlags();
  flags.push_back({"version", 0, false, "", "print l2tpctl's version"});
  return flags;
}

}  // namespace l2tp::cli
