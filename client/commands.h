// The list of l2tpctl commands; each is defined in its own commands_*.cc.
#pragma once

#include <vector>

#include "absl/time/time.h"
#include "client/command.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::cli {

CommandSpec ApplyCommand();
CommandSpec GetCommand();
CommandSpec DeleteCommand();
CommandSpec WatchCommand();
CommandSpec InfoCommand();
CommandSpec StatsCommand();
CommandSpec EventsCommand();

// The events table (exposed for tests).
std::string RenderEvents(const l2tpagent::v1::ListEventsResponse& events, absl::Time now);

// All of the above, in the order help lists them.
const std::vector<CommandSpec>& AllCommands();
const CommandSpec* FindCommand(const std::string& name);

// Flags every command accepts, before or after the command name.
const std::vector<FlagSpec>& GlobalFlags();
// GlobalFlags plus those only valid before a command (--version).
std::vector<FlagSpec> TopLevelFlags();

}  // namespace l2tp::cli
