#include "agent/api/authz_policy.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace l2tp {
namespace {

absl::Status FieldError(const std::string& field, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

absl::StatusOr<Role> ParseRole(const std::string& field, const YAML::Node& node, bool allow_none) {
  if (!node.IsScalar()) return FieldError(field, "must be a string");
  const std::string text = node.Scalar();
  if (text == "reader") return Role::kReader;
  if (text == "admin") return Role::kAdmin;
  if (allow_none && text == "none") return Role::kNone;
  return FieldError(field, absl::StrCat("must be ", allow_none ? "none, reader or admin" : "reader or admin",
                                        ", got \"", text, "\""));
}

// A uid or gid: a number, or a user or group name resolved now.
absl::StatusOr<uint32_t> ParseId(const std::string& field, const YAML::Node& node, bool group) {
  if (!node.IsScalar()) return FieldError(field, "must be a number or a name");
  const std::string text = node.Scalar();
  uint32_t id;
  if (absl::SimpleAtoi(text, &id)) return id;
  std::vector<char> buf(16384);
  if (group) {
    struct group g, *found = nullptr;
    if (getgrnam_r(text.c_str(), &g, buf.data(), buf.size(), &found) == 0 && found != nullptr)
      return found->gr_gid;
    return FieldError(field, absl::StrCat("\"", text, "\" is neither a gid nor a known group name"));
  }
  struct passwd p, *found = nullptr;
  if (getpwnam_r(text.c_str(), &p, buf.data(), buf.size(), &found) == 0 && found != nullptr)
    return found->pw_uid;
  return FieldError(field, absl::StrCat("\"", text, "\" is neither a uid nor a known user name"));
}

absl::Status CheckSan(const std::string& field, const std::string& san) {
  for (const char* prefix : {"DNS:", "URI:", "email:", "IP:"}) {
    if (absl::StartsWith(san, prefix) && san.size() > std::string_view(prefix).size())
      return absl::OkStatus();
  }
  return FieldError(field,
                    absl::StrCat("want DNS:NAME, URI:URI, email:ADDRESS or IP:ADDRESS, got \"", san, "\""));
}

template <typename T, typename ParseOne>
absl::Status ParseList(const std::string& field, const YAML::Node& node, std::vector<T>* out,
                       ParseOne parse_one) {
  if (!node.IsSequence()) return FieldError(field, "must be a list");
  for (size_t i = 0; i < node.size(); ++i) {
    auto v = parse_one(absl::StrCat(field, "[", i, "]"), node[i]);
    if (!v.ok()) return v.status();
    out->push_back(*std::move(v));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseString(const std::string& field, const YAML::Node& node) {
  if (!node.IsScalar() || node.Scalar().empty()) return FieldError(field, "must be a non-empty string");
  return node.Scalar();
}

absl::StatusOr<AuthzRule> ParseRule(const std::string& field, const YAML::Node& node) {
  if (!node.IsMap()) return FieldError(field, "must be a mapping (role and selectors)");
  AuthzRule rule;
  bool has_role = false;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string sub = absl::StrCat(field, ".", key);
    absl::Status st;
    if (key == "role") {
      auto role = ParseRole(sub, kv.second, /*allow_none=*/false);
      if (!role.ok()) return role.status();
      rule.role = *role;
      has_role = true;
    } else if (key == "uids") {
      st = ParseList(sub, kv.second, &rule.uids,
                     [](const std::string& f, const YAML::Node& n) { return ParseId(f, n, false); });
    } else if (key == "gids") {
      st = ParseList(sub, kv.second, &rule.gids,
                     [](const std::string& f, const YAML::Node& n) { return ParseId(f, n, true); });
    } else if (key == "subjects") {
      st = ParseList(sub, kv.second, &rule.subjects, ParseString);
    } else if (key == "sans") {
      st = ParseList(sub, kv.second, &rule.sans,
                     [](const std::string& f, const YAML::Node& n) -> absl::StatusOr<std::string> {
                       auto s = ParseString(f, n);
                       if (!s.ok()) return s.status();
                       if (auto c = CheckSan(f, *s); !c.ok()) return c;
                       return s;
                     });
    } else {
      return FieldError(sub, "unknown field (a rule has role, uids, gids, subjects, sans)");
    }
    if (!st.ok()) return st;
  }
  if (!has_role) return FieldError(absl::StrCat(field, ".role"), "missing (reader or admin)");
  if (rule.uids.empty() && rule.gids.empty() && rule.subjects.empty() && rule.sans.empty()) {
    return FieldError(field, "matches nobody: give at least one of uids, gids, subjects, sans");
  }
  return rule;
}

template <typename T>
bool Contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kReader: return "reader";
    case Role::kAdmin: return "admin";
    case Role::kNone: break;
  }
  return "none";
}

Role RequiredRole(std::string_view method) {
  // Health and reflection say nothing a caller could not know anyway (the
  // schema is public): any caller the transport let in may use them, as
  // probes and grpcurl-like tools expect. No call is then refused by role
  // outside the agent's own service, where a refusal is PERMISSION_DENIED.
  if (method.starts_with("grpc.health.v1.Health/") || method.starts_with("grpc.reflection.")) {
    return Role::kNone;
  }
  return (method == "Apply" || method == "Delete") ? Role::kAdmin : Role::kReader;
}

bool AuthzRule::Matches(const PeerIdentity& peer) const {
  switch (peer.kind) {
    case PeerIdentity::Kind::kUnix:
      if (Contains(uids, peer.unix_peer.uid) || Contains(gids, peer.unix_peer.gid)) return true;
      for (uint32_t g : peer.unix_peer.groups) {
        if (Contains(gids, g)) return true;
      }
      return false;
    case PeerIdentity::Kind::kCertificate:
      if (Contains(subjects, peer.subject)) return true;
      for (const auto& san : peer.sans) {
        if (Contains(sans, san)) return true;
      }
      return false;
    case PeerIdentity::Kind::kAnonymous: break;
  }
  return false;
}

AuthzPolicy AuthzPolicy::Default(Role anonymous_role) {
  AuthzPolicy p;
  p.builtin_ = true;
  p.anonymous_role_ = anonymous_role;
  return p;
}

absl::StatusOr<AuthzPolicy> AuthzPolicy::Parse(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid YAML or JSON: line ", e.mark.line + 1, ": ", e.msg));
  }
  if (!root.IsMap())
    return absl::InvalidArgumentError("must be a mapping with \"rules\" (and optionally \"default_role\")");
  AuthzPolicy policy;
  bool has_rules = false;
  try {
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (key == "rules") {
        has_rules = true;
        if (kv.second.IsNull()) continue;
        auto st = ParseList("rules", kv.second, &policy.rules_, ParseRule);
        if (!st.ok()) return st;
      } else if (key == "default_role") {
        auto role = ParseRole("default_role", kv.second, /*allow_none=*/true);
        if (!role.ok()) return role.status();
        policy.default_role_ = *role;
      } else {
        return FieldError(key, "unknown field (a policy has rules and default_role)");
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("line ", e.mark.line + 1, ": ", e.msg));
  }
  if (!has_rules) return FieldError("rules", "missing (a list of {role, uids, gids, subjects, sans})");
  return policy;
}

absl::StatusOr<AuthzPolicy> AuthzPolicy::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  auto policy = Parse(text.str());
  if (!policy.ok()) {
    return absl::Status(policy.status().code(), absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

Role AuthzPolicy::RoleOf(const PeerIdentity& peer) const {
  if (builtin_) {
    return peer.kind == PeerIdentity::Kind::kAnonymous ? anonymous_role_ : Role::kAdmin;
  }
  Role best = Role::kNone;
  bool matched = false;
  for (const auto& rule : rules_) {
    if (rule.Matches(peer)) {
      matched = true;
      best = std::max(best, rule.role);
    }
  }
  return matched ? best : default_role_;
}

}  // namespace l2tp
