#include "agent/reconcile/reconciler.h"

#include <malloc.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "agent/reconcile/datapath_config.h"
#include "agent/reconcile/reconcile_plan.h"
#include "agent/state/resource_key.h"
#include "common/log.h"

namespace l2tp {
namespace {


bool IsSessionOp(DatapathAction::Op op) {
  return op == DatapathAction::Op::kCreateSession || op == DatapathAction::Op::kDeleteSession ||
         op == DatapathAction::Op::kModifySession;
}

std::string Describe(const DatapathAction& a) {
  if (IsSessionOp(a.op)) {
    return absl::StrCat(OpName(a.op), " ", a.session.tunnel_id, "/", a.session.session_id,
                        a.name.empty() ? "" : absl::StrCat(" (session/", a.name, ")"));
  }
  return absl::StrCat(OpName(a.op), " ", a.tunnel.tunnel_id,
                      a.name.empty() ? "" : absl::StrCat(" (tunnel/", a.name, ")"));
}

}  // namespace

Reconciler::Reconciler(Registry* registry, Datapath* datapath, std::string no_datapath_reason,
                       Options options)
    : registry_(registry),
      datapath_(datapath),
      no_datapath_reason_(std::move(no_datapath_reason)),
      options_(options) {}

Reconciler::~Reconciler() { Stop(); }

void Reconciler::Start() { thread_ = std::thread([this] { Loop(); }); }

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
  // A pass over thousands of objects leaves megabytes of freed temporaries
  // (snapshots, observations) spread over the malloc arenas of this and the
  // gRPC threads: hand whole free pages back to the kernel.
  malloc_trim(0);
  if (options_.on_pass) options_.on_pass(result);
  return result;
}

Reconciler::PassResult Reconciler::Pass() {
  PassResult result;
  const Registry::Snapshot snap = registry_->SnapshotForReconcile();

  if (datapath_ == nullptr) {
    const std::string msg = absl::StrCat("no datapath: ", no_datapath_reason_);
    for (const auto& [name, t] : snap.desired.tunnels) {
      registry_->SetStatus(v1::RESOURCE_KIND_TUNNEL, name, v1::PHASE_PENDING, msg, t.generation(), {});
    }
    for (const auto& [name, s] : snap.desired.sessions) {
      registry_->SetStatus(v1::RESOURCE_KIND_SESSION, name, v1::PHASE_PENDING, msg, s.generation(), {});
    }
    for (const auto& [name, t] : snap.deleting.tunnels) registry_->FinishDeleting(v1::RESOURCE_KIND_TUNNEL, name);
    for (const auto& [name, s] : snap.deleting.sessions) registry_->FinishDeleting(v1::RESOURCE_KIND_SESSION, name);
    return result;
  }

  // What we want, keyed the datapath's way.
  DesiredObjects want;
  for (const auto& [name, t] : snap.desired.tunnels) {
    want.tunnels[t.spec().tunnel_id()] = {name, ToTunnelConfig(t.spec())};
  }
  for (const auto& [name, s] : snap.desired.sessions) {
    const auto& tunnel = snap.desired.tunnels.at(s.spec().tunnel());
    want.sessions[{tunnel.spec().tunnel_id(), s.spec().session_id()}] = {
        name, ToSessionConfig(tunnel.spec(), s.spec())};
  }

  auto observed = datapath_->Observe();
  if (!observed.ok()) {
    result.observe_failed = true;
    ++result.errors_by_op["observe"];
    L2TP_LOG(kError) << "reconcile: cannot observe the " << datapath_->Name()
                     << " datapath: " << observed.status().message();
    return result;
  }
  ReconcilePlan plan = ComputeReconcilePlan(want, *observed, snap.owned, options_.prune_unowned);

  OwnedSet owned = snap.owned;
  for (uint32_t id : plan.adopt.tunnels) {
    owned.tunnels.insert(id);
    L2TP_LOG(kInfo) << "reconcile: tunnel/" << want.tunnels.at(id).name << " adopted (tunnel id " << id << ")";
    Event(v1::RESOURCE_KIND_TUNNEL, want.tunnels.at(id).name, v1::Event::REASON_ADOPTED,
          absl::StrCat("tunnel id ", id, " already matched the spec; taken over without changes"));
  }
  for (const auto& key : plan.adopt.sessions) {
    owned.sessions.insert(key);
    L2TP_LOG(kInfo) << "reconcile: session/" << want.sessions.at(key).name << " adopted";
    Event(v1::RESOURCE_KIND_SESSION, want.sessions.at(key).name, v1::Event::REASON_ADOPTED,
          absl::StrCat("session ", key.first, "/", key.second, " already matched the spec; taken over without changes"));
  }

  const Clock::time_point now = Clock::now();
  std::map<std::string, std::string> failed;   // key -> reason (FAILED)
  std::map<std::string, std::string> waiting;  // key -> reason (PENDING)
  std::set<uint32_t> unavailable_tunnels;      // tunnel create skipped or failed
  std::set<std::string> repaired;              // keys counted as drift repairs
  for (const DatapathAction& a : plan.actions) {
    const bool session_op = IsSessionOp(a.op);
    const std::string key = a.name.empty() ? "" : (session_op ? SessionNameKey(a.name) : TunnelKey(a.name));
    if (session_op && unavailable_tunnels.count(a.session.tunnel_id)) {
      if (!key.empty()) waiting[key] = "waiting for its tunnel";
      continue;
    }
    if (!key.empty() && InBackoff(key, now)) {
      if (a.op == DatapathAction::Op::kCreateTunnel) unavailable_tunnels.insert(a.tunnel.tunnel_id);
      continue;  // keeps its FAILED status until the retry is due
    }
    uint64_t generation = 0;
    if (session_op) {
      if (auto it = snap.desired.sessions.find(a.name); it != snap.desired.sessions.end()) generation = it->second.generation();
    } else if (auto it = snap.desired.tunnels.find(a.name); it != snap.desired.tunnels.end()) {
      generation = it->second.generation();
    }
    auto ready_at = key.empty() ? ready_generation_.end() : ready_generation_.find(key);
    const bool drifted = ready_at != ready_generation_.end() && ready_at->second == generation;
    // A replace is a delete and a create: one repair, logged once.
    if (drifted && repaired.insert(key).second) {
      ++result.repairs;
      ++(session_op ? result.session_repairs : result.tunnel_repairs);
      L2TP_LOG(kWarning) << "drift: " << key
                         << (a.reason == "missing" ? " disappeared from the datapath; recreating"
                             : a.reason == "differs in place"
                                 ? " was modified behind the agent's back; restoring"
                                 : " was changed behind the agent's back; replacing");
    }

    absl::Status st;
    switch (a.op) {
      case DatapathAction::Op::kDeleteSession: st = datapath_->DeleteSession(a.session.tunnel_id, a.session.session_id); break;
      case DatapathAction::Op::kDeleteTunnel: st = datapath_->DeleteTunnel(a.tunnel.tunnel_id); break;
      case DatapathAction::Op::kCreateTunnel: st = datapath_->CreateTunnel(a.tunnel); break;
      case DatapathAction::Op::kCreateSession: st = datapath_->CreateSession(a.session); break;
      case DatapathAction::Op::kModifySession: st = datapath_->ModifySession(a.session); break;
    }
    ++result.actions;
    if (st.ok()) {
      L2TP_LOG(kInfo) << "reconcile: " << Describe(a) << ": done (" << a.reason << ")";
      if (!key.empty()) retries_.erase(key);
      const v1::ResourceKind kind = session_op ? v1::RESOURCE_KIND_SESSION : v1::RESOURCE_KIND_TUNNEL;
      if (a.op == DatapathAction::Op::kModifySession) {
        Event(kind, a.name, drifted ? v1::Event::REASON_REPAIRED : v1::Event::REASON_MODIFIED,
              drifted ? "modified behind the agent's back; restored in place" : "changed in place");
      } else if (a.op == DatapathAction::Op::kCreateTunnel || a.op == DatapathAction::Op::kCreateSession) {
        if (drifted) {
          Event(kind, a.name, v1::Event::REASON_REPAIRED,
                a.reason == "missing" ? "disappeared from the datapath; recreated"
                                      : "changed behind the agent's back; replaced");
        } else {
          Event(kind, a.name, v1::Event::REASON_CREATED, a.reason == "replace" ? "replaced to match the spec" : "created");
        }
      }
      switch (a.op) {
        case DatapathAction::Op::kCreateTunnel: owned.tunnels.insert(a.tunnel.tunnel_id); break;
        case DatapathAction::Op::kCreateSession: owned.sessions.insert({a.session.tunnel_id, a.session.session_id}); break;
        case DatapathAction::Op::kDeleteSession: owned.sessions.erase({a.session.tunnel_id, a.session.session_id}); break;
        case DatapathAction::Op::kDeleteTunnel:
          owned.tunnels.erase(a.tunnel.tunnel_id);
          std::erase_if(owned.sessions, [&](const SessionKey& k) { return k.first == a.tunnel.tunnel_id; });
          break;
        case DatapathAction::Op::kModifySession: break;
      }
      continue;
    }
    ++result.failures;
    ++result.errors_by_op[OpMetricName(a.op)];
    const std::string reason = absl::StrCat(OpName(a.op), " failed: ", st.message());
    L2TP_LOG(kError) << "reconcile: " << Describe(a) << ": " << st.message();
    if (a.op == DatapathAction::Op::kCreateTunnel) unavailable_tunnels.insert(a.tunnel.tunnel_id);
    if (!key.empty()) {
      failed[key] = reason;
      RecordFailure(key, now);
      Event(session_op ? v1::RESOURCE_KIND_SESSION : v1::RESOURCE_KIND_TUNNEL, a.name,
            v1::Event::REASON_FAILED, reason);
    }
  }

  // Status from what the datapath holds now.
  Observation after = *observed;
  if (result.actions > 0) {
    auto again = datapath_->Observe();
    if (again.ok()) after = *std::move(again);
  }
  std::map<uint32_t, const ObservedTunnel*> have_tunnels;
  for (const auto& t : after.tunnels) have_tunnels[t.config.tunnel_id] = &t;
  std::map<SessionKey, const ObservedSession*> have_sessions;
  for (const auto& s : after.sessions) have_sessions[{s.config.tunnel_id, s.config.session_id}] = &s;

  auto phase_for = [&](const std::string& key, bool matches, std::string* message) {
    if (matches) {
      message->clear();
      return v1::PHASE_READY;
    }
    if (auto it = failed.find(key); it != failed.end()) {
      *message = it->second;
      return v1::PHASE_FAILED;
    }
    if (auto it = retries_.find(key); it != retries_.end()) {
      *message = absl::StrCat("retrying after ", it->second.failures, " failure(s)");
      return v1::PHASE_FAILED;
    }
    auto it = waiting.find(key);
    *message = it != waiting.end() ? it->second : "not in the datapath yet";
    return v1::PHASE_PENDING;
  };
  // Records one resource's status; remembers the generation it is READY at.
  auto record = [&](v1::ResourceKind kind, const std::string& name, const std::string& key, bool matches,
                    uint64_t generation, const v1::Counters& counters, int* total, int* ready) {
    std::string message;
    const v1::Phase phase = phase_for(key, matches, &message);
    ++*total;
    if (phase == v1::PHASE_READY) {
      ready_generation_[key] = generation;
      ++*ready;
    } else {
      ready_generation_.erase(key);
    }
    registry_->SetStatus(kind, name, phase, message, generation, counters);
  };
  for (const auto& [id, w] : want.tunnels) {
    auto it = have_tunnels.find(id);
    const bool matches = it != have_tunnels.end() && it->second->config == w.config;
    record(v1::RESOURCE_KIND_TUNNEL, w.name, TunnelKey(w.name), matches, snap.desired.tunnels.at(w.name).generation(),
           it != have_tunnels.end() ? ToProtoCounters(it->second->counters) : v1::Counters{}, &result.tunnels,
           &result.tunnels_ready);
  }
  for (const auto& [k, w] : want.sessions) {
    auto it = have_sessions.find(k);
    const bool matches = it != have_sessions.end() && SessionMatches(w.config, *it->second);
    record(v1::RESOURCE_KIND_SESSION, w.name, SessionNameKey(w.name), matches,
           snap.desired.sessions.at(w.name).generation(),
           it != have_sessions.end() ? ToProtoCounters(it->second->counters) : v1::Counters{}, &result.sessions,
           &result.sessions_ready);
  }

  RemoveStrayInterfaces(after, snap, &result);

  // Deleted resources are done once the datapath no longer holds them (or
  // the ids now belong to another resource).
  for (const auto& [name, t] : snap.deleting.tunnels) {
    const uint32_t id = t.spec().tunnel_id();
    if (!have_tunnels.count(id) || want.tunnels.count(id)) {
      registry_->FinishDeleting(v1::RESOURCE_KIND_TUNNEL, name);
      Event(v1::RESOURCE_KIND_TUNNEL, name, v1::Event::REASON_DELETED, "removed from the datapath");
      ready_generation_.erase(TunnelKey(name));
      retries_.erase(TunnelKey(name));
    }
  }
  for (const auto& [name, s] : snap.deleting.sessions) {
    const v1::Tunnel* tunnel = nullptr;
    if (auto it = snap.desired.tunnels.find(s.spec().tunnel()); it != snap.desired.tunnels.end()) tunnel = &it->second;
    if (auto it = snap.deleting.tunnels.find(s.spec().tunnel()); !tunnel && it != snap.deleting.tunnels.end()) tunnel = &it->second;
    const SessionKey k = tunnel ? SessionKey{tunnel->spec().tunnel_id(), s.spec().session_id()} : SessionKey{0, 0};
    if (!tunnel || !have_sessions.count(k) || want.sessions.count(k)) {
      registry_->FinishDeleting(v1::RESOURCE_KIND_SESSION, name);
      Event(v1::RESOURCE_KIND_SESSION, name, v1::Event::REASON_DELETED, "removed from the datapath");
      ready_generation_.erase(SessionNameKey(name));
      retries_.erase(SessionNameKey(name));
    }
  }

  // Ownership covers what exists; persist it so a restart knows what is ours.
  std::erase_if(owned.tunnels, [&](uint32_t id) { return !have_tunnels.count(id); });
  std::erase_if(owned.sessions, [&](const SessionKey& k) { return !have_sessions.count(k); });
  if (auto st = registry_->SetOwned(owned); !st.ok()) {
    L2TP_LOG(kError) << "reconcile: cannot persist ownership: " << st.message();
  }
  // Forget retry state of resources that no longer exist.
  std::erase_if(retries_, [&](const auto& kv) {
    const std::string& key = kv.first;
    if (key.rfind("tunnel/", 0) == 0) return !snap.desired.tunnels.count(key.substr(7));
    return !snap.desired.sessions.count(key.substr(8));
  });
  Clock::time_point next_retry = Clock::time_point::max();
  for (const auto& [key, r] : retries_) next_retry = std::min(next_retry, r.next);
  {
    std::lock_guard lock(mu_);
    next_retry_ = next_retry;
  }
  return result;
}

void Reconciler::RemoveStrayInterfaces(const Observation& observed, const Registry::Snapshot& snap,
                                       PassResult* result) {
  if (observed.stray_interfaces.empty()) return;
  // A stray whose name a desired session uses is that session's device,
  // waiting to be attached again (its tunnel may not be up yet): keep it.
  std::set<std::string> wanted;
  for (const auto& [name, s] : snap.desired.sessions) {
    auto tunnel = snap.desired.tunnels.find(s.spec().tunnel());
    if (tunnel == snap.desired.tunnels.end()) continue;
    wanted.insert(ToSessionConfig(tunnel->second.spec(), s.spec()).interface_name);
  }
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
