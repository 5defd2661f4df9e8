#include "agent/ppp/ppp_options.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"
#include "agent/ppp/ipv4.h"
#include "agent/ppp/pppd_secrets.h"
#include "agent/ppp/pppd_words.h"

namespace l2tp::ppp {
namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", Av(why)));
}

// Linux's IFNAMSIZ - 1 bytes, of characters that need no quoting anywhere
// (pppd's argv, ip(8), logs).
absl::Status CheckInterface(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 15 && name != "." && name != "..";
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '-' || c == '.');
  }
  if (ok) return absl::OkStatus();
  return Invalid("interface",
                 absl::StrCat("\"", absl::CHexEscape(Av(name)),
                              "\" is not a usable interface name (1 to 15 of A-Z a-z 0-9 _ . -)"));
}

absl::Status CheckRange(std::string_view field, int value, int low, int high, std::string_view zero) {
  if (value == 0 && !zero.empty()) return absl::OkStatus();
  if (value >= low && value <= high) return absl::OkStatus();
  return Invalid(field, absl::StrCat(value, " is out of range ", low, "..", high, Av(zero)));
}

absl::Status CheckLac(const PppOptions& o) {
  if (absl::Status s = CheckPppdValue("user", o.user, kMaxUserBytes); !s.ok()) return s;
  if (o.user == "*") return Invalid("user", "\"*\" is the secrets files' wildcard, not a name");
  if (absl::Status s = CheckPppdValue("password", o.password, kMaxPasswordBytes); !s.ok()) return s;
  if (o.password.rfind("@/", 0) == 0) {
    return Invalid("password",
                   "starts with \"@/\", which pppd reads as the name of a file holding the secret");
  }
  return absl::OkStatus();
}

absl::Status CheckLns(const PppOptions& o) {
  if (absl::Status s = CheckLinkAddress("local_address", o.local_address); !s.ok()) return s;
  if (absl::Status s = CheckLinkAddress("remote_address", o.remote_address); !s.ok()) return s;
  if (o.local_address == o.remote_address) {
    return Invalid("remote_address", absl::StrCat(o.remote_address, " is local_address too"));
  }
  if (o.dns.size() > 2) {
    return Invalid("dns", absl::StrCat(o.dns.size(), " addresses; pppd offers at most 2"));
  }
  for (size_t i = 0; i < o.dns.size(); ++i) {
    if (absl::Status s = CheckLinkAddress(absl::StrCat("dns[", i, "]"), o.dns[i]); !s.ok()) return s;
  }
  switch (o.authentication) {
    case PppAuthentication::kUnset: return Invalid("authentication", "the LNS needs PAP, CHAP or NONE");
    case PppAuthentication::kNone:  // pppd would authenticate nobody with secrets
      return o.secrets.empty() ? absl::OkStatus() : Invalid("secrets", "authentication NONE takes none");
    default: return CheckSecretsText("secrets", o.secrets);
  }
}

// Both sides: the link.
absl::Status CheckLink(const PppOptions& o) {
  constexpr std::string_view kDefault = " (or 0: pppd's default)";
  if (absl::Status s = CheckRange("mtu", o.mtu, kMinMtu, kMaxMtu, kDefault); !s.ok()) return s;
  if (absl::Status s = CheckRange("mru", o.mru, kMinMtu, kMaxMtu, kDefault); !s.ok()) return s;
  if (absl::Status s = CheckRange("lcp_echo_interval", o.lcp_echo_interval, 0, kMaxLcpEchoInterval, "");
      !s.ok()) {
    return s;
  }
  return CheckRange("lcp_echo_failure", o.lcp_echo_failure, 0, kMaxLcpEchoFailure, "");
}

// The other side's fields, which must stay at their defaults.
absl::Status CheckUnused(const PppOptions& o) {
  const PppOptions d;
  const bool lac = o.side == PppSide::kLac;
  const std::string_view why = lac ? "is an LNS field; this is a LAC call"
                                   : "is a LAC field; this is an LNS call";
  const std::pair<std::string_view, bool> fields[] = {
      {"user", !lac && o.user != d.user},
      {"password", !lac && o.password != d.password},
      {"default_route", !lac && o.default_route != d.default_route},
      {"use_peer_dns", !lac && o.use_peer_dns != d.use_peer_dns},
      {"local_address", lac && o.local_address != d.local_address},
      {"remote_address", lac && o.remote_address != d.remote_address},
      {"authentication", lac && o.authentication != d.authentication},
      {"secrets", lac && o.secrets != d.secrets},
      {"dns", lac && o.dns != d.dns},
  };
  for (const auto& [field, set] : fields) {
    if (set) return Invalid(field, why);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePppOptions(const PppOptions& o) {
  if (absl::Status s = CheckInterface(o.interface); !s.ok()) return s;
  if (o.pppol2tp_fd < 3 || o.pppol2tp_fd > 65535) {
    return Invalid("pppol2tp_fd", absl::StrCat(o.pppol2tp_fd,
                                               " is out of range 3..65535 (0, 1 and 2 are pppd's standard "
                                               "input, output and error)"));
  }
  if (o.lns_mode && o.tunnel_id == 0) {
    return Invalid("tunnel_id", "lns_mode needs it (pppd refuses to start)");
  }
  if (o.lns_mode && o.session_id == 0) {
    return Invalid("session_id", "lns_mode needs it (pppd refuses to start)");
  }
  if (absl::Status s = CheckLink(o); !s.ok()) return s;
  if (absl::Status s = CheckUnused(o); !s.ok()) return s;
  return o.side == PppSide::kLac ? CheckLac(o) : CheckLns(o);
}

}  // namespace l2tp::ppp
