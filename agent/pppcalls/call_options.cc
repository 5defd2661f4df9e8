#include "agent/pppcalls/call_options.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"
#include "common/secret_file.h"

namespace l2tp {
namespace {

namespace v1 = ::l2tpagent::v1;

absl::Status Prefixed(std::string_view field, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(ppp::Av(field), ": ", status.message()));
}

ppp::PppAuthentication Authentication(v1::PppAuthentication a) {
  switch (a) {
    case v1::PPP_AUTHENTICATION_PAP: return ppp::PppAuthentication::kPap;
    case v1::PPP_AUTHENTICATION_NONE: return ppp::PppAuthentication::kNone;
    case v1::PPP_AUTHENTICATION_UNSPECIFIED:  // CHAP by default (docs/api.md)
    case v1::PPP_AUTHENTICATION_CHAP: return ppp::PppAuthentication::kChap;
    default: return ppp::PppAuthentication::kUnset;  // refused by ValidatePppOptions
  }
}

}  // namespace

absl::StatusOr<std::string> ReadPppSecretsText(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return absl::InvalidArgumentError(absl::StrCat("cannot read the secrets file: ", strerror(errno)));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError("the secrets file is not a regular file");
  }
  // One byte more than allowed tells "too long" from "just fits".
  std::string text(kMaxPppSecretsTextBytes + 1, '\0');
  size_t n = 0;
  int err = 0;
  while (n < text.size()) {
    const ssize_t r = read(fd, text.data() + n, text.size() - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) err = errno;
    if (r <= 0) break;
    n += static_cast<size_t>(r);
  }
  close(fd);
  std::string_view why;
  if (err != 0) {
    why = "cannot read the secrets file: ";
  } else if (n == 0) {
    why = "the secrets file is empty";
  } else if (n > kMaxPppSecretsTextBytes) {
    why = "the secrets file is longer than 1048576 bytes (1 MiB)";
  }
  if (!why.empty()) {
    explicit_bzero(text.data(), n);
    return absl::InvalidArgumentError(err != 0 ? absl::StrCat(ppp::Av(why), strerror(err))
                                               : std::string(why));
  }
  // The rest of the buffer holds no secret: shrink without copying it around.
  text.resize(n);
  return text;
}

absl::StatusOr<ppp::PppOptions> BuildCallOptions(const PppCallStart& call,
                                                 const std::string& remote_address) {
  const v1::PppSpec& spec = call.ppp;
  ppp::PppOptions o;
  o.side = call.lns ? ppp::PppSide::kLns : ppp::PppSide::kLac;
  o.interface = call.session_config.interface_name;
  o.tunnel_id = call.session_config.tunnel_id;
  o.session_id = call.session_config.session_id;
  o.lns_mode = call.session_config.lns_mode;
  o.mtu = static_cast<int>(spec.mtu());
  o.mru = static_cast<int>(spec.mru());
  // Unset: 30 s; 0 turns echo off (docs/api.md). Validation keeps it whole
  // seconds up to an hour; anything else is ValidatePppOptions's to refuse.
  o.lcp_echo_interval = spec.has_lcp_echo_interval()
                            ? static_cast<int>(
                                  std::min<int64_t>(spec.lcp_echo_interval().seconds(), INT32_MAX))
                            : 30;
  o.lcp_echo_failure = spec.lcp_echo_failure() == 0 ? 4 : static_cast<int>(spec.lcp_echo_failure());
  if (!call.lns) {
    o.user = spec.user();
    o.default_route = spec.default_route();
    o.use_peer_dns = spec.use_peer_dns();
    if (!spec.password_file().empty()) {
      absl::StatusOr<std::string> password = ReadSecretFile(spec.password_file());
      if (!password.ok()) return Prefixed("ppp.password_file", password.status());
      o.password = *password;  // copied, then wiped: a short string lives inside the StatusOr
      explicit_bzero(password->data(), password->size());
    }
    return o;
  }
  o.local_address = spec.local_address();
  o.remote_address = remote_address;
  o.authentication = Authentication(spec.authentication());
  o.dns.assign(spec.dns().begin(), spec.dns().end());
  if (o.authentication != ppp::PppAuthentication::kNone) {
    if (spec.secrets_file().empty()) {
      return absl::InvalidArgumentError(
          "ppp.secrets_file: required unless authentication is NONE (the peers' secrets)");
    }
    absl::StatusOr<std::string> secrets = ReadPppSecretsText(spec.secrets_file());
    if (!secrets.ok()) return Prefixed("ppp.secrets_file", secrets.status());
    o.secrets = *std::move(secrets);
  }
  return o;
}

void WipePppSecrets(ppp::PppOptions& options) {
  explicit_bzero(options.password.data(), options.password.size());
  explicit_bzero(options.secrets.data(), options.secrets.size());
  options.password.clear();
  options.secrets.clear();
}

}  // namespace l2tp
