// What the control connections said during one locked section of the
// control plane, published after the lock is released: status for the API,
// events for `l2tpctl events`, hello round trips for the metrics.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

struct ControlUpdates {
  std::vector<std::pair<std::string, l2tpagent::v1::TunnelControlStatus>> tunnels;    // by tunnel name
  std::vector<std::pair<std::string, l2tpagent::v1::SessionControlStatus>> sessions;  // by session name
  struct Event {
    l2tpagent::v1::ResourceKind kind;
    std::string name;
    std::string message;
  };
  std::vector<Event> events;
  std::vector<double> hello_round_trips;  // seconds
  bool up_or_down = false;                // a tunnel or session came up or went away: reconcile soon

  bool empty() const {
    return tunnels.empty() && sessions.empty() && events.empty() && hello_round_trips.empty();
  }
};

}  // namespace l2tp
