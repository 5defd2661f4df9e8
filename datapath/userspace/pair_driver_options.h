// Command-line flags of l2tp-userspace-driver: one tunnel and one session.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"
#include "datapath/userspace/io_loop.h"

namespace l2tp::userspace {

struct DriverOptions {
  TunnelConfig tunnel;
  SessionConfig session;
  int io_threads = 0;
  IoMode io_mode = IoMode::kAuto;
  std::string log_level = "info";
};

// argv[1..]: --name=value or --flag. Unknown flags are errors.
absl::StatusOr<DriverOptions> ParseDriverOptions(int argc, char** argv);
std::string DriverUsage();

}  // namespace l2tp::userspace
