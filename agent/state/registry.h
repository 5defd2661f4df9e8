// The agent's resources: desired state (persisted through Store), observed
// status (in memory), and the change feed for Watch. Implements the semantics
// of every API call; the gRPC service is a thin adapter over it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/state/desired_state.h"
#include "agent/state/owned_set.h"
#include "agent/state/store.h"
#include "agent/state/watch_hub.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

class Registry {
 public:
  struct Limits {
    size_t max_tunnels = 100000;
    size_t max_sessions = 1000000;
  };

  Registry(std::unique_ptr<Store> store, WatchHub* hub, std::string datapath_name, Limits limits);

  // Whether the datapath lets UDP tunnels share a local address and port
  // (capability "udp/shared-local-port"); without it, Apply refuses such
  // tunnels with FAILED_PRECONDITION. Set before serving.
  void set_shared_udp_ports(bool shared) { shared_udp_ports_ = shared; }
  // Whether the datapath can carry PPP pseudowires (Datapath::PppSupport):
  // OK, or why not; without it, Apply refuses the PPP sessions it creates or
  // changes with FAILED_PRECONDITION saying why (validation.h,
  // FindUnsupportedPpp). Set before serving; until set, PPP is refused.
  void set_ppp_support(absl::Status support) { ppp_support_ = std::move(support); }

  absl::StatusOr<l2tpagent::v1::ApplyResponse> Apply(const l2tpagent::v1::ApplyRequest& request);
  // Applies the whole content of the --config file: like Apply, and in the
  // same commit deletes what the file's previous version declared and this
  // one no longer does (resources applied through the API are left alone).
  absl::StatusOr<l2tpagent::v1::ApplyResponse> ApplyConfigFile(const l2tpagent::v1::ApplyRequest& request);
  absl::StatusOr<l2tpagent::v1::DeleteResponse> Delete(const l2tpagent::v1::DeleteRequest& request);
  absl::StatusOr<l2tpagent::v1::GetResponse> Get(const l2tpagent::v1::GetRequest& request) const;
  absl::StatusOr<l2tpagent::v1::ListResponse> List(const l2tpagent::v1::ListRequest& request) const;
  // Every resource as an ADDED event, then a SYNCED marker, in `snapshot`;
  // later changes arrive on the returned subscription, none lost in between.
  std::shared_ptr<WatchSubscription> Watch(std::vector<l2tpagent::v1::WatchEvent>* snapshot);
  void Unwatch(const std::shared_ptr<WatchSubscription>& sub);
  size_t tunnel_count() const;
  size_t session_count() const;

  // Called after every committed change (to wake the reconciler).
  void set_on_change(std::function<void()> fn) { on_change_ = std::move(fn); }

  // ---- for metrics: one compact row per resource, read at scrape time
  struct MetricsRow {
    l2tpagent::v1::ResourceKind kind;
    std::string name;
    std::string tunnel;     // sessions: their tunnel
    std::string interface;  // sessions
    l2tpagent::v1::Phase phase;
    l2tpagent::v1::Counters counters;
    // DYNAMIC tunnels: status.tunnel_control's state and retransmissions
    // (UNSPECIFIED and 0 for STATIC tunnels and for sessions).
    l2tpagent::v1::ControlState control_state = l2tpagent::v1::CONTROL_STATE_UNSPECIFIED;
    uint64_t control_retransmissions = 0;
    // READY sessions: by how many bytes full-size frames exceed the
    // underlay's MTU (SetStatus); 0 when they fit, are not known to, or the
    // session is not READY.
    uint32_t fragmenting_bytes = 0;
  };
  std::vector<MetricsRow> MetricsSnapshot() const;

  // ---- for the reconciler
  struct Snapshot {
    DesiredState desired;
    OwnedSet owned;
    DesiredState deleting;  // deleted resources not yet gone from the datapath
  };
  // Immutable and shared: the same object until the registry changes, so a
  // pass over an unchanged registry copies nothing (and can tell by the
  // pointer). While it stays the same object, the phase, message and
  // counters of a desired resource change only through SetStatus: the
  // reconciler skips the calls that would change nothing.
  std::shared_ptr<const Snapshot> SnapshotForReconcile() const;
  // Records what the reconciler saw for a resource. Publishes MODIFIED when
  // the phase, message or observed generation changed; counters silently.
  // `fragmenting_bytes` (sessions: session_fit.h) is for the metrics only;
  // the message says it to API users.
  void SetStatus(l2tpagent::v1::ResourceKind kind, const std::string& name, l2tpagent::v1::Phase phase,
                 const std::string& message, uint64_t observed_generation,
                 const l2tpagent::v1::Counters& counters, uint32_t fragmenting_bytes = 0);
  // ---- for the control plane (DYNAMIC tunnels): what the control protocol
  // says, kept beside the reconciler's phase. Publishes MODIFIED when
  // anything but the round trip and retransmission count changed.
  void SetTunnelControlStatus(const std::string& name, const l2tpagent::v1::TunnelControlStatus& control);
  void SetSessionControlStatus(const std::string& name, const l2tpagent::v1::SessionControlStatus& control);
  // ---- for the PPP call runner (agent/pppcalls): a PPP session's calls,
  // status.ppp_calls as a whole. Publishes MODIFIED when they changed.
  // Touches neither the phase, message nor counters, nor the reconcile
  // snapshot. A session that is not desired (deleted meanwhile) is ignored.
  void SetPppCalls(const std::string& session, std::vector<l2tpagent::v1::PppCallStatus> calls);

  // Replaces the owned set (persisted when it changed).
  absl::Status SetOwned(const OwnedSet& owned);
  // The datapath no longer holds these deleted resources: publish DELETED.
  void FinishDeleting(l2tpagent::v1::ResourceKind kind, const std::string& name);

 private:
  using Key = std::string;                          // "tunnel/NAME" or "session/NAME"
  using RequestPaths = std::map<Key, std::string>;  // -> "tunnels[2]"
  struct ConfigNames {
    std::set<std::string> tunnels, sessions;
  };

  // The steps of an Apply (see ApplyLocked).
  absl::StatusOr<l2tpagent::v1::ApplyResponse> ApplyLocked(const l2tpagent::v1::ApplyRequest& request,
                                                           const ConfigNames* config);
  static absl::Status Validate(const l2tpagent::v1::ApplyRequest& request, RequestPaths* paths);
  absl::Status CheckVersionsLocked(const l2tpagent::v1::ApplyRequest& request) const;
  absl::StatusOr<DesiredState> NextStateLocked(const l2tpagent::v1::ApplyRequest& request,
                                               const ConfigNames* config, const RequestPaths& paths,
                                               uint64_t revision) const;
  void DropUndeclaredLocked(const ConfigNames& config, DesiredState* next) const;
  absl::Status CheckNextState(const DesiredState& next, const RequestPaths& paths) const;
  absl::Status CommitAndPublishLocked(const l2tpagent::v1::Plan& plan, const DesiredState& next,
                                      uint64_t revision, const ConfigNames* config);
  void AddRequestedLocked(const DesiredState& state, const RequestPaths& paths,
                          l2tpagent::v1::ApplyResponse* response) const;

  // Persists `next`; `config` replaces the recorded config-file names (null: keep them).
  absl::Status CommitLocked(const DesiredState& next, const OwnedSet& owned, uint64_t revision,
                            const ConfigNames* config = nullptr);
  l2tpagent::v1::ResourceStatus StatusLocked(const Key& key) const;
  void EraseStatusLocked(const Key& key);  // and what is kept beside it
  void PublishLocked(l2tpagent::v1::WatchEvent::Type type, l2tpagent::v1::ResourceKind kind,
                     const std::string& name);
  void MarkDeletingLocked(const DesiredState& before, const DesiredState& after);
  void InvalidateSnapshotLocked() { snapshot_.reset(); }
  void HoldBackLocked();

  // Per kind, R being l2tpagent::v1::Tunnel or l2tpagent::v1::Session (resource_traits.h).
  template <typename R>
  const R* FindLocked(const std::string& name) const;  // desired, else being deleted
  template <typename R>
  R WithStatusLocked(const R& resource) const;
  template <typename C>  // TunnelControlStatus or SessionControlStatus
  void SetControlStatusLocked(l2tpagent::v1::ResourceKind kind, const std::string& name, const C& control);

  mutable std::mutex mu_;
  std::unique_ptr<Store> store_;
  WatchHub* hub_;
  std::string datapath_name_;
  Limits limits_;
  DesiredState desired_;  // mirrors store_->state()
  OwnedSet owned_;
  ConfigNames config_names_;  // what the --config file declared last (persisted)
  std::map<Key, l2tpagent::v1::ResourceStatus> status_;
  // SetStatus's fragmenting_bytes where not 0 (not part of the API's
  // status); erased with the status. Read for READY resources only.
  std::map<Key, uint32_t> fragmenting_;
  DesiredState deleting_;
  std::function<void()> on_change_;
  bool shared_udp_ports_ = true;
  absl::Status ppp_support_ = absl::FailedPreconditionError(
      "the agent has not asked its datapath whether it can");
  // DYNAMIC tunnels a stored state puts on the IP address pair of an older
  // DYNAMIC tunnel (validation.h, FindDynamicEndpointClashes), only possible in
  // a state from before that rule: name -> why. Kept FAILED and out of the
  // reconciler's snapshot, with their sessions, until the clash is gone.
  std::map<std::string, std::string> held_back_;
  // What SnapshotForReconcile() returns, built on demand; dropped
  // (InvalidateSnapshotLocked) by every write to desired_, owned_, deleting_
  // or held_back_.
  mutable std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace l2tp
