#pragma once

namespace l2tp {
// Set by the build (CMake's project version).
#ifndef L2TP_AGENT_VERSION
#define L2TP_AGENT_VERSION "0.1.0"
#endif
inline constexpr const char* kAgentVersion = L2TP_AGENT_VERSION;
}  // namespace l2tp
