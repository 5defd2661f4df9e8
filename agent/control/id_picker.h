// Ids the agent picks when a DYNAMIC spec says 0: random (an id reused soon
// after a restart would let the peer's stale frames reach the new
// connection), never one in use.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <set>

namespace l2tp {

// A random id in [1, max] not in `used`; 0 when none could be found
// (tries a bounded number of random ids, then scans).
uint32_t PickFreeId(std::mt19937_64& random, uint32_t max, const std::set<uint32_t>& used);

// The ids one pass may not pick: gathered on the first pick, then kept
// current with each pick (gathering per tunnel would cost tunnels x sessions
// when a thousand tunnels arrive at once).
class IdsInUse {
 public:
  explicit IdsInUse(std::function<std::set<uint32_t>()> gather) : gather_(std::move(gather)) {}
  // PickFreeId over the ids in use; the id picked is in use from then on.
  uint32_t Pick(std::mt19937_64& random, uint32_t max);

 private:
  std::function<std::set<uint32_t>()> gather_;
  std::optional<std::set<uint32_t>> used_;
};

}  // namespace l2tp
