// The desired state: every tunnel and session the agent was asked for, by
// name, with normalised specs and their metadata (no status).
#pragma once

#include <map>
#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

struct DesiredState {
  std::map<std::string, l2tpagent::v1::Tunnel> tunnels;
  std::map<std::string, l2tpagent::v1::Session> sessions;
};

}  // namespace l2tp
