#include "agent/reconcile/datapath_select.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/state/crc32c.h"
#include "datapath/kernel/kernel_datapath.h"
#include "datapath/memory/memory_datapath.h"
#include "datapath/userspace/userspace_datapath.h"

namespace l2tp {

absl::StatusOr<DatapathChoice> SelectDatapath(const std::string& requested,
                                              const kernel::KernelL2tpProbe& kernel,
                                              const std::string& userspace_io,
                                              const std::string& device_owner, bool userspace_spread_tx,
                                              bool userspace_spread_rx) {
  auto io_mode = userspace::ParseIoMode(userspace_io);
  if (!io_mode.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--userspace-io: ", io_mode.status().message()));
  }
  DatapathChoice c;
  if (requested == "memory") {
    c.datapath = std::make_unique<memory::MemoryDatapath>();
    c.name = "memory";
    c.message = "in-memory datapath (moves no packets; for tests and config dry runs)";
    return c;
  }
  const std::string kernel_state = kernel.available
                                       ? "the kernel has L2TP"
                                       : absl::StrCat("kernel L2TP unavailable: ", kernel.detail);
  if (requested == "kernel") {
    if (!kernel.available)
      return absl::FailedPreconditionError(absl::StrCat("--datapath=kernel: ", kernel_state));
    auto dp = kernel::KernelDatapath::Create();
    if (!dp.ok())
      return absl::FailedPreconditionError(absl::StrCat("--datapath=kernel: ", dp.status().message()));
    c.datapath = *std::move(dp);
    c.name = "kernel";
    c.message = "Linux kernel L2TP (l2tp generic netlink, l2tpeth interfaces)";
    return c;
  }
  std::string kernel_failure;
  if (requested == "auto" && kernel.available) {
    auto dp = kernel::KernelDatapath::Create();
    if (dp.ok()) {
      c.datapath = *std::move(dp);
      c.name = "kernel";
      c.message = "auto: the kernel has L2TP; using the kernel datapath";
      return c;
    }
    kernel_failure = absl::StrCat(" (kernel datapath cannot start: ", dp.status().message(), ")");
  }
  if (requested == "userspace" || requested == "auto") {
    // auto without a usable kernel L2TP: userspace.
    auto userspace = userspace::UserspaceDatapath::Create(0, *io_mode, device_owner, userspace_spread_tx,
                                                          userspace_spread_rx);
    if (!userspace.ok()) {
      if (requested == "userspace") {
        return absl::FailedPreconditionError(
            absl::StrCat("--datapath=userspace: ", userspace.status().message()));
      }
      c.name = "none";
      c.message = absl::StrCat(kernel_state, "; the userspace datapath cannot start (",
                               userspace.status().message(), "), so resources stay PENDING");
      return c;
    }
    const std::string io = absl::StrCat(" (I/O: ", std::string((*userspace)->io()), ")");
    c.io = std::string((*userspace)->io());
    c.datapath = *std::move(userspace);
    c.name = "userspace";
    c.message = requested == "auto"
                    ? absl::StrCat(kernel_state, kernel_failure, "; using the userspace L2TPv3 datapath", io)
                    : absl::StrCat("userspace L2TPv3 datapath (TAP devices, UDP and IP sockets)", io);
    return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--datapath: must be auto, kernel, userspace or memory, got \"", requested, "\""));
}

std::string DeviceOwnerTag(const std::string& state_dir) {
  // The same directory however it is spelled (relative, trailing slash).
  std::error_code ec;
  std::string path = std::filesystem::weakly_canonical(state_dir, ec).string();
  if (ec) path = state_dir;
  return absl::StrFormat("%08x", Crc32c(path.data(), path.size()));
}

}  // namespace l2tp
