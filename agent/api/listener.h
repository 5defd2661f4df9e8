// Preparing the agent's unix socket path safely.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace l2tp {

// Creates the parent directory, and clears a stale socket left by a previous
// run. Refuses a path that exists and is not a socket, or a socket another
// process still listens on.
absl::Status PrepareUnixSocketPath(const std::string& path);

}  // namespace l2tp
