// Everything the agent is told at start, as main.cc reads it from the flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace l2tp {

struct AgentOptions {
  // API
  std::string socket = "/run/l2tp-agent/agent.sock";
  std::string socket_group;  // NAME or GID; empty: the agent's group
  std::string listen;        // TCP HOST:PORT; empty: none
  std::string tls_cert, tls_key, tls_client_ca;
  bool insecure = false;
  std::string authz_policy;
  int32_t max_message_bytes = 256 << 20;
  uint32_t max_apply_resources = 0;
  uint32_t max_concurrent_rpcs_per_client = 64;
  uint32_t max_connections = 512;
  uint32_t max_connections_per_peer = 32;
  std::chrono::milliseconds tls_handshake_timeout{10000};
  // State
  std::string state_dir = "/var/lib/l2tp-agent";
  uint64_t max_tunnels = 100000;
  uint64_t max_sessions = 1000000;
  std::string config;  // the followed --config file; empty: none
  std::chrono::milliseconds config_reload_interval{5000};
  uint32_t event_history = 1000;
  // Reconciliation and datapath
  std::string datapath = "auto";
  std::string userspace_io = "auto";
  bool userspace_spread_tx = true;  // multi-queue TAPs, transmit on every I/O thread
  bool userspace_spread_rx = true;  // ... and write what is received from every I/O thread
  std::chrono::milliseconds resync_interval{10000};
  bool prune_unowned = false;
  // DYNAMIC tunnels: how long after a stop the next run may resume them (0: StopCCN on stop).
  std::chrono::milliseconds control_handover{30000};
  // Observability
  std::string log_level = "info";
  std::string metrics_addr = "127.0.0.1:9810";
  bool session_metrics = false;
  uint32_t session_metrics_limit = 1000;
};

}  // namespace l2tp
