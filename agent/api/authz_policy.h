// Authorization: the roles, which role each method needs, and the policy file
// (--authz-policy) that maps caller identities to roles.
//
// Policy file (YAML or JSON):
//
//   rules:
//     - role: admin            # reader | admin
//       uids: [0]              # unix socket callers: uid (number or user name)
//     - role: reader
//       gids: [l2tp-readers]   # unix socket callers: primary or supplementary group
//     - role: admin
//       subjects: ["CN=controller,O=example"]   # client certificate subject (RFC 2253)
//     - role: reader
//       sans: ["DNS:monitor.example.org", "URI:spiffe://example.org/monitor"]
//   default_role: none         # callers no rule matches: none (default) | reader | admin
//
// A rule matches a caller when any one of its selectors matches. A caller
// gets the highest role of all the rules that match it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/api/peer_identity.h"

namespace l2tp {

enum class Role { kNone = 0, kReader = 1, kAdmin = 2 };

const char* RoleName(Role role);  // "none", "reader", "admin"

// The role a call to `method` (the short name, e.g. "Apply", or the full one
// of gRPC's services) needs: admin for Apply and Delete, none for gRPC health
// and reflection, reader for everything else.
Role RequiredRole(std::string_view method);

struct AuthzRule {
  Role role = Role::kNone;
  std::vector<uint32_t> uids;
  std::vector<uint32_t> gids;
  std::vector<std::string> subjects;
  std::vector<std::string> sans;

  bool Matches(const PeerIdentity& peer) const;
};

class AuthzPolicy {
 public:
  // Without --authz-policy: unix socket callers and verified client
  // certificates are admin (the socket's mode and the client CA are the
  // guard); anonymous callers get `anonymous_role`.
  static AuthzPolicy Default(Role anonymous_role);

  // Parses a policy (YAML or JSON). Errors name the field, e.g.
  // "rules[1].role: must be reader or admin, got \"root\"".
  static absl::StatusOr<AuthzPolicy> Parse(std::string_view text);
  // Reads and parses `path`; errors start with the path.
  static absl::StatusOr<AuthzPolicy> Load(const std::string& path);

  Role RoleOf(const PeerIdentity& peer) const;

  const std::vector<AuthzRule>& rules() const { return rules_; }
  Role default_role() const { return default_role_; }
  bool is_default() const { return builtin_; }

 private:
  std::vector<AuthzRule> rules_;
  Role default_role_ = Role::kNone;
  bool builtin_ = false;
  Role anonymous_role_ = Role::kNone;  // builtin only
};

}  // namespace l2tp
