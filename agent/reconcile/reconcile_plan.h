// What to do to the datapath to make it match the desired state: a pure
// function of (desired objects, observed objects, ownership).
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/state/owned_set.h"
#include "datapath/datapath.h"

namespace l2tp {

struct DesiredObjects {
  struct Tunnel {
    std::string name;
    TunnelConfig config;
  };
  struct Session {
    std::string name;
    SessionConfig config;
    // EncapOverhead of `config` in its tunnel (datapath/encap_overhead.h):
    // what a right-sized interface (config.mtu 0) is judged by.
    uint32_t overhead = 0;
  };
  std::map<uint32_t, Tunnel> tunnels;      // by tunnel id
  std::map<SessionKey, Session> sessions;  // by (tunnel id, session id)
};

// What an Observation holds, by id: pointers into it in a sorted vector,
// one allocation where a std::map takes one per object.
template <typename Id, typename Observed>
class ObservedById {
 public:
  using Entry = std::pair<Id, const Observed*>;
  ObservedById(const std::vector<Observed>& objects, Id (*id_of)(const Observed&)) {
    entries_.reserve(objects.size());
    for (const Observed& o : objects) entries_.emplace_back(id_of(o), &o);
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.first < b.first; });
  }
  const Observed* Find(const Id& id) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                               [](const Entry& e, const Id& i) { return e.first < i; });
    return it != entries_.end() && it->first == id ? it->second : nullptr;
  }
  bool count(const Id& id) const { return Find(id) != nullptr; }
  auto begin() const { return entries_.begin(); }  // in id order
  auto end() const { return entries_.end(); }

 private:
  std::vector<Entry> entries_;
};
using TunnelsById = ObservedById<uint32_t, ObservedTunnel>;
using SessionsById = ObservedById<SessionKey, ObservedSession>;
inline TunnelsById ObservedTunnels(const Observation& o) {
  return TunnelsById(o.tunnels, [](const ObservedTunnel& t) { return t.config.tunnel_id; });
}
inline SessionsById ObservedSessions(const Observation& o) {
  return SessionsById(o.sessions, [](const ObservedSession& s) {
    return SessionKey{s.config.tunnel_id, s.config.session_id};
  });
}

struct DatapathAction {
  enum class Op { kDeleteSession, kDeleteTunnel, kCreateTunnel, kCreateSession, kModifySession };
  // Why the plan holds the action; ReasonText() gives the logged text.
  enum class Reason {
    kMissing,         // "missing": desired, not held (or in a replaced tunnel); create
    kNotDesired,      // "not desired": held, ours (or pruning), nobody asks for it; delete
    kDiffers,         // "differs from the spec": the delete of a replace
    kReplace,         // "replace": the create of a replace
    kDiffersInPlace,  // "differs in place": only modifiable fields differ; modify
  };
  Op op;
  std::string name;       // resource name; empty for an object nobody asked for
  TunnelConfig tunnel;    // kCreateTunnel, kDeleteTunnel (tunnel_id)
  SessionConfig session;  // session ops
  Reason reason = Reason::kMissing;
};

struct ReconcilePlan {
  std::vector<DatapathAction> actions;  // in execution order
  // Objects that already match the desired state and become owned without a
  // single datapath write.
  OwnedSet adopt;
};

// Deletes come first (sessions, then tunnels), then creates (tunnels, then
// sessions), then in-place modifies. A tunnel that differs is replaced, which
// takes its sessions with it. Objects not desired are deleted only when owned
// or when `prune_unowned`. PPP sessions (ObservedSession::ppp) are never
// touched: they live and end with their calls' channels.
ReconcilePlan ComputeReconcilePlan(const DesiredObjects& desired, const Observation& observed,
                                   const OwnedSet& owned, bool prune_unowned);

// Equality as far as the datapath can observe (see ObservedSession). An
// unset MTU (0) matches an interface whose MTU the backend reports (the
// kernel's) when that is RightSizedMtu of the underlay it reports: a change
// of the underlay's MTU makes the session differ, and the modify that
// follows sizes it again.
bool SessionMatches(const DesiredObjects::Session& want, const ObservedSession& have);

const char* OpName(DatapathAction::Op op);              // "create tunnel"
const char* OpMetricName(DatapathAction::Op op);        // "create_tunnel"
const char* ReasonText(DatapathAction::Reason reason);  // "differs in place"

}  // namespace l2tp
