// Validation of API writes. Every rule yields a Violation that names the
// field by its path in the request ("sessions[2].spec.cookie") and the reason.
// Reasons quote values through Quote() (names.h): cut and escaped.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "agent/state/desired_state.h"

namespace l2tp {

struct Violation {
  std::string field;
  std::string reason;
};

// Rules on one resource alone (before defaults are applied: an unset field
// is judged as its default would be, e.g. an unset sublayer as DEFAULT).
std::vector<Violation> ValidateTunnel(const l2tpagent::v1::Tunnel& tunnel, std::string_view path);
std::vector<Violation> ValidateSession(const l2tpagent::v1::Session& session, std::string_view path);

// Rules across the whole would-be desired state: ids, interface names and
// tunnel endpoints (UDP: both addresses and ports; IP: both addresses) that
// must be unique. `paths` maps "tunnel/NAME" or "session/NAME" to the request
// path of resources the write touches; only those are reported, since the
// stored ones were valid before.
std::vector<Violation> FindCollisions(const DesiredState& next,
                                      const std::map<std::string, std::string>& paths);

// How many problems one error lists: a huge bad request must not become a
// huge status and log line.
inline constexpr size_t kMaxListedViolations = 20;

// UDP tunnels that share a local address and port, for datapaths that give
// every tunnel a socket of its own (static kernel tunnels): each clash named
// on the side the write touched, with the other tunnel. Normalised specs.
std::vector<Violation> FindSharedLocalPorts(const DesiredState& next,
                                            const std::map<std::string, std::string>& paths);

// "field: reason; field: reason" under `code`, the first kMaxListedViolations
// of them and then "and K more problems"; OK when there are none.
absl::Status ViolationsToStatus(absl::StatusCode code, const std::vector<Violation>& violations);

}  // namespace l2tp
