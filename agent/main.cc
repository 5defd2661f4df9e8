// l2tp-agent: serves the declarative API and reconciles it into the datapath.
// This file only reads the flags into AgentOptions and runs an Agent
// (agent.h) until SIGTERM or SIGINT.
#include <csignal>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "agent/agent.h"
#include "agent/agent_options.h"
#include "agent/process_limits.h"
#include "agent/shutdown_signal.h"
#include "agent/version.h"
#include "common/log.h"

namespace {
// The flags' defaults are AgentOptions' own (agent_options.h), so the two cannot drift.
const l2tp::AgentOptions kDefaults{};
absl::Duration Duration(std::chrono::milliseconds ms) { return absl::Milliseconds(ms.count()); }
}  // namespace

ABSL_FLAG(std::string, socket, kDefaults.socket, "Unix socket to serve the API on (mode 0660)");
ABSL_FLAG(std::string, socket_group, "",
          "Group (NAME or GID) of the unix socket; its members may connect (default: the agent's group)");
ABSL_FLAG(std::string, state_dir, kDefaults.state_dir, "Directory of the persisted desired state");
ABSL_FLAG(std::string, datapath, kDefaults.datapath,
          "auto | kernel | userspace | memory (moves no packets; tests)");
ABSL_FLAG(std::string, userspace_io, kDefaults.userspace_io,
          "How the userspace datapath reads TAPs and sockets: auto (io_uring where the kernel allows "
          "it, else epoll) | io_uring | epoll");
ABSL_FLAG(bool, userspace_spread_tx, kDefaults.userspace_spread_tx,
          "Userspace datapath: give each session's TAP a queue per I/O thread and spread what it "
          "transmits over the threads by flow (sessions without sequence numbers)");
ABSL_FLAG(bool, userspace_spread_rx, kDefaults.userspace_spread_rx,
          "Userspace datapath, with --userspace-spread-tx and io_uring: spread what a tunnel receives "
          "for such sessions over the I/O threads by flow (one flow stays on one thread)");
ABSL_FLAG(std::string, listen, "",
          "Also serve on TCP HOST:PORT, with TLS (--tls-cert, --tls-key) or --insecure on loopback");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the TCP listener");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the TCP listener");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates: require and verify client certificates (mTLS)");
ABSL_FLAG(bool, insecure, kDefaults.insecure, "Plaintext TCP on --listen; only on a loopback address");
ABSL_FLAG(std::string, authz_policy, "",
          "Authorization policy file (YAML or JSON; see docs/security.md). "
          "Without it: unix socket callers and verified client certificates are admin");
ABSL_FLAG(int32_t, max_message_bytes, kDefaults.max_message_bytes,
          "Largest request message in bytes (larger: RESOURCE_EXHAUSTED)");
ABSL_FLAG(uint32_t, max_apply_resources, kDefaults.max_apply_resources,
          "At most this many tunnels plus sessions in one Apply (0: no limit)");
ABSL_FLAG(uint64_t, max_tunnels, kDefaults.max_tunnels, "At most this many tunnels in the desired state");
ABSL_FLAG(uint64_t, max_sessions, kDefaults.max_sessions, "At most this many sessions in the desired state");
ABSL_FLAG(
    uint32_t, max_connections, kDefaults.max_connections,
    "At most this many open connections on each listener (on the unix socket, root and the agent's uid may "
    "use 16 more; 0: no limit)");
ABSL_FLAG(
    uint32_t, max_connections_per_peer, kDefaults.max_connections_per_peer,
    "At most this many open connections per uid on the unix socket, per address on --listen (0: no limit)");
ABSL_FLAG(absl::Duration, tls_handshake_timeout, Duration(kDefaults.tls_handshake_timeout),
          "Close a TCP connection that has not finished its TLS handshake in this time");
ABSL_FLAG(uint32_t, max_concurrent_rpcs_per_client, kDefaults.max_concurrent_rpcs_per_client,
          "At most this many calls in flight per client identity, Watch streams included (0: no limit)");
ABSL_FLAG(std::string, config, "",
          "Desired state file (JSON or YAML of l2tpagent.v1.Config), applied at start and followed");
ABSL_FLAG(absl::Duration, config_reload_interval, Duration(kDefaults.config_reload_interval),
          "How often to re-read --config; a changed file is applied whole (0: only at start)");
ABSL_FLAG(absl::Duration, resync_interval, Duration(kDefaults.resync_interval),
          "How often to re-observe the datapath and repair drift");
ABSL_FLAG(absl::Duration, control_handover, Duration(kDefaults.control_handover),
          "On stop, leave ESTABLISHED DYNAMIC tunnels to the next run, which resumes them if it starts "
          "within this long (0: send StopCCN on stop)");
ABSL_FLAG(std::string, log_level, kDefaults.log_level, "debug | info | warning | error");
ABSL_FLAG(bool, prune_unowned, kDefaults.prune_unowned, "Also delete datapath objects the agent never owned");
ABSL_FLAG(std::string, metrics_addr, kDefaults.metrics_addr,
          "Serve /metrics, /healthz and /readyz on HOST:PORT (empty: off)");
ABSL_FLAG(bool, session_metrics, kDefaults.session_metrics, "Also export per-session metrics");
ABSL_FLAG(uint32_t, event_history, kDefaults.event_history,
          "How many recent events to keep for `l2tpctl events`");
ABSL_FLAG(uint32_t, session_metrics_limit, kDefaults.session_metrics_limit,
          "At most this many sessions in the per-session metrics");

namespace l2tp {
namespace {

std::chrono::milliseconds Millis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

AgentOptions OptionsFromFlags() {
  AgentOptions o;
  o.socket = absl::GetFlag(FLAGS_socket);
  o.socket_group = absl::GetFlag(FLAGS_socket_group);
  o.listen = absl::GetFlag(FLAGS_listen);
  o.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.insecure = absl::GetFlag(FLAGS_insecure);
  o.authz_policy = absl::GetFlag(FLAGS_authz_policy);
  o.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  o.max_apply_resources = absl::GetFlag(FLAGS_max_apply_resources);
  o.max_concurrent_rpcs_per_client = absl::GetFlag(FLAGS_max_concurrent_rpcs_per_client);
  o.max_connections = absl::GetFlag(FLAGS_max_connections);
  o.max_connections_per_peer = absl::GetFlag(FLAGS_max_connections_per_peer);
  o.tls_handshake_timeout = Millis(absl::GetFlag(FLAGS_tls_handshake_timeout));
  o.state_dir = absl::GetFlag(FLAGS_state_dir);
  o.max_tunnels = absl::GetFlag(FLAGS_max_tunnels);
  o.max_sessions = absl::GetFlag(FLAGS_max_sessions);
  o.config = absl::GetFlag(FLAGS_config);
  o.config_reload_interval = Millis(absl::GetFlag(FLAGS_config_reload_interval));
  o.event_history = absl::GetFlag(FLAGS_event_history);
  o.datapath = absl::GetFlag(FLAGS_datapath);
  o.userspace_io = absl::GetFlag(FLAGS_userspace_io);
  o.userspace_spread_tx = absl::GetFlag(FLAGS_userspace_spread_tx);
  o.userspace_spread_rx = absl::GetFlag(FLAGS_userspace_spread_rx);
  o.resync_interval = Millis(absl::GetFlag(FLAGS_resync_interval));
  o.control_handover = Millis(absl::GetFlag(FLAGS_control_handover));
  o.prune_unowned = absl::GetFlag(FLAGS_prune_unowned);
  o.log_level = absl::GetFlag(FLAGS_log_level);
  o.metrics_addr = absl::GetFlag(FLAGS_metrics_addr);
  o.session_metrics = absl::GetFlag(FLAGS_session_metrics);
  o.session_metrics_limit = absl::GetFlag(FLAGS_session_metrics_limit);
  return o;
}

int Run(const AgentOptions& options, ShutdownSignal& shutdown) {
  LogLevel level;
  if (!ParseLogLevel(options.log_level, &level)) {
    L2TP_LOG(kError) << "--log-level: must be debug, info, warning or error";
    return 1;
  }
  SetLogLevel(level);
  L2TP_LOG(kInfo) << RaiseOpenFileLimit();
  auto agent = Agent::Start(options);
  if (!agent.ok()) {
    L2TP_LOG(kError) << agent.status().message();
    return 1;
  }
  shutdown.Serving();
  const int sig = shutdown.Wait();
  L2TP_LOG(kInfo) << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
                  << ": stopping; datapath objects stay in place";
  (*agent)->Stop();
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
  return l2tp::Run(l2tp::OptionsFromFlags(), shutdown);
}
