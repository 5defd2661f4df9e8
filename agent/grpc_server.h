// The gRPC server: the v1 service, health and reflection, all behind the call
// gate; TCP (--listen) if configured. Unix-socket connections are handed to
// it by UnixListener.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/api/call_gate.h"
#include "agent/api/service.h"
#include "agent/api/tls_options.h"
#include "grpcpp/server.h"

namespace l2tp {

struct GrpcServerOptions {
  std::string listen;  // empty: no TCP listener
  const TcpListenConfig* tcp = nullptr;
  int max_message_bytes = 256 << 20;
  std::chrono::milliseconds tls_handshake_timeout{10000};
  bool default_policy = true;  // for the warning about plaintext TCP
};

absl::StatusOr<std::unique_ptr<grpc::Server>> BuildGrpcServer(const GrpcServerOptions& options,
                                                              AgentService* service, CallGate* gate);

}  // namespace l2tp
