#include "agent/state/state_check.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/state/names.h"
#include "agent/state/resource_key.h"

namespace l2tp {
namespace {

namespace v1 = ::l2tpagent::v1;

void Append(std::vector<Violation> more, std::vector<Violation>* out) {
  out->insert(out->end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

// Records `key` -> `path`; a name seen before is a violation (the registry
// keys its maps by name, so a second one would silently replace the first).
void CheckUnique(const std::string& key, const std::string& name, const std::string& path,
                 std::map<std::string, std::string>* paths, std::vector<Violation>* out) {
  auto [it, fresh] = paths->emplace(key, path);
  if (!fresh)
    out->push_back({path + ".name", absl::StrCat(Quote(name), " appears twice (also ", it->second, ")")});
}

// The agent stamps every resource it commits; Delete takes an empty
// resource_version for "not found", so such a resource could never go.
template <typename R>
void CheckStamped(const R& resource, const std::string& path, std::vector<Violation>* out) {
  if (resource.resource_version().empty()) {
    out->push_back({path + ".resource_version", "empty; the agent writes one with every resource"});
  }
}

}  // namespace

std::vector<Violation> CheckStoredState(const l2tpagent::store::v1::State& state) {
  std::vector<Violation> out;
  std::map<std::string, std::string> paths;  // "tunnel/NAME" -> "tunnels[i]", as FindCollisions wants
  DesiredState desired;
  for (int i = 0; i < state.tunnels_size(); ++i) {
    const v1::Tunnel& t = state.tunnels(i);
    const std::string path = absl::StrCat("tunnels[", i, "]");
    Append(ValidateTunnel(t, path), &out);
    CheckStamped(t, path, &out);
    CheckUnique(TunnelKey(t.name()), t.name(), path, &paths, &out);
    desired.tunnels.emplace(t.name(), t);
  }
  for (int i = 0; i < state.sessions_size(); ++i) {
    const v1::Session& s = state.sessions(i);
    const std::string path = absl::StrCat("sessions[", i, "]");
    // A session's rules depend on its tunnel (STATIC or DYNAMIC, the
    // version); all tunnels are loaded by now. No file is looked at here: a
    // secret file missing at start must not keep the agent from starting.
    const v1::Tunnel* tunnel = nullptr;
    if (auto it = desired.tunnels.find(s.spec().tunnel()); it != desired.tunnels.end()) tunnel = &it->second;
    Append(tunnel != nullptr ? ValidateSessionOfTunnel(s, tunnel->spec(), path) : ValidateSession(s, path),
           &out);
    CheckStamped(s, path, &out);
    CheckUnique(SessionNameKey(s.name()), s.name(), path, &paths, &out);
    // The reconciler looks the tunnel up with .at(): it must exist.
    if (!s.spec().tunnel().empty() && !desired.tunnels.count(s.spec().tunnel())) {
      out.push_back(
          {path + ".spec.tunnel", absl::StrCat("tunnel ", Quote(s.spec().tunnel()), " does not exist")});
    }
    desired.sessions.emplace(s.name(), s);
  }
  Append(FindCollisions(desired, paths), &out);
  return out;
}

std::string SummarizeViolations(const std::vector<Violation>& violations, size_t max_shown) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < violations.size() && i < max_shown; ++i) {
    parts.push_back(absl::StrCat(violations[i].field, ": ", violations[i].reason));
  }
  std::string out = absl::StrCat(violations.size(), violations.size() == 1 ? " problem: " : " problems: ",
                                 absl::StrJoin(parts, "; "));
  if (violations.size() > max_shown) absl::StrAppend(&out, " (and ", violations.size() - max_shown, " more)");
  return out;
}

}  // namespace l2tp
