#include "agent/grpc_server.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/api/gate_interceptor.h"
#include "common/log.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace l2tp {
namespace {

// What the operator chose for TCP, said once in the log.
void LogTcpSecurity(const GrpcServerOptions& o) {
  if (o.tcp->plaintext) {
    L2TP_LOG(kWarning) << "serving PLAINTEXT TCP on " << o.listen
                       << " (--insecure): no encryption, no client authentication"
                       << (o.default_policy ? "; every TCP client is admin" : "");
  } else if (!o.tcp->client_certificates) {
    L2TP_LOG(kWarning) << "serving TLS on " << o.listen
                       << " without --tls-client-ca: TCP clients are anonymous"
                       << " and get no role unless --authz-policy grants default_role";
  } else {
    L2TP_LOG(kInfo) << "serving mTLS on " << o.listen << " (client certificates required and verified)";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<grpc::Server>> BuildGrpcServer(const GrpcServerOptions& options,
                                                              AgentService* service, CallGate* gate) {
  // Reference the health descriptors so the linker keeps them for reflection.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (options.tcp != nullptr && options.tcp->credentials) {
    LogTcpSecurity(options);
    builder.AddListeningPort(options.listen, options.tcp->credentials);
    // A client that connects and never finishes TLS holds a file descriptor.
    builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                               static_cast<int>(options.tls_handshake_timeout.count()));
  }
  builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeGateInterceptorFactory(gate));  // health and reflection too
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  // Large batches (tens of thousands of sessions) exceed gRPC's 4 MiB default.
  // Only requests are bounded: a response is bounded by the state
  // (--max-tunnels, --max-sessions), and failing to send it after an Apply
  // committed would report an error for a change that was made.
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(-1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return absl::UnavailableError(absl::StrCat("cannot serve on ", options.listen));
  return server;
}

}  // namespace l2tp
