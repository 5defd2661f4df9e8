// The datapath objects the agent created or adopted, and so may change or
// delete, keyed the datapath's way. Persisted with the desired state.
#pragma once

#include <cstdint>
#include <set>
#include <utility>

namespace l2tp {

using SessionKey = std::pair<uint32_t, uint32_t>;  // (tunnel id, session id)

struct OwnedSet {
  std::set<uint32_t> tunnels;
  std::set<SessionKey> sessions;
  friend bool operator==(const OwnedSet&, const OwnedSet&) = default;
};

}  // namespace l2tp
