// Does this kernel have L2TP? Resolves the `l2tp` generic netlink family.
#pragma once

#include <string>

namespace l2tp::kernel {

struct KernelL2tpProbe {
  bool available = false;
  std::string detail;  // why not, when not available
};

// Resolving the family also makes the kernel autoload l2tp_netlink where it can.
KernelL2tpProbe ProbeKernelL2tp();

}  // namespace l2tp::kernel
