#include "agent/metrics/metrics_server.h"

#include <cstring>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "civetweb.h"

namespace l2tp {
namespace {

// civetweb's begin_request hook carries no context of ours; one metrics
// server exists per process, so it is found through this pointer.
std::atomic<MetricsServer::ReadyFn*> g_ready{nullptr};

void Reply(mg_connection* conn, int status, const std::string& body) {
  const char* reason = status == 200 ? "OK" : "Service Unavailable";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
            status, reason, body.size(), body.c_str());
}

int BeginRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const char* uri = info && info->local_uri ? info->local_uri : "";
  if (std::strcmp(uri, "/healthz") == 0) {
    Reply(conn, 200, "ok\n");
    return 200;
  }
  if (std::strcmp(uri, "/readyz") == 0) {
    std::string why;
    auto* ready = g_ready.load();
    const bool ok = ready != nullptr && (*ready)(&why);
    Reply(conn, ok ? 200 : 503, ok ? "ready\n" : "not ready: " + why + "\n");
    return ok ? 200 : 503;
  }
  return 0;  // civetweb (and the exposer's /metrics handler) take it
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address,
                                                                    const AgentMetrics& metrics,
                                                                    ReadyFn ready) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->ready_ = std::move(ready);
  g_ready = &server->ready_;
  static CivetCallbacks callbacks;  // must outlive the server
  callbacks.begin_request = &BeginRequest;
  try {
    server->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", address, "num_threads", "2"}, &callbacks);
  } catch (const std::exception& e) {
    g_ready = nullptr;
    return absl::UnavailableError(absl::StrCat("--metrics-addr=", address, ": cannot listen: ", e.what()));
  }
  server->exposer_->RegisterCollectable(metrics.agent_registry());
  server->exposer_->RegisterCollectable(metrics.resource_collector());
  return server;
}

MetricsServer::~MetricsServer() {
  exposer_.reset();
  g_ready = nullptr;
}

int MetricsServer::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace l2tp
