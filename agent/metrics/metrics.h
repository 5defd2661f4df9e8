// The agent's Prometheus metrics (prometheus-cpp). Agent-level counters and
// histograms are updated as things happen; tunnel and session counters are
// read at scrape time from the statuses the reconciler cached at its last
// pass, so a scrape never queries the datapath.
#pragma once

#include <map>
#include <memory>
#include <string>

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

class AgentMetrics {
 public:
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

 private:
  std::shared_ptr<prometheus::Registry> registry_;
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
};

// Builds the scrape-time families from registry rows (exposed for tests).
std::vector<prometheus::MetricFamily> ResourceFamilies(const std::vector<Registry::MetricsRow>& rows,
                                                       const MetricsOptions& options);

}  // namespace l2tp
