#include "client/cli.h"

#include <ostream>

#include "absl/time/clock.h"
#include "client/commands.h"
#include "client/version.h"
#include "client/help.h"

namespace l2tp::cli {
namespace {

int TopLevelUsageError(const CliEnvironment& env, const std::string& message) {
  *env.err << "error: " << message << "\nRun 'l2tpctl --help' for usage.\n";
  return kExitUsage;
}

// `l2tpctl help [COMMAND]`
int RunHelp(const std::vector<std::string>& topics, const CliEnvironment& env) {
  if (topics.empty()) {
    *env.out << TopLevelHelp();
    return kExitOk;
  }
  const CommandSpec* command = FindCommand(topics[0]);
  if (command == nullptr) return TopLevelUsageError(env, "unknown command \"" + topics[0] + "\"");
  *env.out << CommandHelp(*command);
  return kExitOk;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, const CliEnvironment& env) {
  auto top = ParseArgs(args, TopLevelFlags(), /*stop_at_first_positional=*/true);
  if (!top.ok()) return TopLevelUsageError(env, std::string(top.status().message()));
  if (top->GetBool("version")) {
    *env.out << "l2tpctl " << kClientVersion << "\n";
    return kExitOk;
  }
  if (top->rest.empty()) {
    if (top->GetBool("help")) return RunHelp({}, env);
    return TopLevelUsageError(env, "no command given");
  }

  const std::string name = top->rest[0];
  std::vector<std::string> command_args(top->rest.begin() + 1, top->rest.end());
  if (name == "help") return RunHelp(command_args, env);
  const CommandSpec* command = FindCommand(name);
  if (command == nullptr) return TopLevelUsageError(env, "unknown command \"" + name + "\"");

  CommandContext context{.command = name,
                         .in = env.in,
                         .out = env.out,
                         .err = env.err,
                         .now = env.now == absl::InfinitePast() ? absl::Now() : env.now};
  // Global flags may also follow the command name.
  std::vector<FlagSpec> flags = command->flags;
  flags.insert(flags.end(), GlobalFlags().begin(), GlobalFlags().end());
  auto parsed = ParseArgs(command_args, flags);
  if (!parsed.ok()) return context.UsageError(std::string(parsed.status().message()));
  if (top->GetBool("help") || parsed->GetBool("help")) {
    *env.out << CommandHelp(*command);
    return kExitOk;
  }
  context.args = parsed->positionals;
  context.flags = *parsed;
  for (const auto& [flag, value] : top->values) context.flags.values.emplace(flag, value);

  auto connection = ConnectionOptionsFromFlags(context.flags, env.env_socket);
  if (!connection.ok()) return context.UsageError(std::string(connection.status().message()));
  context.connection = *connection;
  return command->run(context);
}

}  // namespace l2tp::cli
