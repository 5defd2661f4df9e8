// l2tp-agent: serves the declarative API and reconciles it into the datapath.
#include <signal.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/api/authz_policy.h"
#include "agent/api/call_gate.h"
#include "agent/state/config_reloader.h"
#include "agent/reconcile/datapath_select.h"
#include "agent/api/gate_interceptor.h"
#include "datapath/kernel/kernel_datapath.h"
#include "agent/metrics/metrics.h"
#include "agent/metrics/metrics_server.h"
#include "agent/process_limits.h"
#include "agent/reconcile/reconciler.h"
#include "agent/state/registry.h"
#include "agent/api/service.h"
#include "agent/shutdown_signal.h"
#include "agent/api/tcp_connection_limits.h"
#include "agent/state/store.h"
#include "agent/api/tls_options.h"
#include "agent/api/unix_listener.h"
#include "agent/version.h"
#include "common/config_file.h"
#include "common/log.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, socket, "/run/l2tp-agent/agent.sock", "Unix socket to serve the API on (mode 0660)");
ABSL_FLAG(std::string, socket_group, "",
          "Group (NAME or GID) of the unix socket; its members may connect (default: the agent's group)");
ABSL_FLAG(std::string, state_dir, "/var/lib/l2tp-agent", "Directory of the persisted desired state");
ABSL_FLAG(std::string, datapath, "auto", "auto | kernel | userspace | memory (moves no packets; tests)");
ABSL_FLAG(std::string, userspace_io, "auto",
          "How the userspace datapath reads TAPs and sockets: auto (io_uring where the kernel allows "
          "it, else epoll) | io_uring | epoll");
ABSL_FLAG(std::string, listen, "",
          "Also serve on TCP HOST:PORT, with TLS (--tls-cert, --tls-key) or --insecure on loopback");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the TCP listener");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the TCP listener");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates: require and verify client certificates (mTLS)");
ABSL_FLAG(bool, insecure, false, "Plaintext TCP on --listen; only on a loopback address");
ABSL_FLAG(std::string, authz_policy, "",
          "Authorization policy file (YAML or JSON; see docs/security.md). "
          "Without it: unix socket callers and verified client certificates are admin");
ABSL_FLAG(int32_t, max_message_bytes, 256 << 20,
          "Largest request message in bytes (larger: RESOURCE_EXHAUSTED)");
ABSL_FLAG(uint32_t, max_apply_resources, 0,
          "At most this many tunnels plus sessions in one Apply (0: no limit)");
ABSL_FLAG(uint64_t, max_tunnels, 100000, "At most this many tunnels in the desired state");
ABSL_FLAG(uint64_t, max_sessions, 1000000, "At most this many sessions in the desired state");
ABSL_FLAG(
    uint32_t, max_connections, 512,
    "At most this many open connections on each listener (on the unix socket, root and the agent's uid may "
    "use 16 more; 0: no limit)");
ABSL_FLAG(
    uint32_t, max_connections_per_peer, 32,
    "At most this many open connections per uid on the unix socket, per address on --listen (0: no limit)");
ABSL_FLAG(absl::Duration, tls_handshake_timeout, absl::Seconds(10),
          "Close a TCP connection that has not finished its TLS handshake in this time");
ABSL_FLAG(uint32_t, max_concurrent_rpcs_per_client, 64,
          "At most this many calls in flight per client identity, Watch streams included (0: no limit)");
ABSL_FLAG(std::string, config, "",
          "Desired state file (JSON or YAML of l2tpagent.v1.Config), applied at start and followed");
ABSL_FLAG(absl::Duration, config_reload_interval, absl::Seconds(5),
          "How often to re-read --config; a changed file is applied whole (0: only at start)");
ABSL_FLAG(absl::Duration, resync_interval, absl::Seconds(10),
          "How often to re-observe the datapath and repair drift");
ABSL_FLAG(std::string, log_level, "info", "debug | info | warning | error");
ABSL_FLAG(bool, prune_unowned, false, "Also delete datapath objects the agent never owned");
ABSL_FLAG(std::string, metrics_addr, "127.0.0.1:9810",
          "Serve /metrics, /healthz and /readyz on HOST:PORT (empty: off)");
ABSL_FLAG(bool, session_metrics, false, "Also export per-session metrics");
ABSL_FLAG(uint32_t, event_history, 1000, "How many recent events to keep for `l2tpctl events`");
ABSL_FLAG(uint32_t, session_metrics_limit, 1000, "At most this many sessions in the per-session metrics");

namespace l2tp {
namespace {

int Fail(const std::string& message) {
  L2TP_LOG(kError) << message;
  return 1;
}

int Run(ShutdownSignal& shutdown) {
  LogLevel level;
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    return Fail("--log-level: must be debug, info, warning or error");
  }
  SetLogLevel(level);
  L2TP_LOG(kInfo) << RaiseOpenFileLimit();
  const std::string socket_path = absl::GetFlag(FLAGS_socket);
  const std::string listen = absl::GetFlag(FLAGS_listen);
  TcpListenFlags tcp_flags{listen, absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                           absl::GetFlag(FLAGS_tls_client_ca), absl::GetFlag(FLAGS_insecure)};
  auto tcp = MakeTcpListenConfig(tcp_flags);
  if (!tcp.ok()) return Fail(std::string(tcp.status().message()));
  std::optional<gid_t> socket_group;
  if (const std::string group = absl::GetFlag(FLAGS_socket_group); !group.empty()) {
    auto gid = ParseSocketGroup(group);
    if (!gid.ok()) return Fail(std::string(gid.status().message()));
    socket_group = *gid;
  }
  // Without a policy, anonymous TCP clients are admin only on an --insecure
  // loopback listener (the operator chose no authentication there).
  AuthzPolicy policy = AuthzPolicy::Default(tcp->plaintext ? Role::kAdmin : Role::kNone);
  if (const std::string path = absl::GetFlag(FLAGS_authz_policy); !path.empty()) {
    auto loaded = AuthzPolicy::Load(path);
    if (!loaded.ok()) return Fail(absl::StrCat("--authz-policy: ", loaded.status().message()));
    policy = *std::move(loaded);
    L2TP_LOG(kInfo) << "authz: " << policy.rules().size() << " rules from " << path
                    << "; callers no rule matches get role " << RoleName(policy.default_role());
  }
  const int max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  if (max_message_bytes < 1024) return Fail("--max-message-bytes: must be at least 1024");

  Store::LoadReport report;
  auto store = Store::Open(absl::GetFlag(FLAGS_state_dir), &report);
  if (!store.ok()) return Fail(absl::StrCat("state: ", store.status().message()));
  if (report.recovered) {
    L2TP_LOG(kError) << "state: " << report.problem << "; loaded the previous good state instead";
  }
  L2TP_LOG(kInfo) << "state: " << (*store)->state().tunnels_size() << " tunnels, "
                  << (*store)->state().sessions_size() << " sessions loaded from " << (*store)->path();

  const KernelL2tpProbe kernel = ProbeKernelL2tp();
  auto choice = SelectDatapath(absl::GetFlag(FLAGS_datapath), kernel, absl::GetFlag(FLAGS_userspace_io),
                               DeviceOwnerTag(absl::GetFlag(FLAGS_state_dir)));
  if (!choice.ok()) return Fail(std::string(choice.status().message()));
  LogMessage(choice->datapath ? LogLevel::kInfo : LogLevel::kWarning)
      << "datapath: " << choice->name << ": " << choice->message;

  WatchHub hub;
  Registry::Limits limits;
  limits.max_tunnels = absl::GetFlag(FLAGS_max_tunnels);
  limits.max_sessions = absl::GetFlag(FLAGS_max_sessions);
  Registry registry(*std::move(store), &hub, choice->name, limits);

  MetricsOptions metrics_options;
  metrics_options.session_metrics = absl::GetFlag(FLAGS_session_metrics);
  metrics_options.session_metrics_limit = absl::GetFlag(FLAGS_session_metrics_limit);
  metrics_options.datapath_io = choice->io;
  AgentMetrics metrics(kAgentVersion, choice->name, &registry, metrics_options);

  // --config: applied now (a broken file stops the start), then followed.
  std::unique_ptr<ConfigReloader> config_reloader;
  if (const std::string config = absl::GetFlag(FLAGS_config); !config.empty()) {
    config_reloader = std::make_unique<ConfigReloader>(config, &registry, [&metrics](const absl::Status& st) {
      metrics.ObserveConfigReload(st.ok());
    });
    if (auto st = config_reloader->CheckNow(); !st.ok())
      return Fail(absl::StrCat("--config: ", st.message()));
  }

  EventLog events(absl::GetFlag(FLAGS_event_history));
  Reconciler::Options options;
  options.events = &events;
  options.on_pass = [&metrics](const Reconciler::PassResult& pass) { metrics.ObservePass(pass); };
  options.resync_interval = std::chrono::milliseconds(
      absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_resync_interval)));
  options.prune_unowned = absl::GetFlag(FLAGS_prune_unowned);
  Reconciler reconciler(&registry, choice->datapath.get(), choice->message, options);
  registry.set_on_change([&reconciler] { reconciler.Trigger(); });
  // Reconcile at once when someone else changes the datapath's objects, where
  // the datapath can tell (the kernel's can); otherwise the resync finds them.
  std::unique_ptr<ExternalChangeWatch> external_changes;
  if (choice->datapath) {
    auto watch = choice->datapath->WatchExternalChanges([&reconciler] { reconciler.Trigger(); });
    if (watch.ok()) {
      external_changes = *std::move(watch);
    } else if (absl::IsUnimplemented(watch.status())) {
      L2TP_LOG(kDebug) << "datapath: " << watch.status().message() << "; drift is found by the resync";
    } else {
      L2TP_LOG(kWarning) << "datapath: no early wake-up on external changes: " << watch.status().message();
    }
  }

  if (choice->datapath) {
    const auto caps = choice->datapath->Capabilities();
    registry.set_shared_udp_ports(std::find(caps.begin(), caps.end(), "udp/shared-local-port") != caps.end());
  }

  AgentInfo info;
  info.version = kAgentVersion;
  info.datapath = choice->name;
  info.datapath_message = choice->message;
  info.kernel_l2tp_available = kernel.available;
  if (choice->datapath) info.capabilities = choice->datapath->Capabilities();
  AgentService service(&registry, info);
  service.set_event_log(&events);
  service.set_rpc_observer([&metrics](const std::string& method, const std::string& code, double seconds) {
    metrics.ObserveRpc(method, code, seconds);
  });
  service.set_max_apply_resources(absl::GetFlag(FLAGS_max_apply_resources));

  ConnectionLimits connection_limits;
  connection_limits.total = absl::GetFlag(FLAGS_max_connections);
  connection_limits.per_peer = absl::GetFlag(FLAGS_max_connections_per_peer);
  auto unix_listener = UnixListener::Create(socket_path, socket_group, connection_limits,
                                            [&metrics](const char* reason) {
                                              metrics.ObserveConnectionRefused("unix", reason);
                                            });
  if (!unix_listener.ok()) return Fail(std::string(unix_listener.status().message()));
  const bool default_policy = policy.is_default();
  CallGate::Options gate_options;
  gate_options.policy = std::move(policy);
  gate_options.max_concurrent_per_client = absl::GetFlag(FLAGS_max_concurrent_rpcs_per_client);
  gate_options.unix_peers = (*unix_listener)->Lookup();
  gate_options.on_denied = [&metrics](const std::string& method, const char* role) {
    metrics.ObserveAuthzDenied(method, role);
  };
  CallGate gate(std::move(gate_options));
  service.set_call_gate(&gate);
  std::unique_ptr<MetricsServer> metrics_server;
  if (const std::string addr = absl::GetFlag(FLAGS_metrics_addr); !addr.empty()) {
    auto started = MetricsServer::Start(addr, metrics, [&reconciler](std::string* why) {
      if (reconciler.first_pass_done()) return true;
      *why = "the first reconcile pass has not finished";
      return false;
    });
    if (!started.ok()) return Fail(std::string(started.status().message()));
    metrics_server = *std::move(started);
    L2TP_LOG(kInfo) << "metrics on http://" << addr << "/metrics (and /healthz, /readyz)";
  }

  // Reference the health descriptors so the linker keeps them for reflection.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // The unix socket is accepted by UnixListener (to read SO_PEERCRED), which
  // hands each connection to this server.
  if (tcp->credentials) {
    if (tcp->plaintext) {
      L2TP_LOG(kWarning) << "serving PLAINTEXT TCP on " << listen
                         << " (--insecure): no encryption, no client authentication"
                         << (default_policy ? "; every TCP client is admin" : "");
    } else if (!tcp->client_certificates) {
      L2TP_LOG(kWarning) << "serving TLS on " << listen
                         << " without --tls-client-ca: TCP clients are anonymous"
                         << " and get no role unless --authz-policy grants default_role";
    } else {
      L2TP_LOG(kInfo) << "serving mTLS on " << listen << " (client certificates required and verified)";
    }
    builder.AddListeningPort(listen, tcp->credentials);
    // A client that connects and never finishes TLS holds a file descriptor.
    builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                               static_cast<int>(
                                   absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_tls_handshake_timeout))));
  }
  builder.RegisterService(&service);
  {  // health and reflection go through the same gate
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(MakeGateInterceptorFactory(&gate));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  // Large batches (tens of thousands of sessions) exceed gRPC's 4 MiB default.
  // Only requests are bounded: a response is bounded by the state (--max-tunnels,
  // --max-sessions), and failing to send it after an Apply committed would
  // report an error for a change that was made.
  builder.SetMaxReceiveMessageSize(max_message_bytes);
  builder.SetMaxSendMessageSize(-1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return Fail(absl::StrCat("cannot serve on ", listen));
  (*unix_listener)->Start(server.get());
  std::unique_ptr<TcpConnectionWatcher> tcp_watcher;
  if (tcp->credentials) {
    uint32_t port = 0;
    absl::SimpleAtoi(listen.substr(listen.rfind(':') + 1), &port);  // MakeTcpListenConfig checked it
    tcp_watcher = std::make_unique<TcpConnectionWatcher>(static_cast<uint16_t>(port), connection_limits,
                                                         [&metrics](const char* reason) {
                                                           metrics.ObserveConnectionRefused("tcp", reason);
                                                         });
  }
  server->GetHealthCheckService()->SetServingStatus("l2tpagent.v1.L2tpAgent", true);
  L2TP_LOG(kInfo) << "l2tp-agent " << kAgentVersion << " serving on unix:" << socket_path;

  reconciler.Start();
  if (config_reloader && absl::GetFlag(FLAGS_config_reload_interval) > absl::ZeroDuration()) {
    config_reloader->Start(
        std::chrono::milliseconds(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_config_reload_interval))));
  }

  shutdown.Serving();
  const int sig = shutdown.Wait();
  L2TP_LOG(kInfo) << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
                  << ": stopping; datapath objects stay in place";
  (*unix_listener)->Stop();  // no new connections; removes the socket
  tcp_watcher.reset();
  service.Shutdown();
  server->GetHealthCheckService()->Shutdown();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (config_reloader) config_reloader->Stop();
  reconciler.Stop();  // finishes the pass in progress
  server->Wait();
  L2TP_LOG(kInfo) << "stopped";
  return 0;
}

}  // namespace
}  // namespace l2tp

namespace {
// Flags are spelled with dashes (--state-dir); Abseil names them with
// underscores. Rewrite the name part of every --flag[=value] argument.
std::vector<std::string> DashesToUnderscores(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& a = args[i];
    if (a == "--") break;
    if (a.rfind("--", 0) != 0) continue;
    const size_t end = std::min(a.find('='), a.size());
    for (size_t j = 2; j < end; ++j) {
      if (a[j] == '-') a[j] = '_';
    }
  }
  return args;
}
}  // namespace

int main(int argc, char** argv) {
  // First, before any thread: SIGTERM stops the agent at any moment.
  l2tp::ShutdownSignal shutdown;
  std::vector<std::string> args = DashesToUnderscores(argc, argv);
  std::vector<char*> argv2;
  for (auto& a : args) argv2.push_back(a.data());
  argv2.push_back(nullptr);
  argv = argv2.data();
  // --help lists the flags defined in this file, under its path in the source
  // tree ("Flags from agent/main.cc:"), not the path it was compiled from
  // (CMake passes the compiler absolute paths; Bazel relative ones).
  absl::FlagsUsageConfig usage;
  usage.normalize_filename = [](absl::string_view file) {
    if (absl::EndsWith(file, "/agent/main.cc")) return std::string("agent/main.cc");
    while (!file.empty() && file.front() == '/') file.remove_prefix(1);  // absl's default
    return std::string(file);
  };
  usage.contains_help_flags = [](absl::string_view file) { return file == "agent/main.cc"; };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] { return std::string("l2tp-agent ") + l2tp::kAgentVersion + "\n"; };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "l2tp-agent --socket=PATH --state-dir=DIR --datapath=auto|kernel|userspace|memory "
      "[--socket-group=GROUP] [--listen=HOST:PORT --tls-cert=PEM --tls-key=PEM [--tls-client-ca=PEM] | --insecure] "
      "[--authz-policy=FILE] [--config=FILE] [--resync-interval=10s] [--log-level=info]\n"
      "(flag names take - or _ alike: --state-dir is --state_dir)");
  absl::ParseCommandLine(argc, argv);
  return l2tp::Run(shutdown);
}
