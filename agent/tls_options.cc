#include "agent/tls_options.h"

#include <arpa/inet.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"

namespace l2tp {
namespace {

absl::StatusOr<std::string> ReadPem(const char* flag, const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find(absl::StrCat("-----BEGIN ")) == std::string::npos ||
      text.str().find(what) == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " holds no PEM ", what));
  }
  return text.str();
}

}  // namespace

bool IsLoopbackHostPort(const std::string& hostport) {
  std::string host;
  if (absl::StartsWith(hostport, "[")) {
    auto end = hostport.find("]:");
    if (end == std::string::npos) return false;
    host = hostport.substr(1, end - 1);
  } else {
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos || hostport.find(':') != colon) return false;
    host = hostport.substr(0, colon);
  }
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

absl::StatusOr<TcpListenConfig> MakeTcpListenConfig(const TcpListenFlags& flags) {
  TcpListenConfig config;
  const bool any_tls = !flags.tls_cert.empty() || !flags.tls_key.empty() || !flags.tls_client_ca.empty();
  if (flags.listen.empty()) {
    if (any_tls || flags.insecure) {
      return absl::InvalidArgumentError("--tls-cert, --tls-key, --tls-client-ca and --insecure apply to --listen, which is not set");
    }
    return config;
  }
  if (flags.insecure) {
    if (any_tls) return absl::InvalidArgumentError("--insecure: plaintext cannot be combined with --tls-cert, --tls-key or --tls-client-ca");
    if (!IsLoopbackHostPort(flags.listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen=", flags.listen, ": plaintext (--insecure) is only allowed on a loopback address (127.0.0.0/8, [::1], localhost); use --tls-cert and --tls-key"));
    }
    config.credentials = grpc::InsecureServerCredentials();
    config.plaintext = true;
    return config;
  }
  if (flags.tls_cert.empty() || flags.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--listen: TCP needs TLS: give --tls-cert and --tls-key (and --tls-client-ca for client certificates), or --insecure on a loopback address");
  }
  auto cert = ReadPem("--tls-cert", flags.tls_cert, "CERTIFICATE");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem("--tls-key", flags.tls_key, "PRIVATE KEY");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!flags.tls_client_ca.empty()) {
    auto ca = ReadPem("--tls-client-ca", flags.tls_client_ca, "CERTIFICATE");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    config.client_certificates = true;
  }
  config.credentials = grpc::SslServerCredentials(options);
  return config;
}

}  // namespace l2tp
