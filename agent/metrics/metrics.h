// The agent's Prometheus metrics (prometheus-cpp). Agent-level counters and
// histograms are updated as things happen; tunnel and session counters are
// read at scrape time from the statuses the reconciler cached at its last
// pass, so a scrape never queries the datapath. The control plane's counters
// and the PPP call runner's stats are read at scrape time too, from sources
// the agent sets.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/control/control_stats.h"
#include "agent/pppcalls/ppp_call_stats.h"
#include "agent/reconcile/reconciler.h"
#include "agent/state/registry.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace l2tp {

struct MetricsOptions {
  bool session_metrics = false;         // per-session series (opt-in)
  size_t session_metrics_limit = 1000;  // at most this many sessions
  std::string datapath_io;              // userspace datapath: io_uring or epoll (an `io` label)
};

// Where the scrape-time collector reads the control plane's counters (shared
// with AgentMetrics, which sets the source).
struct ControlCountersSlot;
// The same for the PPP call runner's stats.
struct PppStatsSlot;

class AgentMetrics {
 public:
  // `registry` may be null (tests): then only the control families are
  // collected at scrape time.
  AgentMetrics(const std::string& version, const std::string& datapath, const Registry* registry,
               MetricsOptions options);

  // What an exposer serves: the agent's own metrics and the resource ones.
  std::shared_ptr<prometheus::Registry> agent_registry() const { return registry_; }
  std::shared_ptr<prometheus::Collectable> resource_collector() const { return resources_; }

  void ObservePass(const Reconciler::PassResult& pass);
  void ObserveRpc(const std::string& method, const std::string& code, double seconds);
  // A call refused by the authorization policy: its method and the role it needed.
  void ObserveAuthzDenied(const std::string& method, const std::string& role);
  // A changed --config file was applied (ok) or refused.
  void ObserveConfigReload(bool ok);
  // A connection closed at once by a connection limit: the listener
  // ("unix", "tcp") and which limit ("per_peer", "total").
  void ObserveConnectionRefused(const std::string& listener, const std::string& reason);

  // The control plane's counters, called at every scrape (from the exposer's
  // thread: `source` must be thread-safe and quick). Until one is set, or
  // after an empty one, the l2tp_control_* counters are exported at 0. Set an
  // empty one before destroying what `source` uses: it returns only after a
  // scrape calling the old source has finished (so do not call it holding a
  // lock that the source takes).
  void SetControlCountersSource(std::function<ControlCounters()> source);
  // The round trip of an acknowledged HELLO (thread-safe; the control
  // plane's thread calls it).
  void ObserveHelloRoundTrip(double seconds);
  // The PPP call runner's stats (PppCalls::stats), called at every scrape
  // like the control counters' source, with the same rules. Until one is
  // set, or after an empty one, the l2tp_ppp_* series are exported at 0.
  void SetPppStatsSource(std::function<PppCallStats()> source);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ControlCountersSlot> control_source_;
  std::shared_ptr<PppStatsSlot> ppp_source_;
  std::shared_ptr<prometheus::Collectable> resources_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Histogram& reconcile_duration_;
  prometheus::Family<prometheus::Counter>& drift_repairs_;
  prometheus::Counter& strays_removed_;
  prometheus::Family<prometheus::Counter>& datapath_errors_;
  prometheus::Family<prometheus::Counter>& grpc_requests_;
  prometheus::Family<prometheus::Histogram>& grpc_duration_;
  prometheus::Family<prometheus::Counter>& authz_denied_;
  prometheus::Family<prometheus::Counter>& config_reloads_;
  prometheus::Gauge& config_last_reload_ok_;
  prometheus::Family<prometheus::Counter>& connections_refused_;
  prometheus::Histogram& hello_rtt_;
};

// Builds the scrape-time families from registry rows (exposed for tests).
std::vector<prometheus::MetricFamily> ResourceFamilies(const std::vector<Registry::MetricsRow>& rows,
                                                       const MetricsOptions& options);
// The scrape-time families of the control plane's counters (exposed for tests).
std::vector<prometheus::MetricFamily> ControlFamilies(const ControlCounters& counters);
// The scrape-time families of the PPP call runner's stats (exposed for tests):
// l2tp_ppp_sessions{phase}, l2tp_ppp_auth_failures_total{side},
// l2tp_ppp_calls_started_total, l2tp_ppp_call_duration_seconds.
std::vector<prometheus::MetricFamily> PppFamilies(const PppCallStats& stats);
// The `type` label of control message type `index` (0..20): "zlb" for 0 (an
// acknowledgement without a message), the lower-case RFC name ("sccrq",
// "hello", "ack", ...) for the others, nullptr for the unassigned 5, 13, 17-19
// (counted together as type="other").
const char* ControlMessageTypeLabel(int index);

}  // namespace l2tp
