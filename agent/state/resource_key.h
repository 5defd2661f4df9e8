// How the agent names a resource in maps, logs and ownership: "tunnel/NAME",
// "session/NAME" (the kubectl style the CLI prints too).
#pragma once

#include <string>

namespace l2tp {

inline constexpr char kTunnelKeyPrefix[] = "tunnel/";
inline constexpr char kSessionKeyPrefix[] = "session/";

inline std::string TunnelKey(const std::string& name) { return kTunnelKeyPrefix + name; }
inline std::string SessionNameKey(const std::string& name) { return kSessionKeyPrefix + name; }

}  // namespace l2tp
