// What the reconciler needs from the control plane (agent/control) for
// DYNAMIC tunnels: their datapath objects exist only once the control
// protocol has set them up, with ids and cookies learned from the peer.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/state/desired_state.h"
#include "datapath/datapath.h"

namespace l2tp {

// The datapath objects of the DYNAMIC tunnels and sessions, as of one pass.
struct DynamicObjects {
  std::map<std::string, TunnelConfig> tunnels;    // by name: connection up (socket_fd set)
  std::map<std::string, SessionConfig> sessions;  // by name: session up
  // Resources not (or no longer) up: why, in words, for their status.
  // `failed`: the connection is DOWN (FAILED phase); else PENDING.
  struct NotUp {
    std::string message;
    bool failed = false;
  };
  std::map<std::string, NotUp> tunnels_not_up;
  // Connections up that need no datapath tunnel yet (L2TPv2: the kernel's
  // tunnel comes with the first PPP session): READY, saying so.
  std::map<std::string, std::string> tunnels_up_without_datapath;
  std::map<std::string, NotUp> sessions_not_up;
  // PPP sessions up: their calls' PPP channels carry them, not datapath
  // sessions of the reconciler's. READY, saying so, with the counters of
  // the calls' datapath sessions summed.
  struct UpWithoutDatapath {
    std::string message;
    std::vector<std::pair<uint32_t, uint32_t>> calls;  // (tunnel id, session id) of each call up
  };
  std::map<std::string, UpWithoutDatapath> sessions_up_without_datapath;
};

class DynamicTunnels {
 public:
  virtual ~DynamicTunnels() = default;
  // Starts control connections for new DYNAMIC tunnels and sessions, closes
  // those no longer desired or whose spec changed, and says what is up.
  // Both sides are immutable and shared, so that an unchanged steady state
  // costs little: `desired` the same object as last time means the same
  // desired state; the same report as last time means nothing in it changed.
  virtual std::shared_ptr<const DynamicObjects> Sync(std::shared_ptr<const DesiredState> desired) = 0;
  // The datapath now holds (or no longer holds) managed tunnel `tunnel_id`:
  // a backend that reads managed sockets itself takes over the reading.
  // A socket that carried a kernel tunnel cannot carry another: after a
  // delete, or a create that failed, the next Sync gives a fresh one.
  virtual void DatapathTunnelCreated(uint32_t tunnel_id) = 0;
  virtual void DatapathTunnelDeleted(uint32_t tunnel_id) = 0;
  virtual void DatapathTunnelCreateFailed(uint32_t tunnel_id) = 0;
};

}  // namespace l2tp
