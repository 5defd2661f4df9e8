// How l2tpctl reaches the agent: a unix socket (default) or TCP, the call
// deadline, and how connection failures are explained to the user.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/cli_args.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "l2tpagent/v1/l2tpagent.grpc.pb.h"

namespace l2tp::cli {

inline constexpr char kDefaultSocket[] = "/run/l2tp-agent/agent.sock";
inline constexpr char kSocketEnvVar[] = "L2TPCTL_SOCKET";
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(30);
inline constexpr int kMaxResponseBytes = 256 << 20;

struct ConnectionOptions {
  std::string socket_path;  // used when `server` is empty
  std::string server;       // HOST:PORT for TCP
  // TCP only: TLS trusting the PEM CA of --tls-ca, with the client
  // certificate of --tls-cert and --tls-key if given; or plaintext with
  // --insecure. These hold the files' contents, read when the flags are parsed.
  std::string tls_ca_pem;
  std::string tls_cert_pem;
  std::string tls_key_pem;
  bool insecure = false;
  absl::Duration timeout = kDefaultTimeout;
  bool timeout_set = false;  // given explicitly (bounds `watch` too)

  std::string Target() const;       // gRPC target: "unix:/path" or "host:port"
  std::string Description() const;  // "unix socket /path" or "server host:port"
};

// From --socket, --server, --tls-ca, --tls-cert, --tls-key, --insecure and
// --timeout; `env_socket` (L2TPCTL_SOCKET, may be
// null) replaces the default socket path. Errors name the flag.
absl::StatusOr<ConnectionOptions> ConnectionOptionsFromFlags(const ParsedArgs& flags, const char* env_socket);

// "10s", "1m30s", "500ms", or a bare number of seconds; must be positive.
absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text);

class Connection {
 public:
  explicit Connection(ConnectionOptions options);

  ::l2tpagent::v1::L2tpAgent::Stub& stub() { return *stub_; }
  const ConnectionOptions& options() const { return options_; }

  // Applies the configured deadline to a unary call.
  void SetDeadline(grpc::ClientContext* context) const;

  // "INVALID_ARGUMENT: <server message>", or, when the agent could not be
  // reached at all, a sentence naming the socket or server.
  std::string DescribeError(const grpc::Status& status) const;

  // "INVALID_ARGUMENT: <server message>", without probing the connection.
  static std::string StatusText(const grpc::Status& status);

 private:
  // True when the agent could not be reached at all; `reason` then says why
  // and what to check.
  bool CouldNotConnect(const grpc::Status& status, std::string* reason) const;

  ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::l2tpagent::v1::L2tpAgent::Stub> stub_;
};

// The one place channels are built: a unix socket, TLS (--tls-ca), or
// plaintext TCP (--insecure).
std::shared_ptr<grpc::Channel> MakeChannel(const ConnectionOptions& options);

}  // namespace l2tp::cli
