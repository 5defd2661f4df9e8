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
// A tunnel carries its mode (spec.control; unset means STATIC), so all its
// rules are here, DYNAMIC ones included. The secret file is only checked for
// its form (an absolute path); whether it can be read is CheckSecretFiles'.
std::vector<Violation> ValidateTunnel(const l2tpagent::v1::Tunnel& tunnel, std::string_view path);

// A session's rules depend on its tunnel: session_id and peer_session_id are
// non-zero in a STATIC tunnel, 0 or picked (session_id) and 0 (peer) in a
// DYNAMIC one; remote_end_id is required in DYNAMIC L2TPv3 tunnels and
// refused elsewhere; cookie is learned from the peer in DYNAMIC tunnels; PPP
// pseudowires need a DYNAMIC tunnel, are the only kind an L2TPv2 one holds
// (with no cookies or sublayer), and their `ppp` fields are those of the
// tunnel's side (INITIATOR: LAC, RESPONDER: LNS). Hence four entry points:
//
// All the rules, for a session of a STATIC tunnel: what callers that do not
// know the tunnel check (the historical rules, unchanged).
std::vector<Violation> ValidateSession(const l2tpagent::v1::Session& session, std::string_view path);
// All the rules, for a session of `tunnel` (normalised or not).
std::vector<Violation> ValidateSessionOfTunnel(const l2tpagent::v1::Session& session,
                                               const l2tpagent::v1::TunnelSpec& tunnel,
                                               std::string_view path);
// Only the rules that hold whatever the tunnel: for a first pass over a
// request, before its sessions' tunnels are resolved...
std::vector<Violation> ValidateSessionAlone(const l2tpagent::v1::Session& session, std::string_view path);
// ...and the rest, over the would-be desired state once they are: every
// session the write touched (`paths` as for FindCollisions) against its
// tunnel, and every stored session of a tunnel the write touched (reported on
// that tunnel's path, naming the session: a tunnel made DYNAMIC cannot keep a
// session with STATIC ids). Sessions whose tunnel is missing are skipped (the
// caller reports those).
std::vector<Violation> ValidateSessionsInTunnels(const DesiredState& next,
                                                 const std::map<std::string, std::string>& paths);

// PPP pseudowires (docs/api.md): at most this many calls per LNS session,
// and secrets files (ppp.secrets_file) of at most this many bytes.
inline constexpr uint32_t kMaxPppSessions = 10000;
inline constexpr size_t kMaxPppSecretsFileBytes = size_t{1} << 20;

// Whether the secret files of the request's DYNAMIC tunnels can be used:
// each an existing regular file (the last component not a symbolic link, as
// ReadSecretFile in common/secret_file.h opens it), readable, holding 1 to
// kMaxSecretBytes bytes after one trailing newline is stripped. Reported on
// "tunnels[i].spec.control.secret_file". Only for writes (Apply, the --config
// file), never for the state file the agent reloads at start: a file missing
// then must not keep the agent from starting. The secret itself is never kept,
// logged or returned (at most one byte of it is read, and wiped).
//
// PPP sessions' files too, on "sessions[i].spec.ppp.FIELD": password_file as
// a secret file (it holds the LAC's password), secrets_file (an LNS's pppd
// secrets) as PppSecretsFileError says. A file of the side the request's own
// tunnel says the session is not on is left to the validation to refuse.
std::vector<Violation> CheckSecretFiles(const l2tpagent::v1::ApplyRequest& request);
// Why the file at `path` cannot be a secret file, or empty when it can.
std::string SecretFileError(const std::string& path);
// Why the file at `path` cannot be a PPP secrets file, or empty when it can:
// a regular file, readable, 1 to kMaxPppSecretsFileBytes bytes. Its lines are
// checked when a call starts (agent/ppp); read here, it is wiped at once.
std::string PppSecretsFileError(const std::string& path);

// The capability gate of PPP pseudowires: the PPP sessions a write creates or
// changes (in `paths`, as for FindCollisions, with a spec that differs from
// `stored`'s) when the datapath cannot carry them, each on
// "PATH.spec.pseudowire" with `why` (what is missing, as the datapath says:
// Datapath::PppSupport). PPP sessions stored before and left as they are pass:
// a datapath that changed under them is the reconciler's to report.
std::vector<Violation> FindUnsupportedPpp(const DesiredState& next, const DesiredState& stored,
                                          const std::map<std::string, std::string>& paths,
                                          std::string_view why);

// Rules across the whole would-be desired state: ids, interface names,
// remote_end_ids (per tunnel) and tunnel endpoints (UDP: both addresses and
// ports; IP: both addresses) that must be unique. An LNS PPP session's
// interface_name is a prefix: the names of its calls (the prefix and 1 to
// max_sessions) are taken too, and an L2TPv2 RESPONDER tunnel holds one LNS
// session (its calls carry no Remote End ID to tell several apart). An id of 0 (DYNAMIC: picked
// at run time) collides with nothing. `paths` maps "tunnel/NAME" or "session/NAME" to the request
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

// Two DYNAMIC tunnels over IP encapsulation between the same local and remote
// address (compared as addresses, not as text). Frames to connection id 0 (the
// peer's SCCRQ, its StopCCN before it learned our id) name no tunnel, and
// every control connection of the pair gets them: the userspace datapath's
// raw sockets each get a copy, the kernel's SccrqListener hands them to every
// tunnel registered for (local, sender). A RESPONDER answers any SCCRQ, and an
// ESTABLISHED one takes it for the peer restarting and goes DOWN. STATIC
// tunnels have no control connection (their kernel L2TP/IP socket binds their
// own id, never 0) and their data is told apart by session ids, unique per
// host: they clash with nothing here. UDP tunnels on one 5-tuple are
// FindCollisions' to refuse, whatever their mode.
//
// `first` is the older of the two (lower resource_version, then name),
// `later` the other; a third on the same pair clashes with `first` too.
// `endpoints` reads "IP from A to B". Not part of CheckStoredState: a state
// file from before this rule must still load (the registry holds `later`
// back instead, FAILED).
inline constexpr char kSharedDynamicEndpointsWhy[] =
    "the peer's SCCRQ, addressed to connection id 0, would reach both control connections, which cannot "
    "tell whose it is";
struct DynamicEndpointClash {
  std::string first, later, endpoints;
};
std::vector<DynamicEndpointClash> FindDynamicEndpointClashes(const DesiredState& state);

// The clashes above as violations of a write, on "PATH.spec.remote" of the
// side the write touched (`later` when both), naming both tunnels; `paths` as
// for FindCollisions.
std::vector<Violation> FindSharedDynamicEndpoints(const DesiredState& next,
                                                  const std::map<std::string, std::string>& paths);

// "field: reason; field: reason" under `code`, the first kMaxListedViolations
// of them and then "and K more problems"; OK when there are none.
absl::Status ViolationsToStatus(absl::StatusCode code, const std::vector<Violation>& violations);

}  // namespace l2tp
