// How the agent names a resource in maps, logs and ownership: "tunnel/NAME",
// "session/NAME" (the kubectl style the CLI prints too).
#pragma once

#include <string>

namespace l2tp {

inline std::string TunnelKey(const std::string& name) { return "tunnel/" + name; }
inline std::string SessionNameKey(const std::string& name) { return "session/" + name; }

}  // namespace l2tp
