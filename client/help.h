// --help text for l2tpctl and each command.
#pragma once

#include <string>

#include "client/command.h"

namespace l2tp::cli {

std::string TopLevelHelp();
std::string CommandHelp(const CommandSpec& command);

}  // namespace l2tp::cli
