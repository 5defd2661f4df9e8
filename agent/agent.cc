// Agent::Start builds the agent in five steps, each a function below:
//   LoadApiSecurity  the TCP listener's TLS, the socket group, the authz policy
//   OpenState        the stored desired state, the datapath, the registry, metrics, --config
//   BuildReconciler  the control plane, the reconciler and what wakes it
//   BuildApi         the service, its call gate, the unix listener, the metrics server
//   Serve            gRPC up, then the reconciler and the --config follower start
// Stop undoes them in the order that loses no work.
#include "agent/agent.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/api/authz_policy.h"
#include "agent/api/call_gate.h"
#include "agent/api/service.h"
#include "agent/api/tcp_connection_limits.h"
#include "agent/api/tls_options.h"
#include "agent/api/unix_listener.h"
#include "agent/control/control_plane.h"
#include "agent/grpc_server.h"
#include "agent/metrics/metrics.h"
#include "agent/metrics/metrics_server.h"
#include "agent/pppcalls/ppp_calls.h"
#include "agent/reconcile/datapath_select.h"
#include "agent/reconcile/reconciler.h"
#include "agent/state/config_reloader.h"
#include "agent/state/event_log.h"
#include "agent/state/registry.h"
#include "agent/state/store.h"
#include "agent/state/watch_hub.h"
#include "agent/version.h"
#include "common/log.h"
#include "grpcpp/health_check_service_interface.h"

namespace l2tp {

// Every piece, in the order Start builds them (destroyed in reverse).
struct AgentParts {
  TcpListenConfig tcp;
  std::optional<gid_t> socket_group;
  AuthzPolicy policy = AuthzPolicy::Default(Role::kNone);
  kernel::KernelL2tpProbe kernel;
  // Before the datapath: its I/O threads hand control frames to it until
  // they stop (after Stop() it takes none).
  std::unique_ptr<ControlPlane> control;
  DatapathChoice datapath;
  // The pppd of PPP calls: after the datapath (their channels are its), and
  // stopped after the control plane, which hands it calls.
  std::unique_ptr<PppCalls> ppp_calls;
  WatchHub hub;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<AgentMetrics> metrics;
  std::unique_ptr<ConfigReloader> config_reloader;
  std::unique_ptr<EventLog> events;
  std::unique_ptr<Reconciler> reconciler;
  std::unique_ptr<ExternalChangeWatch> external_changes;
  std::unique_ptr<AgentService> service;
  std::unique_ptr<UnixListener> unix_listener;
  std::unique_ptr<CallGate> gate;
  std::unique_ptr<MetricsServer> metrics_server;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<TcpConnectionWatcher> tcp_watcher;
  bool stopped = false;

  // Also when Start failed half way: no call may outlive the control plane
  // that placed it, nor the datapath its channel is in.
  ~AgentParts() {
    if (control) control->Stop();
    if (ppp_calls) ppp_calls->Stop();
  }
};

namespace {

ConnectionLimits ConnectionLimitsOf(const AgentOptions& o) {
  ConnectionLimits limits;
  limits.total = o.max_connections;
  limits.per_peer = o.max_connections_per_peer;
  return limits;
}

// The API's security from the flags: the TCP listener, the socket's group,
// the authorization policy.
absl::Status LoadApiSecurity(const AgentOptions& o, AgentParts* p) {
  auto tcp = MakeTcpListenConfig({o.listen, o.tls_cert, o.tls_key, o.tls_client_ca, o.insecure});
  if (!tcp.ok()) return tcp.status();
  p->tcp = *std::move(tcp);
  if (!o.socket_group.empty()) {
    auto gid = ParseSocketGroup(o.socket_group);
    if (!gid.ok()) return gid.status();
    p->socket_group = *gid;
  }
  // Without a policy, anonymous TCP clients are admin only on an --insecure
  // loopback listener (the operator chose no authentication there).
  p->policy = AuthzPolicy::Default(p->tcp.plaintext ? Role::kAdmin : Role::kNone);
  if (!o.authz_policy.empty()) {
    auto loaded = AuthzPolicy::Load(o.authz_policy);
    if (!loaded.ok())
      return absl::InvalidArgumentError(absl::StrCat("--authz-policy: ", loaded.status().message()));
    p->policy = *std::move(loaded);
    L2TP_LOG(kInfo) << "authz: " << p->policy.rules().size() << " rules from " << o.authz_policy
                    << "; callers no rule matches get role " << RoleName(p->policy.default_role());
  }
  if (o.max_message_bytes < 1024)
    return absl::InvalidArgumentError("--max-message-bytes: must be at least 1024");
  return absl::OkStatus();
}

// The desired state (Store::Open checks what it loads), the datapath, the
// registry over the state, and the metrics that read both.
absl::Status OpenState(const AgentOptions& o, AgentParts* p) {
  Store::LoadReport report;
  auto store = Store::Open(o.state_dir, &report);
  if (!store.ok())
    return absl::Status(store.status().code(), absl::StrCat("state: ", store.status().message()));
  if (report.recovered) {
    L2TP_LOG(kError) << "state: " << report.problem << "; loaded the previous good state instead";
  }
  L2TP_LOG(kInfo) << "state: " << (*store)->state().tunnels_size() << " tunnels, "
                  << (*store)->state().sessions_size() << " sessions loaded from " << (*store)->path();

  p->kernel = kernel::ProbeKernelL2tp();
  auto choice = SelectDatapath(o.datapath, p->kernel, o.userspace_io, DeviceOwnerTag(o.state_dir),
                               o.userspace_spread_tx, o.userspace_spread_rx);
  if (!choice.ok()) return choice.status();
  p->datapath = *std::move(choice);
  LogMessage(p->datapath.datapath ? LogLevel::kInfo : LogLevel::kWarning)
      << "datapath: " << p->datapath.name << ": " << p->datapath.message;

  Registry::Limits limits;
  limits.max_tunnels = o.max_tunnels;
  limits.max_sessions = o.max_sessions;
  p->registry = std::make_unique<Registry>(*std::move(store), &p->hub, p->datapath.name, limits);
  if (p->datapath.datapath) {
    const auto caps = p->datapath.datapath->Capabilities();
    p->registry->set_shared_udp_ports(std::find(caps.begin(), caps.end(), "udp/shared-local-port") !=
                                      caps.end());
  }
  MetricsOptions metrics_options;
  metrics_options.session_metrics = o.session_metrics;
  metrics_options.session_metrics_limit = o.session_metrics_limit;
  metrics_options.datapath_io = p->datapath.io;
  p->metrics = std::make_unique<AgentMetrics>(kAgentVersion, p->datapath.name, p->registry.get(),
                                              metrics_options);

  // --config: applied now (a broken file stops the start), then followed.
  if (!o.config.empty()) {
    AgentMetrics* metrics = p->metrics.get();
    p->config_reloader = std::make_unique<ConfigReloader>(o.config, p->registry.get(),
                                                          [metrics](const absl::Status& st) {
                                                            metrics->ObserveConfigReload(st.ok());
                                                          });
    if (auto st = p->config_reloader->CheckNow(); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--config: ", st.message()));
    }
  }
  return absl::OkStatus();
}

// PPP calls, where the datapath carries PPP (docs/ppp.md): their pppd's
// status goes to the registry and the event log, and a call that ends on
// its own back to the control plane, which hangs it up.
absl::Status BuildPppCalls(const AgentOptions& o, AgentParts* p) {
  const absl::Status support = p->datapath.datapath->PppSupport();
  p->registry->set_ppp_support(support);
  if (!support.ok()) {
    L2TP_LOG(kInfo) << "ppp: no PPP pseudowires here: " << support.message();
    return absl::OkStatus();
  }
  PppCallsOptions ppp;
  ppp.datapath = p->datapath.datapath.get();
  ppp.run_dir = o.state_dir + "/ppp";
  Registry* registry = p->registry.get();
  EventLog* events = p->events.get();
  ppp.on_status = [registry](const std::string& session, std::vector<l2tpagent::v1::PppCallStatus> calls) {
    registry->SetPppCalls(session, std::move(calls));
  };
  ppp.on_event = [events](const std::string& session, const std::string& text) {
    L2TP_LOG(kInfo) << "ppp: session/" << session << ": " << text;
    events->Record(l2tpagent::v1::RESOURCE_KIND_SESSION, session, l2tpagent::v1::Event::REASON_PPP, text);
  };
  // Calls start only once the control plane exists, so it is set by then.
  ppp.on_call_ended = [p](uint64_t call_id, const std::string& why) {
    if (p->control) p->control->PppCallEnded(call_id, why);
  };
  auto calls = PppCalls::Create(std::move(ppp));
  if (!calls.ok()) return calls.status();
  p->ppp_calls = *std::move(calls);
  PppCalls* raw = p->ppp_calls.get();
  p->metrics->SetPppStatsSource([raw] { return raw->stats(); });
  L2TP_LOG(kInfo) << "ppp: PPP pseudowires through pppd; calls' files under " << o.state_dir << "/ppp";
  return absl::OkStatus();
}

// The control plane for DYNAMIC tunnels, and the reconciler, woken by
// writes, by the control plane, by the resync interval and, where the
// datapath tells, by changes someone else made to it.
absl::Status BuildReconciler(const AgentOptions& o, AgentParts* p) {
  p->events = std::make_unique<EventLog>(o.event_history);
  if (p->datapath.datapath) {
    if (auto st = BuildPppCalls(o, p); !st.ok()) return st;
    ControlPlaneOptions control;
    control.ppp_calls = p->ppp_calls.get();
    control.registry = p->registry.get();
    control.handover_path = o.state_dir + "/control-handover.pb";
    control.handover_max_age = std::chrono::duration_cast<std::chrono::seconds>(o.control_handover);
    control.events = p->events.get();
    AgentMetrics* metrics = p->metrics.get();
    control.on_hello_round_trip = [metrics](double seconds) { metrics->ObserveHelloRoundTrip(seconds); };
    auto plane = ControlPlane::Create(p->datapath.datapath.get(), std::move(control));
    if (!plane.ok()) return plane.status();
    p->control = *std::move(plane);
    ControlPlane* raw = p->control.get();
    p->metrics->SetControlCountersSource([raw] { return raw->counters(); });
  }
  Reconciler::Options options;
  options.events = p->events.get();
  AgentMetrics* metrics = p->metrics.get();
  options.on_pass = [metrics](const Reconciler::PassResult& pass) { metrics->ObservePass(pass); };
  options.resync_interval = o.resync_interval;
  options.prune_unowned = o.prune_unowned;
  if (p->control) options.dynamic = p->control.get();
  p->reconciler = std::make_unique<Reconciler>(p->registry.get(), p->datapath.datapath.get(),
                                               p->datapath.message, options);
  Reconciler* reconciler = p->reconciler.get();
  if (p->control) p->control->set_on_change([reconciler] { reconciler->Trigger(); });
  p->registry->set_on_change([reconciler] { reconciler->Trigger(); });
  // Reconcile at once when someone else changes the datapath's objects, where
  // the datapath can tell (the kernel's can); otherwise the resync finds them.
  if (!p->datapath.datapath) return absl::OkStatus();
  auto watch = p->datapath.datapath->WatchExternalChanges([reconciler] { reconciler->Trigger(); });
  if (watch.ok()) {
    p->external_changes = *std::move(watch);
  } else if (absl::IsUnimplemented(watch.status())) {
    L2TP_LOG(kDebug) << "datapath: " << watch.status().message() << "; drift is found by the resync";
  } else {
    L2TP_LOG(kWarning) << "datapath: no early wake-up on external changes: " << watch.status().message();
  }
  return absl::OkStatus();
}

// The service, its gate and unix listener, and the metrics server.
absl::Status BuildApi(const AgentOptions& o, AgentParts* p) {
  AgentInfo info;
  info.version = kAgentVersion;
  info.datapath = p->datapath.name;
  info.datapath_message = p->datapath.message;
  info.kernel_l2tp_available = p->kernel.available;
  if (p->datapath.datapath) info.capabilities = p->datapath.datapath->Capabilities();
  p->service = std::make_unique<AgentService>(p->registry.get(), info);
  p->service->set_event_log(p->events.get());
  AgentMetrics* metrics = p->metrics.get();
  p->service->set_rpc_observer([metrics](const std::string& method, const std::string& code, double seconds) {
    metrics->ObserveRpc(method, code, seconds);
  });
  p->service->set_max_apply_resources(o.max_apply_resources);

  auto unix_listener = UnixListener::Create(o.socket, p->socket_group, ConnectionLimitsOf(o),
                                            [metrics](const char* reason) {
                                              metrics->ObserveConnectionRefused("unix", reason);
                                            });
  if (!unix_listener.ok()) return unix_listener.status();
  p->unix_listener = *std::move(unix_listener);
  CallGate::Options gate_options;
  gate_options.policy = p->policy;
  gate_options.max_concurrent_per_client = o.max_concurrent_rpcs_per_client;
  gate_options.unix_peers = p->unix_listener->Lookup();
  gate_options.on_denied = [metrics](const std::string& method, const char* role) {
    metrics->ObserveAuthzDenied(method, role);
  };
  p->gate = std::make_unique<CallGate>(std::move(gate_options));
  p->service->set_call_gate(p->gate.get());

  if (!o.metrics_addr.empty()) {
    Reconciler* reconciler = p->reconciler.get();
    auto started = MetricsServer::Start(o.metrics_addr, *p->metrics, [reconciler](std::string* why) {
      if (reconciler->first_pass_done()) return true;
      *why = "the first reconcile pass has not finished";
      return false;
    });
    if (!started.ok()) return started.status();
    p->metrics_server = *std::move(started);
    L2TP_LOG(kInfo) << "metrics on http://" << o.metrics_addr << "/metrics (and /healthz, /readyz)";
  }
  return absl::OkStatus();
}

// gRPC on the unix socket and --listen; then the reconciler and the
// --config follower start.
absl::Status Serve(const AgentOptions& o, AgentParts* p) {
  GrpcServerOptions server_options;
  server_options.listen = o.listen;
  server_options.tcp = &p->tcp;
  server_options.max_message_bytes = o.max_message_bytes;
  server_options.tls_handshake_timeout = o.tls_handshake_timeout;
  server_options.default_policy = p->policy.is_default();
  auto server = BuildGrpcServer(server_options, p->service.get(), p->gate.get());
  if (!server.ok()) return server.status();
  p->server = *std::move(server);
  p->unix_listener->Start(p->server.get());
  if (p->tcp.credentials) {
    uint32_t port = 0;
    absl::SimpleAtoi(o.listen.substr(o.listen.rfind(':') + 1), &port);  // MakeTcpListenConfig checked it
    AgentMetrics* metrics = p->metrics.get();
    p->tcp_watcher = std::make_unique<TcpConnectionWatcher>(
        static_cast<uint16_t>(port), ConnectionLimitsOf(o),
        [metrics](const char* reason) { metrics->ObserveConnectionRefused("tcp", reason); });
  }
  p->server->GetHealthCheckService()->SetServingStatus("l2tpagent.v1.L2tpAgent", true);
  L2TP_LOG(kInfo) << "l2tp-agent " << kAgentVersion << " serving on unix:" << o.socket;

  p->reconciler->Start();
  if (p->config_reloader && o.config_reload_interval.count() > 0)
    p->config_reloader->Start(o.config_reload_interval);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(const AgentOptions& options) {
  auto parts = std::make_unique<AgentParts>();
  if (auto st = LoadApiSecurity(options, parts.get()); !st.ok()) return st;
  if (auto st = OpenState(options, parts.get()); !st.ok()) return st;
  if (auto st = BuildReconciler(options, parts.get()); !st.ok()) return st;
  if (auto st = BuildApi(options, parts.get()); !st.ok()) return st;
  if (auto st = Serve(options, parts.get()); !st.ok()) return st;
  return std::unique_ptr<Agent>(new Agent(std::move(parts)));
}

Agent::Agent(std::unique_ptr<AgentParts> parts) : parts_(std::move(parts)) {}

Agent::~Agent() { Stop(); }

void Agent::Stop() {
  AgentParts& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  p.unix_listener->Stop();  // no new connections; removes the socket
  p.tcp_watcher.reset();
  p.service->Shutdown();
  p.server->GetHealthCheckService()->Shutdown();
  p.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (p.config_reloader) p.config_reloader->Stop();
  p.reconciler->Stop();              // finishes the pass in progress
  if (p.control) p.control->Stop();  // StopCCN to every peer, its calls' pppd ended
  if (p.ppp_calls) p.ppp_calls->Stop();
  p.server->Wait();
}

}  // namespace l2tp
