// Load-time validation of the persisted desired state. The CRC only proves
// the file is the one that was written; this proves its content is something
// Apply could have committed (a hand edit, a restored backup or a bug could
// put anything there). The registry and the reconciler index resources by
// name and id and resolve each session's tunnel with .at(): content that
// breaks these rules must never reach them.
#pragma once

#include <string>
#include <vector>

#include "agent/state/validation.h"
#include "l2tpagent/store/v1/state.pb.h"

namespace l2tp {

// The rules of Apply over the whole state: each tunnel valid, each session
// valid in its tunnel (STATIC or DYNAMIC), names unique per kind, every
// session's tunnel present, no id or interface collisions; and the metadata
// the agent always writes (resource_version). Fields are named by their path
// in the file ("tunnels[2].name"). Secret files are not looked at
// (CheckSecretFiles is for writes only), and two DYNAMIC tunnels on one IP
// address pair are not refused (FindDynamicEndpointClashes: a rule newer than
// some state files, whose refusal would lose the node's whole state; the
// registry holds the later tunnel back instead).
std::vector<Violation> CheckStoredState(const l2tpagent::store::v1::State& state);

// "N problems: a; b; c (and M more)", at most `max_shown` listed.
std::string SummarizeViolations(const std::vector<Violation>& violations, size_t max_shown = 5);

}  // namespace l2tp
