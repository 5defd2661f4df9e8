// Drives the datapath towards the desired state: observe, plan, act, record
// status. Runs on its own thread, woken by writes, by the resync interval
// (to repair drift) and by retry deadlines of failed resources.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/reconcile/backoff.h"
#include "agent/reconcile/dynamic_tunnels.h"
#include "agent/reconcile/reconcile_plan.h"
#include "agent/state/event_log.h"
#include "agent/state/registry.h"
#include "datapath/datapath.h"

namespace l2tp {

namespace reconciler_internal {  // the pass's own types (reconciler.cc)
struct Target;
struct Outcome;
struct Held;
}  // namespace reconciler_internal

class Reconciler {
 public:
  using Clock = std::chrono::steady_clock;
  struct PassResult {
    int actions = 0;   // datapath writes attempted
    int failures = 0;  // of which failed
    int repairs = 0;   // objects restored after drifting
    int tunnel_repairs = 0;
    int session_repairs = 0;
    int strays_removed = 0;  // devices with our mark that no session wanted
    bool observe_failed = false;
    std::map<std::string, int> errors_by_op;  // "create_tunnel", ..., "observe"
    double seconds = 0;                       // how long the pass took
    int tunnels = 0, tunnels_ready = 0;       // desired, and of those READY after the pass
    int sessions = 0, sessions_ready = 0;
  };
  struct Options {
    std::chrono::milliseconds resync_interval{10000};
    Backoff backoff{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000)};
    bool prune_unowned = false;
    std::function<void(const PassResult&)> on_pass;  // after every pass (metrics)
    EventLog* events = nullptr;                      // where events are kept, if anywhere
    DynamicTunnels* dynamic = nullptr;               // the control plane, if DYNAMIC tunnels run
  };

  // `datapath` may be null: no backend; resources stay PENDING, saying why.
  Reconciler(Registry* registry, Datapath* datapath, std::string no_datapath_reason, Options options);
  ~Reconciler();

  void Start();
  void Trigger();  // wake now
  // Finishes the pass in progress, then stops. Leaves datapath objects alone.
  void Stop();

  // One pass, synchronously (the thread calls this; tests too).
  PassResult RunOnce();
  uint64_t passes() const;
  bool first_pass_done() const;
  // Blocks until a pass that started after this call has finished.
  bool WaitForPass(std::chrono::milliseconds timeout);

 private:
  using Target = reconciler_internal::Target;
  using Outcome = reconciler_internal::Outcome;
  using Held = reconciler_internal::Held;

  void Loop();
  PassResult Pass();
  // The steps of a pass, in pass order (see Pass()).
  void ReportNoDatapath(const Registry::Snapshot& snap);
  const DesiredObjects& Want(const std::shared_ptr<const Registry::Snapshot>& snap,
                             const std::shared_ptr<const DynamicObjects>& dynamic);
  void Adopt(const OwnedSet& adopt, const DesiredObjects& want, OwnedSet* owned);
  void Execute(const ReconcilePlan& plan, const DesiredState& desired, OwnedSet* owned, Outcome* out,
               PassResult* result);
  std::optional<Observation> ObserveAgain(const PassResult& result);
  void RecordStatuses(const Registry::Snapshot& snap, const DesiredObjects& want, const Held& held,
                      const Outcome& out, PassResult* result);
  // DYNAMIC resources whose control connection or session is not up.
  void RecordNotUp(const Registry::Snapshot& snap, const DynamicObjects& dynamic, const Observation& held,
                   PassResult* result);
  // Removes the datapath's stray interfaces that no desired session names.
  void RemoveStrayInterfaces(const Observation& observed, const DesiredObjects& want, PassResult* result);
  void FinishDeletes(const Registry::Snapshot& snap, const DesiredObjects& want, const Held& held);
  void PersistOwnership(const OwnedSet& owned, const Held& held);
  void ScheduleRetries(const DesiredState& desired);
  void TrimHeap(const PassResult& result);  // after a pass

  // Parts of Execute(), for one action.
  bool Drifted(const Target& t) const;
  void CountRepair(const DatapathAction& a, const Target& t, PassResult* result);
  absl::Status Write(const DatapathAction& a);
  void Succeeded(const DatapathAction& a, const Target& t, bool drifted, OwnedSet* owned);
  void Failed(const DatapathAction& a, const Target& t, const absl::Status& st, Clock::time_point now,
              Outcome* out, PassResult* result);
  l2tpagent::v1::Phase PhaseFor(const std::string& key, bool matches, const Outcome& out,
                                std::string* message) const;

  bool InBackoff(const std::string& key, Clock::time_point now) const;
  void Event(l2tpagent::v1::ResourceKind kind, const std::string& name, l2tpagent::v1::Event::Reason reason,
             const std::string& message);
  void RecordFailure(const std::string& key, Clock::time_point now);

  Registry* registry_;
  Datapath* datapath_;
  std::string no_datapath_reason_;
  Options options_;

  struct Retry {
    int failures = 0;
    Clock::time_point next;
  };
  std::map<std::string, Retry> retries_;  // only touched by RunOnce
  // The generation each resource was last READY at: a datapath that differs
  // from that same generation has drifted; from a newer one, the user asked.
  // Kept while the resource is not READY, so drift seen over two passes (the
  // kernel removes a tunnel's sessions before the tunnel) is still drift.
  std::map<std::string, uint64_t> ready_generation_;
  // Drift counted and logged, not yet READY again: counted once, however many
  // passes the repair takes.
  std::set<std::string> repairing_;
  // The desired objects of the last pass, and what they were built from:
  // the same snapshot and report give the same objects (Want()).
  DesiredObjects want_;
  std::shared_ptr<const Registry::Snapshot> want_snapshot_;
  std::shared_ptr<const DynamicObjects> want_dynamic_;
  // What RecordStatuses last told the registry, per entry of want_ (in its
  // order; reset with it). While the snapshot stays the same object, the
  // registry changes a resource's status only through SetStatus
  // (registry.h), so the same status again needs no call.
  struct Recorded {
    bool valid = false;
    l2tpagent::v1::Phase phase = l2tpagent::v1::PHASE_UNSPECIFIED;
    std::string message;
    Counters counters;
    bool Is(l2tpagent::v1::Phase p, const std::string& m, const Counters& c) const {
      return valid && phase == p && message == m && counters == c;
    }
  };
  struct {
    std::vector<Recorded> tunnels, sessions;
  } recorded_;
  bool want_rebuilt_ = false;  // since the last trim of the heap
  int passes_since_trim_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool triggered_ = false;
  bool stopping_ = false;
  uint64_t passes_ = 0;
  uint64_t started_ = 0;
  Clock::time_point next_retry_ = Clock::time_point::max();  // earliest retry due
  std::thread thread_;
};

}  // namespace l2tp
