// The credentials of the TCP listener (--listen): TLS from --tls-cert and
// --tls-key, client certificates required and verified against --tls-client-ca
// (mTLS), or plaintext with --insecure on a loopback address only.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"

namespace l2tp {

// The `{}` let callers name only the fields they set ({.listen = ...})
// without -Wextra's missing-initializer warning.
struct TcpListenFlags {
  std::string listen{};         // HOST:PORT; empty: no TCP
  std::string tls_cert{};       // PEM: certificate chain
  std::string tls_key{};        // PEM: private key
  std::string tls_client_ca{};  // PEM: CAs for client certificates; empty: none asked
  bool insecure = false;        // plaintext, loopback only
};

struct TcpListenConfig {
  std::shared_ptr<grpc::ServerCredentials> credentials;  // null: no TCP listener
  bool plaintext = false;
  bool client_certificates = false;  // mTLS
};

// Checks the flag combination, reads the PEM files and checks that the key
// belongs to the certificate. Errors name the flag (both, for a mismatch).
absl::StatusOr<TcpListenConfig> MakeTcpListenConfig(const TcpListenFlags& flags);

// True for 127.0.0.0/8, [::1] and localhost, with a port.
bool IsLoopbackHostPort(const std::string& hostport);

}  // namespace l2tp
