#include "client/connection.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/security/credentials.h"

namespace l2tp::cli {
namespace {

// Why a unix socket cannot be connected to; empty `reason` if it can. Used
// only after a call failed as UNAVAILABLE, to tell "agent not running" from a
// server that answered UNAVAILABLE itself.
struct SocketProblem {
  std::string reason;
  bool agent_may_be_down = true;  // false: it runs, we may not talk to it
};

SocketProblem UnixSocketProblem(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {"the socket does not exist"};
    return {strerror(errno)};
  }
  if (!S_ISSOCK(st.st_mode)) return {"the path is not a socket"};
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return {};  // cannot probe; trust gRPC
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  SocketProblem problem;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == EACCES || errno == EPERM) {
      problem = {"permission denied (run as root or as a member of the socket's group)", false};
    } else {
      problem = {strerror(errno)};
    }
  }
  close(fd);
  return problem;
}

absl::StatusOr<std::string> ReadPemFlag(const ParsedArgs& flags, const char* name) {
  const std::string path = flags.Get(name);
  std::ifstream in(path);
  if (path.empty() || !in)
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": cannot read \"", path, "\""));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", path, " is not a PEM file"));
  }
  return text.str();
}

}  // namespace

std::string ConnectionOptions::Target() const {
  return server.empty() ? absl::StrCat("unix:", socket_path) : server;
}

std::string ConnectionOptions::Description() const {
  return server.empty() ? absl::StrCat("unix socket ", socket_path) : absl::StrCat("server ", server);
}

absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text) {
  absl::Duration d;
  int64_t seconds;
  if (absl::SimpleAtoi(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout: \"", text, "\" is not a duration (examples: 10s, 1m30s, 500ms)"));
  }
  if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout: must be positive and finite, got \"", text, "\""));
  }
  return d;
}

absl::StatusOr<ConnectionOptions> ConnectionOptionsFromFlags(const ParsedArgs& flags,
                                                             const char* env_socket) {
  ConnectionOptions options;
  if (flags.Has("socket") && flags.Has("server")) {
    return absl::InvalidArgumentError("--socket and --server: give only one");
  }
  options.socket_path = (env_socket != nullptr && *env_socket != '\0') ? env_socket : kDefaultSocket;
  if (flags.Has("socket")) {
    options.socket_path = flags.Get("socket");
    if (options.socket_path.empty()) return absl::InvalidArgumentError("--socket: empty path");
  }
  if (flags.Has("server")) {
    options.server = flags.Get("server");
    if (options.server.empty() || options.server.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--server: want HOST:PORT, got \"", options.server, "\""));
    }
  }
  const bool any_tls = flags.Has("tls-ca") || flags.Has("tls-cert") || flags.Has("tls-key");
  options.insecure = flags.GetBool("insecure");
  if (options.server.empty()) {
    if (any_tls || options.insecure) {
      return absl::InvalidArgumentError("--tls-ca, --tls-cert, --tls-key and --insecure apply to --server");
    }
  } else if (options.insecure && any_tls) {
    return absl::InvalidArgumentError(
        "--insecure: plaintext cannot be combined with --tls-ca, --tls-cert or --tls-key");
  } else if (!options.insecure && !flags.Has("tls-ca")) {
    return absl::InvalidArgumentError(
        "--server: the agent serves TCP with TLS: give --tls-ca (and --tls-cert and --tls-key for a client "
        "certificate), or --insecure for a plaintext loopback listener");
  } else if (!options.insecure) {
    if (flags.Has("tls-cert") != flags.Has("tls-key")) {
      return absl::InvalidArgumentError("--tls-cert and --tls-key: give both or neither");
    }
    for (auto [name, dest] : {std::pair<const char*, std::string*>{"tls-ca", &options.tls_ca_pem},
                              {"tls-cert", &options.tls_cert_pem},
                              {"tls-key", &options.tls_key_pem}}) {
      if (!flags.Has(name)) continue;
      auto pem = ReadPemFlag(flags, name);
      if (!pem.ok()) return pem.status();
      *dest = *std::move(pem);
    }
  }
  if (flags.Has("timeout")) {
    auto timeout = ParseTimeout(flags.Get("timeout"));
    if (!timeout.ok()) return timeout.status();
    options.timeout = *timeout;
    options.timeout_set = true;
  }
  return options;
}

std::shared_ptr<grpc::Channel> MakeChannel(const ConnectionOptions& options) {
  grpc::ChannelArguments args;
  // Listings of many thousands of sessions outgrow gRPC's 4 MiB default.
  args.SetMaxReceiveMessageSize(kMaxResponseBytes);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.server.empty() && !options.insecure) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_ca_pem;
    ssl.pem_private_key = options.tls_key_pem;
    ssl.pem_cert_chain = options.tls_cert_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(options.Target(), credentials, args);
}

Connection::Connection(ConnectionOptions options)
    : options_(std::move(options)),
      channel_(MakeChannel(options_)),
      stub_(::l2tpagent::v1::L2tpAgent::NewStub(channel_)) {}

void Connection::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
}

bool Connection::CouldNotConnect(const grpc::Status& status, std::string* reason) const {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  if (options_.server.empty()) {
    SocketProblem problem = UnixSocketProblem(options_.socket_path);
    if (problem.reason.empty()) return false;
    *reason = problem.reason;
    if (problem.agent_may_be_down) {
      absl::StrAppend(reason, ". Is l2tp-agent running? (use --socket or ", kSocketEnvVar,
                      " if it listens elsewhere)");
    }
    return true;
  }
  // TCP: the channel only sits in TRANSIENT_FAILURE when connecting failed.
  if (channel_->GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) return false;
  *reason = absl::StrCat(status.error_message(), ". Is l2tp-agent running and listening there?");
  if (!options_.insecure) {
    absl::StrAppend(reason,
                    " A failed TLS handshake looks the same: --tls-ca must hold the CA of the agent's "
                    "certificate (whose SAN must match the --server host), and an agent with "
                    "--tls-client-ca needs --tls-cert and --tls-key signed by that CA.");
  }
  return true;
}

std::string Connection::DescribeError(const grpc::Status& status) const {
  std::string reason;
  if (CouldNotConnect(status, &reason)) {
    return absl::StrCat("cannot connect to l2tp-agent at ", options_.Description(), ": ", reason);
  }
  return StatusText(status);
}

std::string Connection::StatusText(const grpc::Status& status) {
  std::string code = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
  return absl::StrCat(code, ": ", status.error_message());
}

}  // namespace l2tp::cli
