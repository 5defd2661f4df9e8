#include "agent/state/registry.h"

#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/state/names.h"
#include "agent/state/apply_plan.h"
#include "agent/state/spec_defaults.h"
#include "agent/state/validation.h"
#include "agent/state/resource_key.h"
#include "common/log.h"
#include "google/protobuf/util/time_util.h"

namespace l2tp {
namespace {

using google::protobuf::util::TimeUtil;

std::string KindKey(v1::ResourceKind kind, const std::string& name) {
  return kind == v1::RESOURCE_KIND_TUNNEL ? TunnelKey(name) : SessionNameKey(name);
}

// Only the spec and the name come from the caller; metadata is the agent's.
v1::Tunnel CleanTunnel(const v1::Tunnel& in) {
  v1::Tunnel t;
  t.set_name(in.name());
  *t.mutable_spec() = in.spec();
  return t;
}
v1::Session CleanSession(const v1::Session& in) {
  v1::Session s;
  s.set_name(in.name());
  *s.mutable_spec() = in.spec();
  return s;
}

// Carries generation and resource_version over from `old` when the spec is
// the same, otherwise bumps them. Returns true when the resource changed.
template <typename R>
bool Stamp(const R* old, R* fresh, uint64_t revision) {
  if (old != nullptr && ChangedFields(old->spec(), fresh->spec()).empty()) {
    fresh->set_generation(old->generation());
    fresh->set_resource_version(old->resource_version());
    return false;
  }
  fresh->set_generation(old ? old->generation() + 1 : 1);
  fresh->set_resource_version(std::to_string(revision));
  return true;
}

template <typename R>
absl::Status CheckVersion(const std::string& path, const R& requested, const R* stored) {
  if (requested.resource_version().empty()) return absl::OkStatus();
  if (stored == nullptr) {
    return absl::AbortedError(absl::StrCat(path, ".resource_version: ", Quote(requested.resource_version()),
                                           " given, but ", Quote(requested.name()), " does not exist"));
  }
  if (stored->resource_version() != requested.resource_version()) {
    return absl::AbortedError(absl::StrCat(path, ".resource_version: stale: ", Quote(requested.name()),
                                           " is at version ", stored->resource_version(),
                                           ", the request names ", Quote(requested.resource_version()),
                                           "; get it again and retry"));
  }
  return absl::OkStatus();
}

template <typename M>
const typename M::mapped_type* Find(const M& map, const std::string& name) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

Registry::Registry(std::unique_ptr<Store> store, WatchHub* hub, std::string datapath_name,
                   Limits limits)
    : store_(std::move(store)), hub_(hub), datapath_name_(std::move(datapath_name)), limits_(limits) {
  for (const auto& t : store_->state().tunnels()) desired_.tunnels[t.name()] = t;
  for (const auto& s : store_->state().sessions()) desired_.sessions[s.name()] = s;
  for (const auto& o : store_->state().owned()) {
    if (o.session_id() == 0) owned_.tunnels.insert(o.tunnel_id());
    else owned_.sessions.insert({o.tunnel_id(), o.session_id()});
  }
  config_names_.tunnels.insert(store_->state().config_tunnels().begin(), store_->state().config_tunnels().end());
  config_names_.sessions.insert(store_->state().config_sessions().begin(), store_->state().config_sessions().end());
}

absl::Status Registry::CommitLocked(const DesiredState& next, const OwnedSet& owned,
                                    uint64_t revision, const ConfigNames* config) {
  if (config == nullptr) config = &config_names_;
  storev1::State state;
  for (const auto& name : config->tunnels) state.add_config_tunnels(name);
  for (const auto& name : config->sessions) state.add_config_sessions(name);
  state.set_revision(revision);
  for (const auto& [name, t] : next.tunnels) *state.add_tunnels() = t;
  for (const auto& [name, s] : next.sessions) *state.add_sessions() = s;
  for (uint32_t id : owned.tunnels) state.add_owned()->set_tunnel_id(id);
  for (const auto& [tid, sid] : owned.sessions) {
    auto* o = state.add_owned();
    o->set_tunnel_id(tid);
    o->set_session_id(sid);
  }
  if (auto st = store_->Commit(state); !st.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot persist the desired state, nothing changed: ",
                                               st.message()));
  }
  desired_ = next;
  owned_ = owned;
  if (config != &config_names_) config_names_ = *config;
  return absl::OkStatus();
}

absl::StatusOr<v1::ApplyResponse> Registry::Apply(const v1::ApplyRequest& request) {
  std::lock_guard lock(mu_);
  return ApplyLocked(request, nullptr);
}

absl::StatusOr<v1::ApplyResponse> Registry::ApplyConfigFile(const v1::ApplyRequest& request) {
  std::lock_guard lock(mu_);
  ConfigNames names;
  for (const auto& t : request.tunnels()) names.tunnels.insert(t.name());
  for (const auto& s : request.sessions()) names.sessions.insert(s.name());
  return ApplyLocked(request, &names);
}

absl::StatusOr<v1::ApplyResponse> Registry::ApplyLocked(const v1::ApplyRequest& request,
                                                        const ConfigNames* config) {
  // 1. Each resource on its own, and names unique within the request.
  std::vector<Violation> invalid;
  std::map<std::string, std::string> paths;  // "tunnel/NAME" -> request path
  for (int i = 0; i < request.tunnels_size(); ++i) {
    std::string path = absl::StrCat("tunnels[", i, "]");
    auto v = ValidateTunnel(request.tunnels(i), path);
    invalid.insert(invalid.end(), v.begin(), v.end());
    auto [it, fresh] = paths.emplace(TunnelKey(request.tunnels(i).name()), path);
    if (!fresh) invalid.push_back({path + ".name", absl::StrCat(Quote(request.tunnels(i).name()), " appears twice (also ", it->second, ")")});
  }
  for (int i = 0; i < request.sessions_size(); ++i) {
    std::string path = absl::StrCat("sessions[", i, "]");
    auto v = ValidateSession(request.sessions(i), path);
    invalid.insert(invalid.end(), v.begin(), v.end());
    auto [it, fresh] = paths.emplace(SessionNameKey(request.sessions(i).name()), path);
    if (!fresh) invalid.push_back({path + ".name", absl::StrCat(Quote(request.sessions(i).name()), " appears twice (also ", it->second, ")")});
  }
  if (auto st = ViolationsToStatus(absl::StatusCode::kInvalidArgument, invalid); !st.ok()) return st;

  // 2. Optimistic concurrency.
  for (int i = 0; i < request.tunnels_size(); ++i) {
    const auto& t = request.tunnels(i);
    if (auto st = CheckVersion(absl::StrCat("tunnels[", i, "]"), t, Find(desired_.tunnels, t.name())); !st.ok()) return st;
  }
  for (int i = 0; i < request.sessions_size(); ++i) {
    const auto& s = request.sessions(i);
    if (auto st = CheckVersion(absl::StrCat("sessions[", i, "]"), s, Find(desired_.sessions, s.name())); !st.ok()) return st;
  }

  // 3. The would-be desired state.
  const uint64_t revision = store_->state().revision() + 1;
  DesiredState next = request.prune() ? DesiredState{} : desired_;
  if (config != nullptr) {  // what the file dropped since its last version goes
    for (const auto& name : config_names_.tunnels) {
      if (!config->tunnels.count(name)) next.tunnels.erase(name);
    }
    for (const auto& name : config_names_.sessions) {
      if (!config->sessions.count(name)) next.sessions.erase(name);
    }
  }
  std::vector<std::string> mentioned;
  for (const auto& in : request.tunnels()) {
    v1::Tunnel t = CleanTunnel(in);
    NormalizeTunnelSpec(t.mutable_spec());
    Stamp(Find(desired_.tunnels, t.name()), &t, revision);
    next.tunnels[t.name()] = std::move(t);
    mentioned.push_back(TunnelKey(in.name()));
  }
  std::vector<Violation> missing;
  for (int i = 0; i < request.sessions_size(); ++i) {
    v1::Session s = CleanSession(request.sessions(i));
    const v1::Tunnel* tunnel = Find(next.tunnels, s.spec().tunnel());
    if (tunnel == nullptr) {
      missing.push_back({absl::StrCat("sessions[", i, "].spec.tunnel"),
                         absl::StrCat("tunnel ", Quote(s.spec().tunnel()), " does not exist",
                                      request.prune() ? " in this request (prune)" : "")});
      continue;
    }
    NormalizeSessionSpec(tunnel->spec(), s.mutable_spec());
    Stamp(Find(desired_.sessions, s.name()), &s, revision);
    next.sessions[s.name()] = std::move(s);
    mentioned.push_back(SessionNameKey(request.sessions(i).name()));
  }
  if (config != nullptr) {  // a session from the API may use a dropped tunnel
    for (const auto& [name, sess] : next.sessions) {
      if (Find(next.tunnels, sess.spec().tunnel()) != nullptr) continue;
      missing.push_back({"tunnels", absl::StrCat("tunnel ", Quote(sess.spec().tunnel()),
                                                 " is no longer in the config file, but session ", Quote(name),
                                                 " still uses it; delete the session first")});
    }
  }
  if (auto st = ViolationsToStatus(absl::StatusCode::kFailedPrecondition, missing); !st.ok()) return st;
  if (auto st = ViolationsToStatus(absl::StatusCode::kAlreadyExists, FindCollisions(next, paths)); !st.ok()) return st;
  if (!shared_udp_ports_) {
    auto shared = FindSharedLocalPorts(next, paths);
    if (auto st = ViolationsToStatus(absl::StatusCode::kFailedPrecondition, shared); !st.ok()) return st;
  }
  if (next.tunnels.size() > limits_.max_tunnels || next.sessions.size() > limits_.max_sessions) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the apply would leave ", next.tunnels.size(), " tunnels and ", next.sessions.size(),
        " sessions; the limits are --max-tunnels=", limits_.max_tunnels, " and --max-sessions=",
        limits_.max_sessions));
  }

  // 4. The plan; commit unless it is a dry run or there is nothing to do.
  v1::ApplyResponse response;
  *response.mutable_plan() = ComputeApplyPlan(desired_, next, mentioned);
  bool changes = false;
  for (const auto& a : response.plan().actions()) {
    if (a.operation() != v1::PlanAction::OPERATION_UNCHANGED) changes = true;
  }
  const bool config_names_changed = config != nullptr && (config->tunnels != config_names_.tunnels ||
                                                          config->sessions != config_names_.sessions);
  if (!request.dry_run() && (changes || config_names_changed)) {
    DesiredState before = desired_;
    if (auto st = CommitLocked(next, owned_, revision, config); !st.ok()) return st;
    for (const auto& a : response.plan().actions()) {
      const char* op = v1::PlanAction::Operation_Name(a.operation()).c_str() + strlen("OPERATION_");
      L2TP_LOG(kInfo) << "apply: " << (a.kind() == v1::RESOURCE_KIND_TUNNEL ? "tunnel/" : "session/")
                      << a.name() << " " << op;
    }
    MarkDeletingLocked(before, next);
    for (const auto& a : response.plan().actions()) {
      if (a.operation() == v1::PlanAction::OPERATION_UNCHANGED || a.operation() == v1::PlanAction::OPERATION_DELETE) continue;
      auto type = a.operation() == v1::PlanAction::OPERATION_CREATE ? v1::WatchEvent::TYPE_ADDED
                                                                    : v1::WatchEvent::TYPE_MODIFIED;
      PublishLocked(type, a.kind(), a.name());
    }
  }
  for (const auto& [name, t] : (request.dry_run() ? next : desired_).tunnels) {
    if (paths.count(TunnelKey(name))) *response.add_tunnels() = TunnelWithStatus(t);
  }
  for (const auto& [name, s] : (request.dry_run() ? next : desired_).sessions) {
    if (paths.count(SessionNameKey(name))) *response.add_sessions() = SessionWithStatus(s);
  }
  if (!request.dry_run() && changes && on_change_) on_change_();
  return response;
}

void Registry::MarkDeletingLocked(const DesiredState& before, const DesiredState& after) {
  auto now = TimeUtil::GetCurrentTime();
  auto mark = [&](v1::ResourceKind kind, const std::string& name, uint64_t generation) {
    auto& st = status_[KindKey(kind, name)];
    st.set_phase(v1::PHASE_DELETING);
    st.set_message("being removed from the datapath");
    st.set_observed_generation(generation);
    *st.mutable_last_transition_time() = now;
  };
  for (const auto& [name, s] : before.sessions) {
    if (after.sessions.count(name)) continue;
    deleting_.sessions[name] = s;
    mark(v1::RESOURCE_KIND_SESSION, name, s.generation());
    PublishLocked(v1::WatchEvent::TYPE_MODIFIED, v1::RESOURCE_KIND_SESSION, name);
  }
  for (const auto& [name, t] : before.tunnels) {
    if (after.tunnels.count(name)) continue;
    deleting_.tunnels[name] = t;
    mark(v1::RESOURCE_KIND_TUNNEL, name, t.generation());
    PublishLocked(v1::WatchEvent::TYPE_MODIFIED, v1::RESOURCE_KIND_TUNNEL, name);
  }
  // A name applied again is no longer being deleted.
  for (const auto& [name, t] : after.tunnels) {
    if (deleting_.tunnels.erase(name)) status_.erase(TunnelKey(name));
  }
  for (const auto& [name, s] : after.sessions) {
    if (deleting_.sessions.erase(name)) status_.erase(SessionNameKey(name));
  }
}

absl::StatusOr<v1::DeleteResponse> Registry::Delete(const v1::DeleteRequest& request) {
  std::lock_guard lock(mu_);
  const bool tunnel = request.kind() == v1::RESOURCE_KIND_TUNNEL;
  if (!tunnel && request.kind() != v1::RESOURCE_KIND_SESSION) {
    return absl::InvalidArgumentError("kind: must be TUNNEL or SESSION");
  }
  const char* kind = tunnel ? "tunnel" : "session";
  const std::string stored_version = tunnel
      ? (Find(desired_.tunnels, request.name()) ? desired_.tunnels.at(request.name()).resource_version() : "")
      : (Find(desired_.sessions, request.name()) ? desired_.sessions.at(request.name()).resource_version() : "");
  if (stored_version.empty()) {
    return absl::NotFoundError(absl::StrCat(kind, " \"", request.name(), "\" not found"));
  }
  if (!request.resource_version().empty() && request.resource_version() != stored_version) {
    return absl::AbortedError(absl::StrCat("resource_version: stale: ", kind, " \"", request.name(),
                                           "\" is at version ", stored_version, ", the request names ",
                                           request.resource_version()));
  }
  DesiredState next = desired_;
  if (tunnel) {
    std::vector<std::string> children;
    for (const auto& [name, s] : desired_.sessions) {
      if (s.spec().tunnel() == request.name()) children.push_back(name);
    }
    if (!children.empty() && !request.cascade()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "tunnel \"", request.name(), "\" still has sessions ", absl::StrJoin(children, ", "),
          ": delete them first, or delete with cascade"));
    }
    for (const auto& name : children) next.sessions.erase(name);
    next.tunnels.erase(request.name());
  } else {
    next.sessions.erase(request.name());
  }
  v1::DeleteResponse response;
  *response.mutable_plan() = ComputeApplyPlan(desired_, next, {});
  DesiredState before = desired_;
  if (auto st = CommitLocked(next, owned_, store_->state().revision() + 1); !st.ok()) return st;
  for (const auto& a : response.plan().actions()) {
    L2TP_LOG(kInfo) << "delete: " << (a.kind() == v1::RESOURCE_KIND_TUNNEL ? "tunnel/" : "session/") << a.name();
  }
  MarkDeletingLocked(before, next);
  if (on_change_) on_change_();
  return response;
}

v1::ResourceStatus Registry::StatusLocked(const Key& key, uint64_t generation) const {
  auto it = status_.find(key);
  if (it != status_.end()) {
    v1::ResourceStatus st = it->second;
    st.set_datapath(datapath_name_);
    return st;
  }
  v1::ResourceStatus st;
  st.set_phase(v1::PHASE_PENDING);
  st.set_message("waiting for the reconciler");
  st.set_datapath(datapath_name_);
  return st;
}

v1::Tunnel Registry::TunnelWithStatus(const v1::Tunnel& t) const {
  v1::Tunnel out = t;
  *out.mutable_status() = StatusLocked(TunnelKey(t.name()), t.generation());
  return out;
}

v1::Session Registry::SessionWithStatus(const v1::Session& s) const {
  v1::Session out = s;
  *out.mutable_status() = StatusLocked(SessionNameKey(s.name()), s.generation());
  return out;
}

absl::StatusOr<v1::GetResponse> Registry::Get(const v1::GetRequest& request) const {
  std::lock_guard lock(mu_);
  v1::GetResponse response;
  if (request.kind() == v1::RESOURCE_KIND_TUNNEL) {
    const auto* t = Find(desired_.tunnels, request.name());
    if (!t) t = Find(deleting_.tunnels, request.name());
    if (!t) return absl::NotFoundError(absl::StrCat("tunnel \"", request.name(), "\" not found"));
    *response.mutable_tunnel() = TunnelWithStatus(*t);
  } else if (request.kind() == v1::RESOURCE_KIND_SESSION) {
    const auto* s = Find(desired_.sessions, request.name());
    if (!s) s = Find(deleting_.sessions, request.name());
    if (!s) return absl::NotFoundError(absl::StrCat("session \"", request.name(), "\" not found"));
    *response.mutable_session() = SessionWithStatus(*s);
  } else {
    return absl::InvalidArgumentError("kind: must be TUNNEL or SESSION");
  }
  return response;
}

absl::StatusOr<v1::ListResponse> Registry::List(const v1::ListRequest& request) const {
  std::lock_guard lock(mu_);
  v1::ListResponse response;
  const bool all = request.kind() == v1::RESOURCE_KIND_UNSPECIFIED;
  if (!all && request.kind() != v1::RESOURCE_KIND_TUNNEL && request.kind() != v1::RESOURCE_KIND_SESSION) {
    return absl::InvalidArgumentError(absl::StrCat("kind: unknown kind ", request.kind()));
  }
  for (const auto* set : {&desired_, &deleting_}) {
    if (all || request.kind() == v1::RESOURCE_KIND_TUNNEL) {
      for (const auto& [name, t] : set->tunnels) {
        if (request.tunnel().empty() || request.tunnel() == name) *response.add_tunnels() = TunnelWithStatus(t);
      }
    }
    if (all || request.kind() == v1::RESOURCE_KIND_SESSION) {
      for (const auto& [name, s] : set->sessions) {
        if (request.tunnel().empty() || request.tunnel() == s.spec().tunnel()) {
          *response.add_sessions() = SessionWithStatus(s);
        }
      }
    }
  }
  response.set_resource_version(std::to_string(store_->state().revision()));
  return response;
}

std::shared_ptr<WatchSubscription> Registry::Watch(std::vector<v1::WatchEvent>* snapshot) {
  std::lock_guard lock(mu_);
  for (const auto* set : {&desired_, &deleting_}) {
    for (const auto& [name, t] : set->tunnels) {
      auto& e = snapshot->emplace_back();
      e.set_type(v1::WatchEvent::TYPE_ADDED);
      *e.mutable_tunnel() = TunnelWithStatus(t);
    }
    for (const auto& [name, s] : set->sessions) {
      auto& e = snapshot->emplace_back();
      e.set_type(v1::WatchEvent::TYPE_ADDED);
      *e.mutable_session() = SessionWithStatus(s);
    }
  }
  snapshot->emplace_back().set_type(v1::WatchEvent::TYPE_SYNCED);
  return hub_->Subscribe();  // under mu_: no event can slip in between
}

void Registry::Unwatch(const std::shared_ptr<WatchSubscription>& sub) { hub_->Unsubscribe(sub); }

size_t Registry::tunnel_count() const {
  std::lock_guard lock(mu_);
  return desired_.tunnels.size();
}

size_t Registry::session_count() const {
  std::lock_guard lock(mu_);
  return desired_.sessions.size();
}

void Registry::PublishLocked(v1::WatchEvent::Type type, v1::ResourceKind kind, const std::string& name) {
  // Building the event copies the resource: skip it when no one watches (a
  // Watch subscribes under mu_, so it cannot miss an event skipped here).
  if (hub_->subscribers() == 0) return;
  v1::WatchEvent e;
  e.set_type(type);
  if (kind == v1::RESOURCE_KIND_TUNNEL) {
    const auto* t = Find(desired_.tunnels, name);
    if (!t) t = Find(deleting_.tunnels, name);
    if (!t) return;
    *e.mutable_tunnel() = TunnelWithStatus(*t);
  } else {
    const auto* s = Find(desired_.sessions, name);
    if (!s) s = Find(deleting_.sessions, name);
    if (!s) return;
    *e.mutable_session() = SessionWithStatus(*s);
  }
  hub_->Publish(e);
}

std::vector<Registry::MetricsRow> Registry::MetricsSnapshot() const {
  std::lock_guard lock(mu_);
  std::vector<MetricsRow> rows;
  rows.reserve(desired_.tunnels.size() + desired_.sessions.size() + deleting_.tunnels.size() +
               deleting_.sessions.size());
  auto status = [&](const Key& key) -> const v1::ResourceStatus* {
    auto it = status_.find(key);
    return it == status_.end() ? nullptr : &it->second;
  };
  for (const auto* set : {&desired_, &deleting_}) {
    for (const auto& [name, t] : set->tunnels) {
      const auto* st = status(TunnelKey(name));
      rows.push_back({v1::RESOURCE_KIND_TUNNEL, name, name, "", st ? st->phase() : v1::PHASE_PENDING,
                      st ? st->counters() : v1::Counters{}});
    }
    for (const auto& [name, s] : set->sessions) {
      const auto* st = status(SessionNameKey(name));
      rows.push_back({v1::RESOURCE_KIND_SESSION, name, s.spec().tunnel(), s.spec().interface_name(),
                      st ? st->phase() : v1::PHASE_PENDING, st ? st->counters() : v1::Counters{}});
    }
  }
  return rows;
}

Registry::Snapshot Registry::SnapshotForReconcile() const {
  std::lock_guard lock(mu_);
  return Snapshot{desired_, owned_, deleting_};
}

void Registry::SetStatus(v1::ResourceKind kind, const std::string& name, v1::Phase phase,
                         const std::string& message, uint64_t observed_generation,
                         const v1::Counters& counters) {
  std::lock_guard lock(mu_);
  const bool exists = kind == v1::RESOURCE_KIND_TUNNEL ? desired_.tunnels.count(name) > 0
                                                       : desired_.sessions.count(name) > 0;
  if (!exists) return;  // deleted meanwhile
  auto& st = status_[KindKey(kind, name)];
  const bool changed = st.phase() != phase || st.message() != message ||
                       st.observed_generation() != observed_generation;
  if (st.phase() != phase || !st.has_last_transition_time()) {
    *st.mutable_last_transition_time() = TimeUtil::GetCurrentTime();
  }
  st.set_phase(phase);
  st.set_message(message);
  st.set_observed_generation(observed_generation);
  *st.mutable_counters() = counters;
  if (changed) PublishLocked(v1::WatchEvent::TYPE_MODIFIED, kind, name);
}

absl::Status Registry::SetOwned(const OwnedSet& owned) {
  std::lock_guard lock(mu_);
  if (owned == owned_) return absl::OkStatus();
  return CommitLocked(desired_, owned, store_->state().revision());
}

void Registry::FinishDeleting(v1::ResourceKind kind, const std::string& name) {
  std::lock_guard lock(mu_);
  v1::WatchEvent e;
  e.set_type(v1::WatchEvent::TYPE_DELETED);
  if (kind == v1::RESOURCE_KIND_TUNNEL) {
    auto it = deleting_.tunnels.find(name);
    if (it == deleting_.tunnels.end()) return;
    *e.mutable_tunnel() = TunnelWithStatus(it->second);
    deleting_.tunnels.erase(it);
  } else {
    auto it = deleting_.sessions.find(name);
    if (it == deleting_.sessions.end()) return;
    *e.mutable_session() = SessionWithStatus(it->second);
    deleting_.sessions.erase(it);
  }
  status_.erase(KindKey(kind, name));
  L2TP_LOG(kInfo) << (kind == v1::RESOURCE_KIND_TUNNEL ? "tunnel/" : "session/") << name
                  << " deleted from the datapath";
  hub_->Publish(e);
}

}  // namespace l2tp
