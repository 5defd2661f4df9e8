#include "agent/reconcile/reconciler.h"

#include <malloc.h>

#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/reconcile/datapath_config.h"
#include "agent/reconcile/session_fit.h"
#include "agent/state/resource_traits.h"
#include "common/log.h"
#include "datapath/encap_overhead.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace reconciler_internal {

// Who an action is for.
struct Target {
  v1::ResourceKind kind;
  std::string key;          // "tunnel/NAME"; empty for an object nobody asked for
  uint64_t generation = 0;  // of the desired resource, if any
  int Reconciler::PassResult::*repairs;
};

// What executing the plan leaves for the status step.
struct Outcome {
  std::map<std::string, std::string> failed;   // key -> message (FAILED)
  std::map<std::string, std::string> waiting;  // key -> message (PENDING)
};

// What the datapath holds, by id.
struct Held {
  TunnelsById tunnels;
  SessionsById sessions;
};

}  // namespace reconciler_internal

namespace {

using Op = DatapathAction::Op;
using Reason = DatapathAction::Reason;
using PassResult = Reconciler::PassResult;
using reconciler_internal::Held;
using reconciler_internal::Target;

// What a READY resource's status says beyond its phase, and the number the
// metrics take from it.
struct ReadyNote {
  std::string message;
  uint32_t fragmenting_bytes = 0;
};

// What the reconciler needs to know of a kind beyond ResourceTraits<R>
// (agent/state/resource_traits.h: kind, key, Of()), so that each step is
// written once for tunnels and sessions.
template <typename R>
struct DatapathKind;

template <>
struct DatapathKind<v1::Tunnel> {
  using Id = uint32_t;  // how the datapath keys it
  static constexpr int PassResult::*kTotal = &PassResult::tunnels;
  static constexpr int PassResult::*kReady = &PassResult::tunnels_ready;
  static constexpr int PassResult::*kRepairs = &PassResult::tunnel_repairs;
  static bool Matches(const DesiredObjects::Tunnel& want, const ObservedTunnel& have) {
    return have.config == want.config;
  }
  static ReadyNote Note(const DesiredObjects&, Id, const DesiredObjects::Tunnel&, const ObservedTunnel&) {
    return {};
  }
  static std::string IdText(Id id) { return absl::StrCat("tunnel id ", id); }
  static std::string AdoptedLog(Id id) { return absl::StrCat(" (tunnel id ", id, ")"); }
  // The datapath id a deleted tunnel had.
  static std::optional<Id> DeletedId(const v1::Tunnel& t, const Registry::Snapshot&) {
    return t.spec().tunnel_id();
  }
};

template <>
struct DatapathKind<v1::Session> {
  using Id = SessionKey;
  static constexpr int PassResult::*kTotal = &PassResult::sessions;
  static constexpr int PassResult::*kReady = &PassResult::sessions_ready;
  static constexpr int PassResult::*kRepairs = &PassResult::session_repairs;
  static bool Matches(const DesiredObjects::Session& want, const ObservedSession& have) {
    return SessionMatches(want, have);
  }
  // Full-size frames that the underlay fragments (session_fit.h): the
  // session stays READY, and says so. A string only when they do.
  static ReadyNote Note(const DesiredObjects& all, Id id, const DesiredObjects::Session& want,
                        const ObservedSession& have) {
    const SessionFit fit = FitOf(want, have);
    if (fit.fragmenting_bytes == 0) return {};
    auto tunnel = all.tunnels.find(id.first);
    const IpAddress remote = tunnel != all.tunnels.end() ? tunnel->second.config.remote : IpAddress{};
    return {FragmentingMessage(fit, remote), fit.fragmenting_bytes};
  }
  static std::string IdText(Id id) { return absl::StrCat("session ", id.first, "/", id.second); }
  static std::string AdoptedLog(Id) { return ""; }
  // The datapath id a deleted session had; unknown once its tunnel is gone too.
  static std::optional<Id> DeletedId(const v1::Session& s, const Registry::Snapshot& snap) {
    const v1::Tunnel* tunnel = nullptr;
    if (auto it = snap.desired.tunnels.find(s.spec().tunnel()); it != snap.desired.tunnels.end())
      tunnel = &it->second;
    if (auto it = snap.deleting.tunnels.find(s.spec().tunnel()); !tunnel && it != snap.deleting.tunnels.end())
      tunnel = &it->second;
    if (tunnel == nullptr) return std::nullopt;
    return SessionKey{tunnel->spec().tunnel_id(), s.spec().session_id()};
  }
};

bool IsSessionOp(Op op) {
  return op == Op::kCreateSession || op == Op::kDeleteSession || op == Op::kModifySession;
}

template <typename R>
Target TargetFor(const DatapathAction& a, const DesiredState& desired) {
  using K = ResourceTraits<R>;
  Target t{K::kKind, a.name.empty() ? "" : K::Key(a.name), 0, DatapathKind<R>::kRepairs};
  if (auto it = K::Of(desired).find(a.name); it != K::Of(desired).end())
    t.generation = it->second.generation();
  return t;
}

// The resource an action is for, whatever its kind.
Target TargetOf(const DatapathAction& a, const DesiredState& desired) {
  return IsSessionOp(a.op) ? TargetFor<v1::Session>(a, desired) : TargetFor<v1::Tunnel>(a, desired);
}

std::string Describe(const DatapathAction& a) {
  if (IsSessionOp(a.op)) {
    return absl::StrCat(OpName(a.op), " ", a.session.tunnel_id, "/", a.session.session_id,
                        a.name.empty() ? "" : absl::StrCat(" (session/", a.name, ")"));
  }
  return absl::StrCat(OpName(a.op), " ", a.tunnel.tunnel_id,
                      a.name.empty() ? "" : absl::StrCat(" (tunnel/", a.name, ")"));
}

// How the drift log line ends, by why the object is rewritten.
const char* DriftText(Reason reason) {
  switch (reason) {
    case Reason::kMissing: return " disappeared from the datapath; recreating";
    case Reason::kDiffersInPlace: return " was modified behind the agent's back; restoring";
    case Reason::kNotDesired:
    case Reason::kDiffers:
    case Reason::kReplace: break;
  }
  return " was changed behind the agent's back; replacing";
}

struct DoneEvent {
  v1::Event::Reason reason;
  const char* message;
};
// The event a successful write makes; deletes make theirs when finished.
std::optional<DoneEvent> EventFor(const DatapathAction& a, bool drifted) {
  switch (a.op) {
    case Op::kModifySession:
      if (drifted)
        return DoneEvent{v1::Event::REASON_REPAIRED, "modified behind the agent's back; restored in place"};
      return DoneEvent{v1::Event::REASON_MODIFIED, "changed in place"};
    case Op::kCreateTunnel:
    case Op::kCreateSession:
      if (drifted) {
        return DoneEvent{v1::Event::REASON_REPAIRED, a.reason == Reason::kMissing
                                                         ? "disappeared from the datapath; recreated"
                                                         : "changed behind the agent's back; replaced"};
      }
      return DoneEvent{v1::Event::REASON_CREATED,
                       a.reason == Reason::kReplace ? "replaced to match the spec" : "created"};
    case Op::kDeleteSession:
    case Op::kDeleteTunnel: break;
  }
  return std::nullopt;
}

// Ownership follows what the agent created and deleted.
void UpdateOwned(const DatapathAction& a, OwnedSet* owned) {
  switch (a.op) {
    case Op::kCreateTunnel: owned->tunnels.insert(a.tunnel.tunnel_id); break;
    case Op::kCreateSession: owned->sessions.insert({a.session.tunnel_id, a.session.session_id}); break;
    case Op::kDeleteSession: owned->sessions.erase({a.session.tunnel_id, a.session.session_id}); break;
    case Op::kDeleteTunnel:
      owned->tunnels.erase(a.tunnel.tunnel_id);
      std::erase_if(owned->sessions, [&](const SessionKey& k) { return k.first == a.tunnel.tunnel_id; });
      break;
    case Op::kModifySession: break;
  }
}

// What we want, keyed the datapath's way: STATIC resources from their
// specs, DYNAMIC ones as far as the control plane has set them up.
DesiredObjects BuildWant(const DesiredState& desired, const DynamicObjects& dynamic) {
  DesiredObjects want;
  for (const auto& [name, t] : desired.tunnels) {
    if (IsDynamic(t.spec())) continue;
    want.tunnels[t.spec().tunnel_id()] = {name, ToTunnelConfig(t.spec())};
  }
  for (const auto& [name, s] : desired.sessions) {
    const auto& tunnel = desired.tunnels.at(s.spec().tunnel());
    if (IsDynamic(tunnel.spec())) continue;
    want.sessions[{tunnel.spec().tunnel_id(), s.spec().session_id()}] = {name, ToSessionConfig(tunnel.spec(),
                                                                                               s.spec())};
  }
  for (const auto& [name, c] : dynamic.tunnels) want.tunnels[c.tunnel_id] = {name, c};
  for (const auto& [name, c] : dynamic.sessions) want.sessions[{c.tunnel_id, c.session_id}] = {name, c};
  for (auto& [key, s] : want.sessions) {
    if (auto t = want.tunnels.find(key.first); t != want.tunnels.end()) {
      s.overhead = EncapOverhead(t->second.config, s.config);
    }
  }
  return want;
}

// Whether `key` ("tunnel/NAME", "session/NAME") names a desired resource.
bool IsDesired(const std::string& key, const DesiredState& desired) {
  bool found = false;
  ForEachKind([&]<typename R>() {
    using K = ResourceTraits<R>;
    const std::string prefix = K::Key("");
    if (key.starts_with(prefix)) found = K::Of(desired).count(key.substr(prefix.size())) > 0;
  });
  return found;
}

Held Index(const Observation& observed) {
  return Held{ObservedTunnels(observed), ObservedSessions(observed)};
}

}  // namespace

Reconciler::Reconciler(Registry* registry, Datapath* datapath, std::string no_datapath_reason,
                       Options options)
    : registry_(registry),
      datapath_(datapath),
      no_datapath_reason_(std::move(no_datapath_reason)),
      options_(options) {}

Reconciler::~Reconciler() { Stop(); }

void Reconciler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Reconciler::Trigger() {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
  }
  cv_.notify_all();
}

void Reconciler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t Reconciler::passes() const {
  std::lock_guard lock(mu_);
  return passes_;
}

bool Reconciler::first_pass_done() const { return passes() > 0; }

bool Reconciler::WaitForPass(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = started_ + 1;
  triggered_ = true;
  cv_.notify_all();
  return cv_.wait_for(lock, timeout, [&] { return passes_ >= target || stopping_; }) && passes_ >= target;
}

void Reconciler::Loop() {
  std::unique_lock lock(mu_);
  Clock::time_point next_resync = Clock::now();  // first pass at once
  while (!stopping_) {
    Clock::time_point deadline = next_resync;
    deadline = std::min(deadline, next_retry_);
    cv_.wait_until(lock, deadline, [&] { return triggered_ || stopping_; });
    if (stopping_) break;
    const bool resync = Clock::now() >= next_resync;
    triggered_ = false;
    ++started_;
    lock.unlock();
    RunOnce();
    lock.lock();
    ++passes_;
    if (resync || passes_ == 1) next_resync = Clock::now() + options_.resync_interval;
    cv_.notify_all();
  }
}

void Reconciler::Event(v1::ResourceKind kind, const std::string& name, v1::Event::Reason reason,
                       const std::string& message) {
  if (options_.events != nullptr && !name.empty()) options_.events->Record(kind, name, reason, message);
}

bool Reconciler::InBackoff(const std::string& key, Clock::time_point now) const {
  auto it = retries_.find(key);
  return it != retries_.end() && now < it->second.next;
}

void Reconciler::RecordFailure(const std::string& key, Clock::time_point now) {
  auto& r = retries_[key];
  ++r.failures;
  r.next = now + options_.backoff.Delay(r.failures);
}

Reconciler::PassResult Reconciler::RunOnce() {
  const auto start = Clock::now();
  PassResult result = Pass();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  L2TP_LOG(kDebug) << "reconcile: pass took " << static_cast<long>(result.seconds * 1000) << " ms, "
                   << result.actions << " writes (" << result.failures << " failed); tunnels "
                   << result.tunnels_ready << "/" << result.tunnels << " ready, sessions "
                   << result.sessions_ready << "/" << result.sessions << " ready";
  TrimHeap(result);
  if (options_.on_pass) options_.on_pass(result);
  return result;
}

// A pass that rebuilt its desired objects or wrote the datapath leaves
// megabytes of freed temporaries (snapshots, observations, the objects it
// replaced) spread over the malloc arenas of this and the gRPC threads: hand
// whole free pages back to the kernel. A pass that changed nothing freed
// what the next one allocates again, and trimming after it costs page
// faults and TLB shootdowns for nothing; every kTrimEvery-th pass still
// trims, for what API calls and scrapes freed meanwhile.
void Reconciler::TrimHeap(const PassResult& result) {
  constexpr int kTrimEvery = 30;  // 5 minutes at the default resync interval
  if (!want_rebuilt_ && result.actions == 0 && ++passes_since_trim_ < kTrimEvery) return;
  malloc_trim(0);
  want_rebuilt_ = false;
  passes_since_trim_ = 0;
}

// A pass, in order: want (the desired state keyed the datapath's way),
// observe and plan, adopt, execute, observe again, record statuses, remove
// stray interfaces, finish deletes, persist ownership, schedule retries.
Reconciler::PassResult Reconciler::Pass() {
  PassResult result;
  const std::shared_ptr<const Registry::Snapshot> shared = registry_->SnapshotForReconcile();
  const Registry::Snapshot& snap = *shared;
  if (datapath_ == nullptr) {
    ReportNoDatapath(snap);
    return result;
  }
  static const auto kNoDynamic = std::make_shared<const DynamicObjects>();
  const std::shared_ptr<const DynamicObjects> dynamic = options_.dynamic
                                                            ? options_.dynamic->Sync({shared, &snap.desired})
                                                            : kNoDynamic;
  const DesiredObjects& want = Want(shared, dynamic);
  auto observed = datapath_->Observe();
  if (!observed.ok()) {
    result.observe_failed = true;
    ++result.errors_by_op["observe"];
    L2TP_LOG(kError) << "reconcile: cannot observe the " << datapath_->Name()
                     << " datapath: " << observed.status().message();
    return result;
  }
  const ReconcilePlan plan = ComputeReconcilePlan(want, *observed, snap.owned, options_.prune_unowned);
  const bool writes = !plan.actions.empty() || !plan.adopt.tunnels.empty() || !plan.adopt.sessions.empty();
  OwnedSet owned = writes ? snap.owned : OwnedSet{};  // copied only when the plan changes it
  Adopt(plan.adopt, want, &owned);
  Outcome outcome;
  Execute(plan, snap.desired, &owned, &outcome, &result);
  const std::optional<Observation> again = ObserveAgain(result);
  const Observation& after = again ? *again : *observed;
  const Held held = Index(after);
  RecordStatuses(snap, want, held, outcome, &result);
  RecordNotUp(snap, *dynamic, after, &result);
  RemoveStrayInterfaces(after, want, &result);
  FinishDeletes(snap, want, held);
  PersistOwnership(writes ? owned : snap.owned, held);
  ScheduleRetries(snap.desired);
  return result;
}

// Without a backend nothing can become READY; say why, and let deletes finish.
void Reconciler::ReportNoDatapath(const Registry::Snapshot& snap) {
  const std::string msg = absl::StrCat("no datapath: ", no_datapath_reason_);
  ForEachKind([&]<typename R>() {
    using K = ResourceTraits<R>;
    for (const auto& [name, r] : K::Of(snap.desired)) {
      registry_->SetStatus(K::kKind, name, v1::PHASE_PENDING, msg, r.generation(), {});
    }
  });
  ForEachKind([&]<typename R>() {
    using K = ResourceTraits<R>;
    for (const auto& [name, r] : K::Of(snap.deleting)) registry_->FinishDeleting(K::kKind, name);
  });
}

// Rebuilt only when the desired state or the control plane's report changed.
const DesiredObjects& Reconciler::Want(const std::shared_ptr<const Registry::Snapshot>& snap,
                                       const std::shared_ptr<const DynamicObjects>& dynamic) {
  if (snap != want_snapshot_ || dynamic != want_dynamic_) {
    want_ = BuildWant(snap->desired, *dynamic);
    want_rebuilt_ = true;
    recorded_ = {};
    want_snapshot_ = snap;
    want_dynamic_ = dynamic;
  }
  return want_;
}

// Objects that already match become ours without a write.
void Reconciler::Adopt(const OwnedSet& adopt, const DesiredObjects& want, OwnedSet* owned) {
  ForEachKind([&]<typename R>() {
    using K = ResourceTraits<R>;
    using D = DatapathKind<R>;
    for (const auto& id : K::Of(adopt)) {
      K::Of(*owned).insert(id);
      const std::string& name = K::Of(want).at(id).name;
      L2TP_LOG(kInfo) << "reconcile: " << K::Key(name) << " adopted" << D::AdoptedLog(id);
      Event(K::kKind, name, v1::Event::REASON_ADOPTED,
            absl::StrCat(D::IdText(id), " already matched the spec; taken over without changes"));
    }
  });
}

// Runs the plan's writes in order; a session waits while its tunnel is unavailable.
void Reconciler::Execute(const ReconcilePlan& plan, const DesiredState& desired, OwnedSet* owned,
                         Outcome* out, PassResult* result) {
  const Clock::time_point now = Clock::now();
  std::set<uint32_t> unavailable_tunnels;  // tunnel create skipped or failed
  for (const DatapathAction& a : plan.actions) {
    const Target t = TargetOf(a, desired);
    if (IsSessionOp(a.op) && unavailable_tunnels.count(a.session.tunnel_id)) {
      if (!t.key.empty()) out->waiting[t.key] = "waiting for its tunnel";
      continue;
    }
    if (!t.key.empty() && InBackoff(t.key, now)) {
      if (a.op == Op::kCreateTunnel) unavailable_tunnels.insert(a.tunnel.tunnel_id);
      continue;  // keeps its FAILED status until the retry is due
    }
    const bool drifted = Drifted(t);
    if (drifted) CountRepair(a, t, result);
    const absl::Status st = Write(a);
    ++result->actions;
    if (st.ok()) {
      Succeeded(a, t, drifted, owned);
      continue;
    }
    if (a.op == Op::kCreateTunnel) unavailable_tunnels.insert(a.tunnel.tunnel_id);
    Failed(a, t, st, now, out, result);
  }
}

// Differing from the generation it was READY at is drift; from a newer one, the user asked.
bool Reconciler::Drifted(const Target& t) const {
  if (t.key.empty()) return false;
  auto ready_at = ready_generation_.find(t.key);
  return ready_at != ready_generation_.end() && ready_at->second == t.generation;
}

// Drift is counted and logged once per repair: a replace is a delete and a
// create, and a repair may take several passes.
void Reconciler::CountRepair(const DatapathAction& a, const Target& t, PassResult* result) {
  if (!repairing_.insert(t.key).second) return;
  ++result->repairs;
  ++(result->*t.repairs);
  L2TP_LOG(kWarning) << "drift: " << t.key << DriftText(a.reason);
}

// The one datapath call an action makes.
absl::Status Reconciler::Write(const DatapathAction& a) {
  switch (a.op) {
    case Op::kDeleteSession: return datapath_->DeleteSession(a.session.tunnel_id, a.session.session_id);
    case Op::kDeleteTunnel: return datapath_->DeleteTunnel(a.tunnel.tunnel_id);
    case Op::kCreateTunnel: return datapath_->CreateTunnel(a.tunnel);
    case Op::kCreateSession: return datapath_->CreateSession(a.session);
    case Op::kModifySession: return datapath_->ModifySession(a.session);
  }
  return absl::InternalError("unknown datapath action");
}

// A write that worked: log it, forget its retries, tell, and own the result.
void Reconciler::Succeeded(const DatapathAction& a, const Target& t, bool drifted, OwnedSet* owned) {
  L2TP_LOG(kInfo) << "reconcile: " << Describe(a) << ": done (" << ReasonText(a.reason) << ")";
  if (!t.key.empty()) retries_.erase(t.key);
  if (auto e = EventFor(a, drifted)) Event(t.kind, a.name, e->reason, e->message);
  UpdateOwned(a, owned);
  if (options_.dynamic != nullptr && a.op == Op::kCreateTunnel && a.tunnel.socket_fd >= 0) {
    options_.dynamic->DatapathTunnelCreated(a.tunnel.tunnel_id);
  }
  if (options_.dynamic != nullptr && a.op == Op::kDeleteTunnel) {
    options_.dynamic->DatapathTunnelDeleted(a.tunnel.tunnel_id);
  }
}

// A write that failed: the resource is FAILED and retried after a backoff.
void Reconciler::Failed(const DatapathAction& a, const Target& t, const absl::Status& st,
                        Clock::time_point now, Outcome* out, PassResult* result) {
  ++result->failures;
  ++result->errors_by_op[OpMetricName(a.op)];
  const std::string reason = absl::StrCat(OpName(a.op), " failed: ", st.message());
  L2TP_LOG(kError) << "reconcile: " << Describe(a) << ": " << st.message();
  if (options_.dynamic != nullptr && a.op == Op::kCreateTunnel && a.tunnel.socket_fd >= 0) {
    options_.dynamic->DatapathTunnelCreateFailed(a.tunnel.tunnel_id);
  }
  if (t.key.empty()) return;
  out->failed[t.key] = reason;
  RecordFailure(t.key, now);
  Event(t.kind, a.name, v1::Event::REASON_FAILED, reason);
}

// Status comes from what the datapath holds after the writes; without
// writes, that is the first observation (nullopt).
std::optional<Observation> Reconciler::ObserveAgain(const PassResult& result) {
  if (result.actions == 0) return std::nullopt;
  auto again = datapath_->Observe();
  if (!again.ok()) return std::nullopt;
  return *std::move(again);
}

// Sets each desired resource's phase and counters; remembers the generation
// it is READY at. In a steady state (READY as recorded, no repair under way)
// this touches no map keyed by name and calls no one.
void Reconciler::RecordStatuses(const Registry::Snapshot& snap, const DesiredObjects& want, const Held& held,
                                const Outcome& out, PassResult* result) {
  ForEachKind([&]<typename R>() {
    using K = ResourceTraits<R>;
    using D = DatapathKind<R>;
    std::vector<Recorded>& recorded = K::Of(recorded_);
    recorded.resize(K::Of(want).size());
    auto last = recorded.begin();
    for (const auto& [id, w] : K::Of(want)) {
      Recorded& before = *last++;
      const auto* have = K::Of(held).Find(id);
      const bool matches = have != nullptr && D::Matches(w, *have);
      const Counters counters = have != nullptr ? have->counters : Counters{};
      ++(result->*D::kTotal);
      if (matches) ++(result->*D::kReady);
      ReadyNote note = matches ? D::Note(want, id, w, *have) : ReadyNote{};
      if (matches && repairing_.empty() && before.Is(v1::PHASE_READY, note.message, counters)) continue;
      const std::string key = K::Key(w.name);
      const uint64_t generation = K::Of(snap.desired).at(w.name).generation();
      std::string message;
      const v1::Phase phase = PhaseFor(key, matches, out, &message);
      if (phase == v1::PHASE_READY) {
        message = std::move(note.message);
        ready_generation_[key] = generation;
        repairing_.erase(key);
      }
      if (before.Is(phase, message, counters)) continue;
      registry_->SetStatus(K::kKind, w.name, phase, message, generation, ToProtoCounters(counters),
                           note.fragmenting_bytes);
      before = {true, phase, std::move(message), counters};
    }
  });
}

// A DYNAMIC resource that is not up is PENDING while its connection or
// session is being set up, FAILED while its connection is DOWN.
void Reconciler::RecordNotUp(const Registry::Snapshot& snap, const DynamicObjects& dynamic,
                             const Observation& held, PassResult* result) {
  auto record = [&](v1::ResourceKind kind, const std::string& name, const DynamicObjects::NotUp& why,
                    uint64_t generation, int PassResult::*total) {
    ++(result->*total);
    ready_generation_.erase(KindKey(kind, name));
    repairing_.erase(KindKey(kind, name));
    registry_->SetStatus(kind, name, why.failed ? v1::PHASE_FAILED : v1::PHASE_PENDING, why.message,
                         generation, {});
  };
  for (const auto& [name, why] : dynamic.tunnels_not_up) {
    if (auto it = snap.desired.tunnels.find(name); it != snap.desired.tunnels.end())
      record(v1::RESOURCE_KIND_TUNNEL, name, why, it->second.generation(), &PassResult::tunnels);
  }
  for (const auto& [name, why] : dynamic.tunnels_up_without_datapath) {
    auto it = snap.desired.tunnels.find(name);
    if (it == snap.desired.tunnels.end()) continue;
    ++result->tunnels;
    ++result->tunnels_ready;
    registry_->SetStatus(v1::RESOURCE_KIND_TUNNEL, name, v1::PHASE_READY, why, it->second.generation(), {});
  }
  std::optional<SessionsById> sessions;  // indexed only when a PPP session is up
  for (const auto& [name, up] : dynamic.sessions_up_without_datapath) {
    auto it = snap.desired.sessions.find(name);
    if (it == snap.desired.sessions.end()) continue;
    ++result->sessions;
    ++result->sessions_ready;
    if (!sessions) sessions.emplace(ObservedSessions(held));
    Counters sum;
    for (const auto& key : up.calls) {
      if (const ObservedSession* s = sessions->Find(key)) sum += s->counters;
    }
    registry_->SetStatus(v1::RESOURCE_KIND_SESSION, name, v1::PHASE_READY, up.message,
                         it->second.generation(), ToProtoCounters(sum));
  }
  for (const auto& [name, why] : dynamic.sessions_not_up) {
    if (auto it = snap.desired.sessions.find(name); it != snap.desired.sessions.end())
      record(v1::RESOURCE_KIND_SESSION, name, why, it->second.generation(), &PassResult::sessions);
  }
}

// READY when it matches; else FAILED (this pass or still retrying) or PENDING.
v1::Phase Reconciler::PhaseFor(const std::string& key, bool matches, const Outcome& out,
                               std::string* message) const {
  if (matches) {
    message->clear();
    return v1::PHASE_READY;
  }
  if (auto it = out.failed.find(key); it != out.failed.end()) {
    *message = it->second;
    return v1::PHASE_FAILED;
  }
  if (auto it = retries_.find(key); it != retries_.end()) {
    *message = absl::StrCat("retrying after ", it->second.failures, " failure(s)");
    return v1::PHASE_FAILED;
  }
  auto it = out.waiting.find(key);
  *message = it != out.waiting.end() ? it->second : "not in the datapath yet";
  return v1::PHASE_PENDING;
}

// Deleted resources are done once the datapath no longer holds them (or the
// ids now belong to another resource).
void Reconciler::FinishDeletes(const Registry::Snapshot& snap, const DesiredObjects& want, const Held& held) {
  ForEachKind([&]<typename R>() {
    using K = ResourceTraits<R>;
    using D = DatapathKind<R>;
    for (const auto& [name, r] : K::Of(snap.deleting)) {
      const auto id = D::DeletedId(r, snap);
      if (id && K::Of(held).count(*id) && !K::Of(want).count(*id)) continue;
      registry_->FinishDeleting(K::kKind, name);
      Event(K::kKind, name, v1::Event::REASON_DELETED, "removed from the datapath");
      ready_generation_.erase(K::Key(name));
      repairing_.erase(K::Key(name));
      retries_.erase(K::Key(name));
    }
  });
}

// Ownership covers what exists; persist it so a restart knows what is ours.
void Reconciler::PersistOwnership(const OwnedSet& owned, const Held& held) {
  OwnedSet kept;  // a copy only once something owned is gone
  const OwnedSet* persist = &owned;
  ForEachKind([&]<typename R>() {
    using K = ResourceTraits<R>;
    auto gone = [&](const auto& id) { return !K::Of(held).count(id); };
    if (std::ranges::none_of(K::Of(owned), gone)) return;
    if (persist == &owned) {
      kept = owned;
      persist = &kept;
    }
    std::erase_if(K::Of(kept), gone);
  });
  if (auto st = registry_->SetOwned(*persist); !st.ok()) {
    L2TP_LOG(kError) << "reconcile: cannot persist ownership: " << st.message();
  }
}

// Forgets the retries of resources that no longer exist; wakes the loop for the earliest one left.
void Reconciler::ScheduleRetries(const DesiredState& desired) {
  std::erase_if(retries_, [&](const auto& kv) { return !IsDesired(kv.first, desired); });
  Clock::time_point next_retry = Clock::time_point::max();
  for (const auto& [key, r] : retries_) next_retry = std::min(next_retry, r.next);
  std::lock_guard lock(mu_);
  next_retry_ = next_retry;
}

void Reconciler::RemoveStrayInterfaces(const Observation& observed, const DesiredObjects& want,
                                       PassResult* result) {
  if (observed.stray_interfaces.empty()) return;
  // A stray whose name a desired session uses is that session's device,
  // waiting to be attached again (its tunnel may not be up yet): keep it.
  std::set<std::string> wanted;
  for (const auto& [key, s] : want.sessions) wanted.insert(s.config.interface_name);
  for (const std::string& name : observed.stray_interfaces) {
    if (wanted.count(name)) continue;
    if (auto st = datapath_->RemoveStrayInterface(name); !st.ok()) {
      ++result->errors_by_op["remove_stray_interface"];
      L2TP_LOG(kError) << "reconcile: cannot remove the leftover interface " << name << ": " << st.message();
      continue;
    }
    ++result->strays_removed;
    L2TP_LOG(kInfo) << "reconcile: removed interface " << name
                    << ": it carries this agent's mark and no desired session uses it";
  }
}

}  // namespace l2tp
