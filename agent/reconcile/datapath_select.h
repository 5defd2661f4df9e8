// Picks the datapath backend named by --datapath.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"
#include "datapath/kernel/genl_probe.h"

namespace l2tp {

struct DatapathChoice {
  std::unique_ptr<Datapath> datapath;  // null: none usable (agent still serves the API)
  std::string name;                    // kernel, userspace, memory, none
  std::string message;                 // why this one
  std::string io;                      // the userspace datapath's I/O: io_uring or epoll
};

// `requested`: auto | kernel | userspace | memory. An explicit backend that
// cannot run is an error; `auto` falls back and says why. `userspace_io`
// (auto | io_uring | epoll) is how the userspace datapath's threads do I/O.
// `device_owner` goes into the ownership mark of the userspace datapath's
// TAPs (DeviceOwnerTag). `userspace_spread_tx`, `userspace_spread_rx`: see
// UserspaceDatapath::Create.
absl::StatusOr<DatapathChoice> SelectDatapath(const std::string& requested,
                                              const kernel::KernelL2tpProbe& kernel,
                                              const std::string& userspace_io = "auto",
                                              const std::string& device_owner = "default",
                                              bool userspace_spread_tx = true,
                                              bool userspace_spread_rx = true);

// The owner tag of this agent's devices: 8 hex digits of a hash of its state
// directory, so every run of one agent has the same tag and two agents that
// share a network namespace (with two state directories) have different ones.
std::string DeviceOwnerTag(const std::string& state_dir);

}  // namespace l2tp
