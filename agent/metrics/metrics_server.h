// HTTP for monitoring: /metrics through prometheus-cpp's pull exposer, and
// /healthz (the process serves) and /readyz (state loaded and the first
// reconcile pass done) on the same address.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/metrics/metrics.h"
#include "prometheus/exposer.h"

namespace l2tp {

class MetricsServer {
 public:
  // `ready` says whether the agent is ready, and if not, why.
  using ReadyFn = std::function<bool(std::string* why)>;

  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              const AgentMetrics& metrics, ReadyFn ready);
  ~MetricsServer();
  int port() const;  // the bound port (useful with port 0)

 private:
  MetricsServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  ReadyFn ready_;
};

}  // namespace l2tp
