#include "agent/state/registry.h"

#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/state/apply_plan.h"
#include "agent/state/names.h"
#include "agent/state/resource_traits.h"
#include "agent/state/spec_defaults.h"
#include "agent/state/validation.h"
#include "common/log.h"
#include "google/protobuf/util/time_util.h"

namespace l2tp {

namespace storev1 = ::l2tpagent::store::v1;

namespace v1 = ::l2tpagent::v1;
namespace {

using google::protobuf::util::TimeUtil;

template <typename M>
const typename M::mapped_type* Find(const M& map, const std::string& name) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}

// "tunnels[2]": where a resource sits in a request.
template <typename R>
std::string RequestPath(int i) {
  return absl::StrCat(ResourceTraits<R>::kField, "[", i, "]");
}

template <typename R>
absl::Status NotFound(const std::string& name) {
  return absl::NotFoundError(absl::StrCat(ResourceTraits<R>::kName, " \"", name, "\" not found"));
}

// Only the spec and the name come from the caller; metadata is the agent's.
template <typename R>
R Clean(const R& in) {
  R out;
  out.set_name(in.name());
  *out.mutable_spec() = in.spec();
  return out;
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

// Each resource of R's kind on its own, and its name not used before in the
// request (`paths`, which this fills).
template <typename R>
void ValidateKind(const v1::ApplyRequest& request, std::map<std::string, std::string>* paths,
                  std::vector<Violation>* invalid) {
  using T = ResourceTraits<R>;
  const auto& items = T::Repeated(request);
  for (int i = 0; i < items.size(); ++i) {
    const std::string path = RequestPath<R>(i);
    auto v = T::Validate(items[i], path);
    invalid->insert(invalid->end(), v.begin(), v.end());
    auto [it, fresh] = paths->emplace(T::Key(items[i].name()), path);
    if (!fresh) {
      invalid->push_back(
          {path + ".name", absl::StrCat(Quote(items[i].name()), " appears twice (also ", it->second, ")")});
    }
  }
}

// Defaults a spec. A tunnel needs nothing else.
bool Normalize(const DesiredState&, bool, int, v1::Tunnel* t, std::vector<Violation>*) {
  NormalizeTunnelSpec(t->mutable_spec());
  return true;
}
// A session's defaults come from its tunnel, which must be in `next` (so
// tunnels are overlaid first).
bool Normalize(const DesiredState& next, bool prune, int i, v1::Session* s, std::vector<Violation>* missing) {
  const v1::Tunnel* tunnel = Find(next.tunnels, s->spec().tunnel());
  if (tunnel == nullptr) {
    missing->push_back({RequestPath<v1::Session>(i) + ".spec.tunnel",
                        absl::StrCat("tunnel ", Quote(s->spec().tunnel()), " does not exist",
                                     prune ? " in this request (prune)" : "")});
    return false;
  }
  NormalizeSessionSpec(tunnel->spec(), s->name(), s->mutable_spec());
  return true;
}

// Puts the request's resources of R's kind into `next`: cleaned, normalised
// and stamped against what is stored.
template <typename R>
void Overlay(const v1::ApplyRequest& request, const DesiredState& stored, uint64_t revision,
             DesiredState* next, std::vector<Violation>* missing) {
  using T = ResourceTraits<R>;
  const auto& items = T::Repeated(request);
  for (int i = 0; i < items.size(); ++i) {
    R r = Clean(items[i]);
    if (!Normalize(*next, request.prune(), i, &r, missing)) continue;
    Stamp(Find(T::Of(stored), r.name()), &r, revision);
    T::Of(*next)[r.name()] = std::move(r);
  }
}

// With the config file's tunnels dropped, a session applied through the API
// may be left without its tunnel.
void FindOrphans(const DesiredState& next, std::vector<Violation>* missing) {
  for (const auto& [name, sess] : next.sessions) {
    if (Find(next.tunnels, sess.spec().tunnel()) != nullptr) continue;
    missing->push_back({"tunnels", absl::StrCat("tunnel ", Quote(sess.spec().tunnel()),
                                                " is no longer in the config file, but session ", Quote(name),
                                                " still uses it; delete the session first")});
  }
}

std::vector<std::string> Keys(const std::map<std::string, std::string>& paths) {
  std::vector<std::string> keys;
  for (const auto& [key, path] : paths) keys.push_back(key);
  return keys;
}

bool HasChanges(const v1::Plan& plan) {
  for (const auto& a : plan.actions()) {
    if (a.operation() != v1::PlanAction::OPERATION_UNCHANGED) return true;
  }
  return false;
}

// What goes with a deleted resource: a tunnel's sessions, with cascade only.
absl::Status DeleteDependents(const v1::Tunnel& tunnel, bool cascade, DesiredState* next) {
  std::vector<std::string> children;
  for (const auto& [name, s] : next->sessions) {
    if (s.spec().tunnel() == tunnel.name()) children.push_back(name);
  }
  if (!children.empty() && !cascade) {
    return absl::FailedPreconditionError(absl::StrCat("tunnel \"", tunnel.name(), "\" still has sessions ",
                                                      absl::StrJoin(children, ", "),
                                                      ": delete them first, or delete with cascade"));
  }
  for (const auto& name : children) next->sessions.erase(name);
  return absl::OkStatus();
}
absl::Status DeleteDependents(const v1::Session&, bool, DesiredState*) { return absl::OkStatus(); }

// Takes the request's resource of R's kind out of `next` (the stored state),
// if it exists at the version the request names.
template <typename R>
absl::Status Remove(const v1::DeleteRequest& request, DesiredState* next) {
  using T = ResourceTraits<R>;
  const R* stored = Find(T::Of(*next), request.name());
  // A stored resource always has a version (state_check.cc): none is "not found".
  if (stored == nullptr || stored->resource_version().empty()) return NotFound<R>(request.name());
  if (!request.resource_version().empty() && request.resource_version() != stored->resource_version()) {
    return absl::AbortedError(absl::StrCat("resource_version: stale: ", T::kName, " \"", request.name(),
                                           "\" is at version ", stored->resource_version(),
                                           ", the request names ", request.resource_version()));
  }
  if (auto st = DeleteDependents(*stored, request.cascade(), next); !st.ok()) return st;
  T::Of(*next).erase(request.name());
  return absl::OkStatus();
}

}  // namespace

Registry::Registry(std::unique_ptr<Store> store, WatchHub* hub, std::string datapath_name, Limits limits)
    : store_(std::move(store)), hub_(hub), datapath_name_(std::move(datapath_name)), limits_(limits) {
  const storev1::State& state = store_->state();
  ForEachKind([&]<typename R>() {
    using T = ResourceTraits<R>;
    for (const R& r : T::Repeated(state)) T::Of(desired_)[r.name()] = r;
    T::Of(config_names_).insert(T::ConfigNames(state).begin(), T::ConfigNames(state).end());
  });
  for (const auto& o : state.owned()) {
    if (o.session_id() == 0) owned_.tunnels.insert(o.tunnel_id());
    else owned_.sessions.insert({o.tunnel_id(), o.session_id()});
  }
  HoldBackLocked();
}

absl::Status Registry::CommitLocked(const DesiredState& next, const OwnedSet& owned, uint64_t revision,
                                    const ConfigNames* config) {
  if (config == nullptr) config = &config_names_;
  storev1::State state;
  state.set_revision(revision);
  ForEachKind([&]<typename R>() {
    using T = ResourceTraits<R>;
    for (const auto& name : T::Of(*config)) *T::AddConfigName(&state) = name;
    for (const auto& [name, r] : T::Of(next)) *T::Add(&state) = r;
  });
  for (uint32_t id : owned.tunnels) state.add_owned()->set_tunnel_id(id);
  for (const auto& [tid, sid] : owned.sessions) {
    auto* o = state.add_owned();
    o->set_tunnel_id(tid);
    o->set_session_id(sid);
  }
  if (auto st = store_->Commit(state); !st.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot persist the desired state, nothing changed: ", st.message()));
  }
  desired_ = next;
  owned_ = owned;
  InvalidateSnapshotLocked();
  if (config != &config_names_) config_names_ = *config;
  if (!held_back_.empty()) HoldBackLocked();  // writes cannot add a clash, only end one
  return absl::OkStatus();
}

absl::StatusOr<v1::ApplyResponse> Registry::Apply(const v1::ApplyRequest& request) {
  std::lock_guard lock(mu_);
  return ApplyLocked(request, nullptr);
}

absl::StatusOr<v1::ApplyResponse> Registry::ApplyConfigFile(const v1::ApplyRequest& request) {
  std::lock_guard lock(mu_);
  ConfigNames names;
  ForEachKind([&]<typename R>() {
    for (const R& r : ResourceTraits<R>::Repeated(request)) ResourceTraits<R>::Of(names).insert(r.name());
  });
  return ApplyLocked(request, &names);
}

// An Apply, whole batch or nothing, in five steps: validate the request,
// check its resource versions, build the next desired state, plan, then
// (unless a dry run, or nothing changes) commit and publish.
absl::StatusOr<v1::ApplyResponse> Registry::ApplyLocked(const v1::ApplyRequest& request,
                                                        const ConfigNames* config) {
  RequestPaths paths;
  if (auto st = Validate(request, &paths); !st.ok()) return st;
  if (auto st = CheckVersionsLocked(request); !st.ok()) return st;
  const uint64_t revision = store_->state().revision() + 1;
  auto next = NextStateLocked(request, config, paths, revision);
  if (!next.ok()) return next.status();
  v1::ApplyResponse response;
  *response.mutable_plan() = ComputeApplyPlan(desired_, *next, Keys(paths));
  if (!request.dry_run()) {
    if (auto st = CommitAndPublishLocked(response.plan(), *next, revision, config); !st.ok()) return st;
  }
  AddRequestedLocked(request.dry_run() ? *next : desired_, paths, &response);
  return response;
}

// First, so that nothing else looks at a malformed resource
// (INVALID_ARGUMENT). Fills `paths`, by which later steps report problems.
absl::Status Registry::Validate(const v1::ApplyRequest& request, RequestPaths* paths) {
  std::vector<Violation> invalid;
  ForEachKind([&]<typename R>() { ValidateKind<R>(request, paths, &invalid); });
  return ViolationsToStatus(absl::StatusCode::kInvalidArgument, invalid);
}

// Optimistic concurrency: a resource_version given must still be the stored
// one, else the caller works from a stale read (ABORTED).
absl::Status Registry::CheckVersionsLocked(const v1::ApplyRequest& request) const {
  absl::Status status;
  ForEachKind([&]<typename R>() {
    using T = ResourceTraits<R>;
    const auto& items = T::Repeated(request);
    for (int i = 0; i < items.size() && status.ok(); ++i) {
      status = CheckVersion(RequestPath<R>(i), items[i], Find(T::Of(desired_), items[i].name()));
    }
  });
  return status;
}

// The desired state as it would be after the request, checked whole, since
// ids and names must be unique across everything stored: the stored state
// (or nothing, with prune) less what the config file dropped, with the
// request's resources put over it.
absl::StatusOr<DesiredState> Registry::NextStateLocked(const v1::ApplyRequest& request,
                                                       const ConfigNames* config, const RequestPaths& paths,
                                                       uint64_t revision) const {
  DesiredState next = request.prune() ? DesiredState{} : desired_;
  if (config != nullptr) DropUndeclaredLocked(*config, &next);
  std::vector<Violation> missing;
  ForEachKind([&]<typename R>() { Overlay<R>(request, desired_, revision, &next, &missing); });
  if (config != nullptr) FindOrphans(next, &missing);
  if (auto st = ViolationsToStatus(absl::StatusCode::kFailedPrecondition, missing); !st.ok()) return st;
  // Rules that depend on the session's tunnel (STATIC or DYNAMIC, version).
  if (auto st = ViolationsToStatus(absl::StatusCode::kInvalidArgument,
                                   ValidateSessionsInTunnels(next, paths));
      !st.ok()) {
    return st;
  }
  if (auto st = CheckNextState(next, paths); !st.ok()) return st;
  return next;
}

// What the config file declared last time and no longer does goes; what was
// applied through the API stays.
void Registry::DropUndeclaredLocked(const ConfigNames& config, DesiredState* next) const {
  ForEachKind([&]<typename R>() {
    for (const auto& name : ResourceTraits<R>::Of(config_names_)) {
      if (!ResourceTraits<R>::Of(config).count(name)) ResourceTraits<R>::Of(*next).erase(name);
    }
  });
}

// Rules across resources: collisions (ALREADY_EXISTS), local ports the
// datapath cannot share and PPP pseudowires it cannot carry
// (FAILED_PRECONDITION), limits (RESOURCE_EXHAUSTED).
absl::Status Registry::CheckNextState(const DesiredState& next, const RequestPaths& paths) const {
  std::vector<Violation> collisions = FindCollisions(next, paths);
  // Two DYNAMIC tunnels on one IP address pair are refused when the write
  // creates or changes one of them. Both stored unchanged, the pair predates
  // the rule (a state file from an older agent, and the --config file that
  // declared it, applied again at start): held back, not refused.
  RequestPaths changed;
  for (const auto& [name, t] : next.tunnels) {
    auto path = paths.find(TunnelKey(name));
    if (path == paths.end()) continue;
    const v1::Tunnel* stored = Find(desired_.tunnels, name);
    // Stamp keeps the version of a spec the write leaves as it is.
    if (stored == nullptr || stored->resource_version() != t.resource_version()) changed.insert(*path);
  }
  auto shared = FindSharedDynamicEndpoints(next, changed);
  collisions.insert(collisions.end(), shared.begin(), shared.end());
  if (auto st = ViolationsToStatus(absl::StatusCode::kAlreadyExists, collisions); !st.ok()) return st;
  if (!shared_udp_ports_) {
    auto shared = FindSharedLocalPorts(next, paths);
    if (auto st = ViolationsToStatus(absl::StatusCode::kFailedPrecondition, shared); !st.ok()) return st;
  }
  if (!ppp_support_.ok()) {  // the datapath cannot carry PPP pseudowires
    auto ppp = FindUnsupportedPpp(next, desired_, paths, std::string(ppp_support_.message()));
    if (auto st = ViolationsToStatus(absl::StatusCode::kFailedPrecondition, ppp); !st.ok()) return st;
  }
  if (next.tunnels.size() > limits_.max_tunnels || next.sessions.size() > limits_.max_sessions) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the apply would leave ", next.tunnels.size(), " tunnels and ", next.sessions.size(),
                     " sessions; the limits are --max-tunnels=", limits_.max_tunnels,
                     " and --max-sessions=", limits_.max_sessions));
  }
  return absl::OkStatus();
}

// Persists `next` when the plan changes something (or the config file's
// names changed), then tells watchers and wakes the reconciler. Persisted
// first: nothing is announced that a crash could undo.
absl::Status Registry::CommitAndPublishLocked(const v1::Plan& plan, const DesiredState& next,
                                              uint64_t revision, const ConfigNames* config) {
  const bool changes = HasChanges(plan);
  const bool config_names_changed = config != nullptr && (config->tunnels != config_names_.tunnels ||
                                                          config->sessions != config_names_.sessions);
  if (!changes && !config_names_changed) return absl::OkStatus();
  DesiredState before = desired_;
  if (auto st = CommitLocked(next, owned_, revision, config); !st.ok()) return st;
  for (const auto& a : plan.actions()) {
    const char* op = v1::PlanAction::Operation_Name(a.operation()).c_str() + strlen("OPERATION_");
    L2TP_LOG(kInfo) << "apply: " << KindKey(a.kind(), a.name()) << " " << op;
  }
  MarkDeletingLocked(before, next);
  for (const auto& a : plan.actions()) {
    if (a.operation() == v1::PlanAction::OPERATION_UNCHANGED ||
        a.operation() == v1::PlanAction::OPERATION_DELETE)
      continue;
    auto type = a.operation() == v1::PlanAction::OPERATION_CREATE ? v1::WatchEvent::TYPE_ADDED
                                                                  : v1::WatchEvent::TYPE_MODIFIED;
    PublishLocked(type, a.kind(), a.name());
  }
  if (changes && on_change_) on_change_();
  return absl::OkStatus();
}

// The response lists the resources the request named, as stored (or as
// they would be, for a dry run).
void Registry::AddRequestedLocked(const DesiredState& state, const RequestPaths& paths,
                                  v1::ApplyResponse* response) const {
  ForEachKind([&]<typename R>() {
    using T = ResourceTraits<R>;
    for (const auto& [name, r] : T::Of(state)) {
      if (paths.count(T::Key(name))) *T::Add(response) = WithStatusLocked(r);
    }
  });
}

void Registry::MarkDeletingLocked(const DesiredState& before, const DesiredState& after) {
  InvalidateSnapshotLocked();
  const auto now = TimeUtil::GetCurrentTime();
  ForEachKindChildrenFirst([&]<typename R>() {
    using T = ResourceTraits<R>;
    for (const auto& [name, r] : T::Of(before)) {
      if (T::Of(after).count(name)) continue;
      T::Of(deleting_)[name] = r;
      auto& st = status_[T::Key(name)];
      st.set_phase(v1::PHASE_DELETING);
      st.set_message("being removed from the datapath");
      st.set_observed_generation(r.generation());
      *st.mutable_last_transition_time() = now;
      PublishLocked(v1::WatchEvent::TYPE_MODIFIED, T::kKind, name);
    }
  });
  // A name applied again is no longer being deleted.
  ForEachKind([&]<typename R>() {
    using T = ResourceTraits<R>;
    for (const auto& [name, r] : T::Of(after)) {
      if (T::Of(deleting_).erase(name)) EraseStatusLocked(T::Key(name));
    }
  });
}

// Refusing a state file whose DYNAMIC tunnels clash (from an agent older than
// the rule) would lose the node's whole state, and running both would let
// each take the other's SCCRQs: the later one is held back, FAILED, with its
// sessions, and starts once one of the two is changed or deleted.
void Registry::HoldBackLocked() {
  std::map<std::string, std::string> held;
  for (const DynamicEndpointClash& c : FindDynamicEndpointClashes(desired_)) {
    held.emplace(c.later,
                 absl::StrCat("not started: it has the same endpoints as tunnel ", Quote(c.first), " (",
                              c.endpoints, ") and both are DYNAMIC: ", kSharedDynamicEndpointsWhy,
                              "; give one of them another local or remote address, or delete one"));
  }
  const auto now = TimeUtil::GetCurrentTime();
  auto set = [&](const std::string& key, v1::Phase phase, const std::string& message, uint64_t generation) {
    auto& st = status_[key];
    if (st.phase() == phase && st.message() == message) return false;
    st.set_phase(phase);
    st.set_message(message);
    st.set_observed_generation(generation);
    *st.mutable_last_transition_time() = now;
    return true;
  };
  for (const auto& [name, why] : held) {
    if (!set(TunnelKey(name), v1::PHASE_FAILED, why, desired_.tunnels.at(name).generation())) continue;
    L2TP_LOG(kError) << "state: tunnel/" << name << " " << why;
    PublishLocked(v1::WatchEvent::TYPE_MODIFIED, v1::RESOURCE_KIND_TUNNEL, name);
  }
  for (const auto& [name, why] : held_back_) {
    if (held.count(name) || !desired_.tunnels.count(name)) continue;  // deleted: MarkDeletingLocked's
    L2TP_LOG(kInfo) << "state: tunnel/" << name
                    << " no longer clashes with another DYNAMIC tunnel; starting it";
    EraseStatusLocked(TunnelKey(name));
    PublishLocked(v1::WatchEvent::TYPE_MODIFIED, v1::RESOURCE_KIND_TUNNEL, name);
  }
  for (const auto& [name, s] : desired_.sessions) {
    const std::string& tunnel = s.spec().tunnel();
    if (held.count(tunnel)) {
      if (set(SessionNameKey(name), v1::PHASE_PENDING,
              absl::StrCat("waiting for its tunnel ", Quote(tunnel), ", which is FAILED (not started)"),
              s.generation()))
        PublishLocked(v1::WatchEvent::TYPE_MODIFIED, v1::RESOURCE_KIND_SESSION, name);
    } else if (held_back_.count(tunnel)) {
      EraseStatusLocked(SessionNameKey(name));
      PublishLocked(v1::WatchEvent::TYPE_MODIFIED, v1::RESOURCE_KIND_SESSION, name);
    }
  }
  held_back_ = std::move(held);
}

absl::StatusOr<v1::DeleteResponse> Registry::Delete(const v1::DeleteRequest& request) {
  std::lock_guard lock(mu_);
  DesiredState next = desired_;
  absl::Status removed = absl::InvalidArgumentError("kind: must be TUNNEL or SESSION");
  ForKind(request.kind(), [&]<typename R>() { removed = Remove<R>(request, &next); });
  if (!removed.ok()) return removed;
  v1::DeleteResponse response;
  *response.mutable_plan() = ComputeApplyPlan(desired_, next, {});
  DesiredState before = desired_;
  if (auto st = CommitLocked(next, owned_, store_->state().revision() + 1); !st.ok()) return st;
  for (const auto& a : response.plan().actions()) {
    L2TP_LOG(kInfo) << "delete: " << KindKey(a.kind(), a.name());
  }
  MarkDeletingLocked(before, next);
  if (on_change_) on_change_();
  return response;
}

v1::ResourceStatus Registry::StatusLocked(const Key& key) const {
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

template <typename R>
const R* Registry::FindLocked(const std::string& name) const {
  const R* r = Find(ResourceTraits<R>::Of(desired_), name);
  return r != nullptr ? r : Find(ResourceTraits<R>::Of(deleting_), name);
}

template <typename R>
R Registry::WithStatusLocked(const R& resource) const {
  R out = resource;
  *out.mutable_status() = StatusLocked(ResourceTraits<R>::Key(resource.name()));
  return out;
}

absl::StatusOr<v1::GetResponse> Registry::Get(const v1::GetRequest& request) const {
  std::lock_guard lock(mu_);
  absl::StatusOr<v1::GetResponse> response = absl::InvalidArgumentError("kind: must be TUNNEL or SESSION");
  ForKind(request.kind(), [&]<typename R>() {
    const R* found = FindLocked<R>(request.name());
    if (found == nullptr) {
      response = NotFound<R>(request.name());
      return;
    }
    response = v1::GetResponse();
    *ResourceTraits<R>::Set(&*response) = WithStatusLocked(*found);
  });
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
    ForEachKind([&]<typename R>() {
      using T = ResourceTraits<R>;
      if (!all && request.kind() != T::kKind) return;
      for (const auto& [name, r] : T::Of(*set)) {
        if (request.tunnel().empty() || request.tunnel() == T::TunnelOf(r))
          *T::Add(&response) = WithStatusLocked(r);
      }
    });
  }
  response.set_resource_version(std::to_string(store_->state().revision()));
  return response;
}

std::shared_ptr<WatchSubscription> Registry::Watch(std::vector<v1::WatchEvent>* snapshot) {
  std::lock_guard lock(mu_);
  for (const auto* set : {&desired_, &deleting_}) {
    ForEachKind([&]<typename R>() {
      for (const auto& [name, r] : ResourceTraits<R>::Of(*set)) {
        auto& e = snapshot->emplace_back();
        e.set_type(v1::WatchEvent::TYPE_ADDED);
        *ResourceTraits<R>::Set(&e) = WithStatusLocked(r);
      }
    });
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
  ForKind(kind, [&]<typename R>() {
    const R* r = FindLocked<R>(name);
    if (r == nullptr) return;
    v1::WatchEvent e;
    e.set_type(type);
    *ResourceTraits<R>::Set(&e) = WithStatusLocked(*r);
    hub_->Publish(e);
  });
}

std::vector<Registry::MetricsRow> Registry::MetricsSnapshot() const {
  std::lock_guard lock(mu_);
  std::vector<MetricsRow> rows;
  rows.reserve(desired_.tunnels.size() + desired_.sessions.size() + deleting_.tunnels.size() +
               deleting_.sessions.size());
  for (const auto* set : {&desired_, &deleting_}) {
    ForEachKind([&]<typename R>() {
      using T = ResourceTraits<R>;
      for (const auto& [name, r] : T::Of(*set)) {
        const auto* st = Find(status_, T::Key(name));
        const auto* over = st && st->phase() == v1::PHASE_READY ? Find(fragmenting_, T::Key(name)) : nullptr;
        rows.push_back({T::kKind, name, T::TunnelOf(r), T::InterfaceOf(r),
                        st ? st->phase() : v1::PHASE_PENDING, st ? st->counters() : v1::Counters{},
                        st ? st->tunnel_control().state() : v1::CONTROL_STATE_UNSPECIFIED,
                        st ? st->tunnel_control().retransmissions() : 0, over ? *over : 0});
      }
    });
  }
  return rows;
}

std::shared_ptr<const Registry::Snapshot> Registry::SnapshotForReconcile() const {
  std::lock_guard lock(mu_);
  if (snapshot_ != nullptr) return snapshot_;
  auto snap = std::make_shared<Snapshot>(Snapshot{desired_, owned_, deleting_});
  for (const auto& [name, why] : held_back_) snap->desired.tunnels.erase(name);
  if (!held_back_.empty()) {
    std::erase_if(snap->desired.sessions,
                  [&](const auto& s) { return held_back_.count(s.second.spec().tunnel()); });
  }
  snapshot_ = std::move(snap);
  return snapshot_;
}

void Registry::EraseStatusLocked(const Key& key) {
  status_.erase(key);
  fragmenting_.erase(key);
}

void Registry::SetStatus(v1::ResourceKind kind, const std::string& name, v1::Phase phase,
                         const std::string& message, uint64_t observed_generation,
                         const v1::Counters& counters, uint32_t fragmenting_bytes) {
  std::lock_guard lock(mu_);
  bool exists = false;
  ForKind(kind, [&]<typename R>() { exists = ResourceTraits<R>::Of(desired_).count(name) > 0; });
  if (!exists) return;  // deleted meanwhile
  const Key key = KindKey(kind, name);
  if (fragmenting_bytes != 0) {
    fragmenting_[key] = fragmenting_bytes;
  } else {
    fragmenting_.erase(key);
  }
  auto& st = status_[key];
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

namespace {
// Whether a control status changed in a way worth a Watch event: the round
// trip and retransmission count move with every HELLO and are read, not watched.
bool ControlChanged(v1::TunnelControlStatus a, v1::TunnelControlStatus b) {
  for (auto* s : {&a, &b}) {
    s->clear_hello_round_trip();
    s->clear_retransmissions();
  }
  return a.SerializeAsString() != b.SerializeAsString();
}
bool ControlChanged(const v1::SessionControlStatus& a, const v1::SessionControlStatus& b) {
  return a.SerializeAsString() != b.SerializeAsString();
}
v1::TunnelControlStatus* MutableControl(v1::ResourceStatus* st, const v1::TunnelControlStatus*) {
  return st->mutable_tunnel_control();
}
v1::SessionControlStatus* MutableControl(v1::ResourceStatus* st, const v1::SessionControlStatus*) {
  return st->mutable_session_control();
}
}  // namespace

template <typename C>
void Registry::SetControlStatusLocked(v1::ResourceKind kind, const std::string& name, const C& control) {
  bool exists = false;
  ForKind(kind, [&]<typename R>() { exists = ResourceTraits<R>::Of(desired_).count(name) > 0; });
  if (!exists) return;  // deleted meanwhile
  C* have = MutableControl(&status_[KindKey(kind, name)], &control);
  const bool changed = ControlChanged(*have, control);
  *have = control;
  if (changed) PublishLocked(v1::WatchEvent::TYPE_MODIFIED, kind, name);
}

void Registry::SetTunnelControlStatus(const std::string& name, const v1::TunnelControlStatus& control) {
  std::lock_guard lock(mu_);
  SetControlStatusLocked(v1::RESOURCE_KIND_TUNNEL, name, control);
}

void Registry::SetSessionControlStatus(const std::string& name, const v1::SessionControlStatus& control) {
  std::lock_guard lock(mu_);
  SetControlStatusLocked(v1::RESOURCE_KIND_SESSION, name, control);
}

void Registry::SetPppCalls(const std::string& session, std::vector<v1::PppCallStatus> calls) {
  std::lock_guard lock(mu_);
  if (desired_.sessions.count(session) == 0) return;  // deleted meanwhile
  const Key key = ResourceTraits<v1::Session>::Key(session);
  auto [it, fresh] = status_.try_emplace(key);
  v1::ResourceStatus& st = it->second;
  if (fresh) {  // before the reconciler's first word on it: what StatusLocked says then
    st.set_phase(v1::PHASE_PENDING);
    st.set_message("waiting for the reconciler");
  }
  bool changed = st.ppp_calls_size() != static_cast<int>(calls.size());
  for (size_t i = 0; !changed && i < calls.size(); ++i) {
    changed = st.ppp_calls(static_cast<int>(i)).SerializeAsString() != calls[i].SerializeAsString();
  }
  if (!changed) return;
  st.clear_ppp_calls();
  for (auto& call : calls) *st.add_ppp_calls() = std::move(call);
  // No InvalidateSnapshotLocked(): the snapshot holds the desired state, not
  // statuses, and the reconciler's cache of what it recorded (reconciler.h,
  // Recorded) is of the phase, message and counters, which only SetStatus
  // changes; ppp_calls is neither (as for the control statuses above).
  PublishLocked(v1::WatchEvent::TYPE_MODIFIED, v1::RESOURCE_KIND_SESSION, session);
}

absl::Status Registry::SetOwned(const OwnedSet& owned) {
  std::lock_guard lock(mu_);
  if (owned == owned_) return absl::OkStatus();
  return CommitLocked(desired_, owned, store_->state().revision());
}

void Registry::FinishDeleting(v1::ResourceKind kind, const std::string& name) {
  std::lock_guard lock(mu_);
  ForKind(kind, [&]<typename R>() {
    using T = ResourceTraits<R>;
    auto it = T::Of(deleting_).find(name);
    if (it == T::Of(deleting_).end()) return;
    v1::WatchEvent e;
    e.set_type(v1::WatchEvent::TYPE_DELETED);
    *T::Set(&e) = WithStatusLocked(it->second);
    T::Of(deleting_).erase(it);
    InvalidateSnapshotLocked();
    EraseStatusLocked(T::Key(name));
    L2TP_LOG(kInfo) << T::Key(name) << " deleted from the datapath";
    hub_->Publish(e);
  });
}

}  // namespace l2tp
