// Process-wide resource limits the agent sets for itself at start.
#pragma once

#include <string>

namespace l2tp {

// Raises the soft limit on open files to the hard limit: the common soft
// limit of 1,024 is far too low for an agent that holds a socket per tunnel,
// a TAP per session and a connection per API client. Returns what it did,
// for the log.
std::string RaiseOpenFileLimit();

}  // namespace l2tp
