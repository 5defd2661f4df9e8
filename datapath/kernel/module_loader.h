// Asks modprobe for the L2TP modules the kernel datapath uses. The kernel
// autoloads most of them, but not everywhere (l2tp_ip in particular), so an
// explicit attempt first; failure is harmless (built in, no modprobe, or a
// container without module access) and shows up later as a clear error.
#pragma once

#include <string>
#include <vector>

namespace l2tp::kernel {

// The modules that modprobe reported as failed (empty when all loaded or
// modprobe is not installed).
std::vector<std::string> LoadL2tpModules();

}  // namespace l2tp::kernel
