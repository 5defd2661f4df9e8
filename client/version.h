// l2tpctl's own version, set by the build from the project version.
#pragma once

#ifndef L2TPCTL_VERSION
#define L2TPCTL_VERSION "unknown"
#endif

namespace l2tp::cli {

inline constexpr char kClientVersion[] = L2TPCTL_VERSION;

}  // namespace l2tp::cli
