#include "agent/reconcile/reconcile_plan.h"

#include "datapath/encap_overhead.h"

namespace l2tp {

const char* OpName(DatapathAction::Op op) {
  switch (op) {
    case DatapathAction::Op::kDeleteSession: return "delete session";
    case DatapathAction::Op::kDeleteTunnel: return "delete tunnel";
    case DatapathAction::Op::kCreateTunnel: return "create tunnel";
    case DatapathAction::Op::kCreateSession: return "create session";
    case DatapathAction::Op::kModifySession: return "modify session";
  }
  return "?";
}

const char* OpMetricName(DatapathAction::Op op) {
  switch (op) {
    case DatapathAction::Op::kDeleteSession: return "delete_session";
    case DatapathAction::Op::kDeleteTunnel: return "delete_tunnel";
    case DatapathAction::Op::kCreateTunnel: return "create_tunnel";
    case DatapathAction::Op::kCreateSession: return "create_session";
    case DatapathAction::Op::kModifySession: return "modify_session";
  }
  return "unknown";
}

const char* ReasonText(DatapathAction::Reason reason) {
  switch (reason) {
    case DatapathAction::Reason::kMissing: return "missing";
    case DatapathAction::Reason::kNotDesired: return "not desired";
    case DatapathAction::Reason::kDiffers: return "differs from the spec";
    case DatapathAction::Reason::kReplace: return "replace";
    case DatapathAction::Reason::kDiffersInPlace: return "differs in place";
  }
  return "?";
}

namespace {
// The observed session with the unobservable fields taken from `want`, and
// a right-sized interface MTU as the 0 that asks for it.
SessionConfig Comparable(const DesiredObjects::Session& want, const ObservedSession& have) {
  SessionConfig c = have.config;
  if (!have.l2spec_known) c.l2spec = want.config.l2spec;
  if (!have.mtu_known) c.mtu = want.config.mtu;
  if (want.config.mtu == 0 && c.mtu != 0 && c.mtu == RightSizedMtu(have.underlay_mtu, want.overhead))
    c.mtu = 0;
  return c;
}
}  // namespace

bool SessionMatches(const DesiredObjects::Session& want, const ObservedSession& have) {
  if (have.config == want.config) return true;  // the common case, without a copy
  return Comparable(want, have) == want.config;
}

ReconcilePlan ComputeReconcilePlan(const DesiredObjects& desired, const Observation& observed,
                                   const OwnedSet& owned, bool prune_unowned) {
  using Op = DatapathAction::Op;
  using Reason = DatapathAction::Reason;
  ReconcilePlan plan;
  std::vector<DatapathAction> session_deletes, tunnel_deletes, tunnel_creates, session_creates, modifies;

  const TunnelsById have_tunnels = ObservedTunnels(observed);
  const SessionsById have_sessions = ObservedSessions(observed);

  // Tunnels: which are gone (or going) from the datapath after this plan.
  std::set<uint32_t> tunnels_removed;
  for (const auto& [id, have] : have_tunnels) {
    auto want = desired.tunnels.find(id);
    const bool mine = owned.tunnels.count(id) || prune_unowned;
    if (want == desired.tunnels.end()) {
      if (mine) {
        tunnel_deletes.push_back({Op::kDeleteTunnel, "", have->config, {}, Reason::kNotDesired});
        tunnels_removed.insert(id);
      }
    } else if (!(have->config == want->second.config)) {
      tunnel_deletes.push_back({Op::kDeleteTunnel, want->second.name, have->config, {}, Reason::kDiffers});
      tunnel_creates.push_back(
          {Op::kCreateTunnel, want->second.name, want->second.config, {}, Reason::kReplace});
      tunnels_removed.insert(id);
    } else if (!owned.tunnels.count(id)) {
      plan.adopt.tunnels.insert(id);
    }
  }
  for (const auto& [id, want] : desired.tunnels) {
    if (!have_tunnels.count(id)) {
      tunnel_creates.push_back({Op::kCreateTunnel, want.name, want.config, {}, Reason::kMissing});
    }
  }

  // Sessions. Those in a removed tunnel vanish with it.
  for (const auto& [key, have] : have_sessions) {
    if (tunnels_removed.count(key.first)) continue;
    if (have->ppp) continue;  // its PPP channel's, which the PPP call runner holds
    auto want = desired.sessions.find(key);
    const bool mine = owned.sessions.count(key) || prune_unowned;
    if (want == desired.sessions.end()) {
      if (mine) session_deletes.push_back({Op::kDeleteSession, "", {}, have->config, Reason::kNotDesired});
      continue;
    }
    const SessionConfig& w = want->second.config;
    if (SessionMatches(want->second, *have)) {
      if (!owned.sessions.count(key)) plan.adopt.sessions.insert(key);
    } else if (SessionDiffersOnlyInModifiable(Comparable(want->second, *have), w)) {
      modifies.push_back({Op::kModifySession, want->second.name, {}, w, Reason::kDiffersInPlace});
    } else {
      session_deletes.push_back({Op::kDeleteSession, want->second.name, {}, have->config, Reason::kDiffers});
      session_creates.push_back({Op::kCreateSession, want->second.name, {}, w, Reason::kReplace});
    }
  }
  for (const auto& [key, want] : desired.sessions) {
    if (!have_sessions.count(key) || tunnels_removed.count(key.first)) {
      session_creates.push_back({Op::kCreateSession, want.name, {}, want.config, Reason::kMissing});
    }
  }

  for (auto* group : {&session_deletes, &tunnel_deletes, &tunnel_creates, &session_creates, &modifies}) {
    for (auto& a : *group) plan.actions.push_back(std::move(a));
  }
  return plan;
}

}  // namespace l2tp
