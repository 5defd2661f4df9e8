#include "agent/api/tls_options.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
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

// OpenSSL's reason for the last failure; empties the thread's error queue,
// which gRPC reads too.
std::string TakeOpensslError() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown error";
}

// Never prompt on the terminal for a passphrase.
int NoPassphrase(char*, int, int, void*) { return -1; }

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
Bio MemBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
}

// gRPC only finds out when the listener starts, and then says neither which
// file nor why: check up front that the key belongs to the (first,
// leaf) certificate of the chain.
absl::Status CheckKeyMatchesCertificate(const TcpListenFlags& flags, const std::string& cert_pem,
                                        const std::string& key_pem) {
  Bio cert_bio = MemBio(cert_pem);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassphrase,
                                                                     nullptr),
                                                   X509_free);
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert: ", flags.tls_cert, ": cannot parse the certificate: ", TakeOpensslError()));
  }
  Bio key_bio = MemBio(key_pem);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr,
                                                                                  NoPassphrase, nullptr),
                                                          EVP_PKEY_free);
  if (!key) {
    const std::string why = TakeOpensslError();
    if (key_pem.find("ENCRYPTED") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-key: ", flags.tls_key,
                       ": the private key is encrypted; give it unencrypted (no passphrase)"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key: ", flags.tls_key, ": cannot parse the private key: ", why));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("--tls-key and --tls-cert do not match: the key in ",
                                                   flags.tls_key,
                                                   " is not the private key of the certificate in ",
                                                   flags.tls_cert, " (the first one in the file)"));
  }
  return absl::OkStatus();
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
      return absl::InvalidArgumentError(
          "--tls-cert, --tls-key, --tls-client-ca and --insecure apply to --listen, which is not set");
    }
    return config;
  }
  if (flags.insecure) {
    if (any_tls)
      return absl::InvalidArgumentError(
          "--insecure: plaintext cannot be combined with --tls-cert, --tls-key or --tls-client-ca");
    if (!IsLoopbackHostPort(flags.listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen=", flags.listen,
          ": plaintext (--insecure) is only allowed on a loopback address (127.0.0.0/8, [::1], localhost); use --tls-cert and --tls-key"));
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
  if (auto st = CheckKeyMatchesCertificate(flags, *cert, *key); !st.ok()) return st;
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
