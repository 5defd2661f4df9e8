// Ids the agent picks when a DYNAMIC spec says 0: random (an id reused soon
// after a restart would let the peer's stale frames reach the new
// connection), never one in use.
#pragma once

#include <cstdint>
#include <random>
#include <set>

namespace l2tp {

// A random id in [1, max] not in `used`; 0 when none could be found
// (tries a bounded number of random ids, then scans).
uint32_t PickFreeId(std::mt19937_64& random, uint32_t max, const std::set<uint32_t>& used);

}  // namespace l2tp
