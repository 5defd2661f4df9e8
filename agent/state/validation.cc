#include "agent/state/validation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/state/names.h"
#include "agent/state/spec_defaults.h"
#include "common/secret_file.h"
#include "datapath/ip_address.h"
#include "google/protobuf/util/time_util.h"

namespace l2tp {
namespace v1 = ::l2tpagent::v1;
namespace {

using google::protobuf::util::TimeUtil;

class Checker {
 public:
  Checker(std::string_view path, std::vector<Violation>* out) : path_(path), out_(out) {}
  void Fail(std::string_view field, std::string reason) {
    out_->push_back({absl::StrCat(path_, ".", std::string(field)), std::move(reason)});
  }

 private:
  std::string path_;
  std::vector<Violation>* out_;
};

// Why `a` cannot be a tunnel endpoint, or empty when it can. Loopback
// addresses are allowed: tests and single-host setups use them.
std::string EndpointError(const IpAddress& a) {
  if (a.IsUnspecified()) return "must be a concrete address, got the unspecified address";
  if (a.IsMulticast()) return "must be a unicast address, got a multicast address";
  if (a.IsLimitedBroadcast()) return "must be a unicast address, got the broadcast address";
  if (a.IsLinkLocal()) {
    return "link-local addresses are not supported: there is no way to give a scope (the interface)";
  }
  // One endpoint, one spelling: the mapped form would dodge the family and
  // collision checks, and IP encapsulation cannot use it at all.
  if (a.IsV4Mapped()) return "must not be an IPv4-mapped IPv6 address; write the IPv4 address itself";
  return "";
}

// `required` says what the address is for when it is missing.
void CheckAddress(Checker& c, const char* field, const std::string& text, std::optional<IpAddress>* out,
                  std::string_view required = "required: an IPv4 or IPv6 address") {
  if (text.empty()) {
    c.Fail(field, std::string(required));
    return;
  }
  *out = IpAddress::Parse(text);
  if (!*out) {
    c.Fail(field, absl::StrCat("must be an IPv4 or IPv6 address, got ", Quote(text)));
  } else if (auto e = EndpointError(**out); !e.empty()) {
    c.Fail(field, absl::StrCat(e, " ", Quote(text)));
    out->reset();
  }
}

// Rules on the pair of valid addresses, reported on the remote.
void CheckEndpoints(Checker& c, const IpAddress& local, const IpAddress& remote, const v1::TunnelSpec& s) {
  if (local.family != remote.family) {
    c.Fail("spec.remote", absl::StrCat("must be of the same address family as local (", Quote(s.local()),
                                       "), got ", Quote(s.remote())));
  } else if (local == remote) {
    c.Fail("spec.remote", absl::StrCat("must differ from local, got ", Quote(s.remote()), " for both"));
  }
}

void CheckReorderTimeout(Checker& c, const google::protobuf::Duration& d) {
  constexpr int64_t kMaxSeconds = 3600;  // 1h inclusive: 3600.000000001s is over
  if (d.seconds() < 0 || d.nanos() < 0) {
    c.Fail("spec.reorder_timeout", "must not be negative");
  } else if (d.nanos() > 999'999'999) {
    c.Fail("spec.reorder_timeout", absl::StrCat("nanos must be below one second, got ", d.nanos()));
  } else if (d.seconds() > kMaxSeconds || (d.seconds() == kMaxSeconds && d.nanos() > 0)) {
    c.Fail("spec.reorder_timeout", absl::StrCat("must be at most 1h, got ", TimeUtil::ToString(d)));
  }
}

// In L2TPv3 the sequence number rides in the L2-specific sublayer (RFC 3931
// section 4.6), so with l2_specific_sublayer NONE no frame can carry one.
// Linux accepts the combination and then discards every frame on the side
// that requires sequencing. An unset sublayer means DEFAULT (spec_defaults.cc),
// so only an explicit NONE is refused.
void CheckSequencing(Checker& c, const v1::SessionSpec& s) {
  if (s.l2_specific_sublayer() != v1::L2_SPECIFIC_SUBLAYER_NONE) return;
  constexpr const char* kWhy =
      "needs the L2-specific sublayer, which carries the sequence number, and l2_specific_sublayer is NONE: ";
  constexpr const char* kFix = "; set l2_specific_sublayer to DEFAULT (or leave it unset), or turn ";
  if (s.send_sequence()) {
    c.Fail("spec.send_sequence", absl::StrCat(kWhy,
                                              "no frame could carry a sequence number, and a peer that "
                                              "requires sequencing would discard every frame",
                                              kFix, "send_sequence off"));
  }
  if (s.require_sequence()) {
    c.Fail("spec.require_sequence", absl::StrCat(kWhy,
                                                 "no frame could carry a sequence number, so every frame "
                                                 "received would be discarded",
                                                 kFix, "require_sequence off"));
  }
}

using Control = v1::TunnelControl;

// A file the spec names (a secret's): an absolute path the kernel can take.
// Empty: none.
void CheckFilePath(Checker& c, std::string_view field, const std::string& path) {
  if (path.empty()) return;
  if (path.front() != '/') {
    c.Fail(field, absl::StrCat("must be an absolute path, got ", Quote(path)));
  } else if (path.find('\0') != std::string::npos) {
    c.Fail(field, absl::StrCat("must not contain NUL bytes, got ", Quote(path)));
  } else if (path.size() >= PATH_MAX) {
    c.Fail(field, absl::StrCat("must be shorter than ", PATH_MAX, " bytes, got ", path.size()));
  }
}

// Whether CheckFilePath accepts `path` (non-empty): only such files are
// looked at by CheckSecretFiles; the others are the validation's to refuse.
bool IsWellFormedPath(const std::string& path) {
  return !path.empty() && path.front() == '/' && path.find('\0') == std::string::npos &&
         path.size() < PATH_MAX;
}

constexpr size_t kMaxHostNameBytes = 255;
constexpr size_t kMaxRemoteEndIdBytes = 255;
constexpr uint32_t kMaxRetransmitRetries = 20;
constexpr uint32_t kMaxReceiveWindow = 256;

uint32_t VersionOf(const v1::TunnelSpec& s) { return s.version() == 0 ? 3 : s.version(); }

// HELLO every 1s to 1h (RFC 3931 section 4.4 leaves the interval to the
// implementation; 0 would mean a HELLO storm, more than 1h a dead peer unseen).
void CheckHelloInterval(Checker& c, const google::protobuf::Duration& d) {
  constexpr const char* kField = "spec.control.hello_interval";
  constexpr int64_t kMaxSeconds = 3600;
  if (d.seconds() < 0 || d.nanos() < 0) {
    c.Fail(kField, "must not be negative");
  } else if (d.nanos() > 999'999'999) {
    c.Fail(kField, absl::StrCat("nanos must be below one second, got ", d.nanos()));
  } else if (d.seconds() < 1) {
    c.Fail(kField,
           absl::StrCat("must be at least 1s, got ", TimeUtil::ToString(d), "; leave it unset for 60s"));
  } else if (d.seconds() > kMaxSeconds || (d.seconds() == kMaxSeconds && d.nanos() > 0)) {
    c.Fail(kField, absl::StrCat("must be at most 1h, got ", TimeUtil::ToString(d)));
  }
}

// The first byte outside [lo, hi], or nullopt when there is none.
std::optional<unsigned char> ByteOutside(std::string_view text, unsigned char lo, unsigned char hi) {
  for (char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < lo || b > hi) return b;
  }
  return std::nullopt;
}

// spec.control. A STATIC tunnel (control unset, or mode UNSPECIFIED or
// STATIC) takes no other control field; a DYNAMIC one needs a role.
void CheckControl(Checker& c, const v1::TunnelSpec& s) {
  if (!s.has_control()) return;
  const Control& k = s.control();
  if (!Control::Mode_IsValid(k.mode())) {
    c.Fail("spec.control.mode", absl::StrCat("unknown mode ", k.mode(), "; use STATIC or DYNAMIC"));
    return;  // the other fields mean nothing without a mode
  }
  if (k.mode() != Control::MODE_DYNAMIC) {
    const std::string why = absl::StrCat("only for DYNAMIC tunnels; control.mode is ",
                                         k.mode() == Control::MODE_STATIC ? "STATIC"
                                                                          : "unset, which means STATIC",
                                         ": set control.mode to DYNAMIC, or leave this unset");
    if (k.role() != Control::ROLE_UNSPECIFIED) c.Fail("spec.control.role", why);
    if (!k.host_name().empty()) c.Fail("spec.control.host_name", why);
    if (!k.secret_file().empty()) c.Fail("spec.control.secret_file", why);
    if (k.has_hello_interval()) c.Fail("spec.control.hello_interval", why);
    if (k.retransmit_retries() != 0) c.Fail("spec.control.retransmit_retries", why);
    if (k.receive_window() != 0) c.Fail("spec.control.receive_window", why);
    return;
  }
  if (k.role() == Control::ROLE_UNSPECIFIED) {
    c.Fail("spec.control.role", "required for DYNAMIC tunnels: INITIATOR or RESPONDER");
  } else if (!Control::Role_IsValid(k.role())) {
    c.Fail("spec.control.role", absl::StrCat("unknown role ", k.role(), "; use INITIATOR or RESPONDER"));
  }
  if (k.host_name().size() > kMaxHostNameBytes) {
    c.Fail("spec.control.host_name", absl::StrCat("must be at most ", kMaxHostNameBytes, " bytes, got ",
                                                  k.host_name().size(), " (", Quote(k.host_name()), ")"));
  } else if (ByteOutside(k.host_name(), 0x21, 0x7e)) {
    c.Fail("spec.control.host_name",
           absl::StrCat("must be printable ASCII without spaces, got ", Quote(k.host_name()),
                        "; leave it empty for the node's hostname"));
  }
  CheckFilePath(c, "spec.control.secret_file", k.secret_file());
  if (k.has_hello_interval()) CheckHelloInterval(c, k.hello_interval());
  if (k.retransmit_retries() > kMaxRetransmitRetries) {
    c.Fail("spec.control.retransmit_retries", absl::StrCat("must be at most ", kMaxRetransmitRetries,
                                                           " (0 means 5), got ", k.retransmit_retries()));
  }
  if (k.receive_window() > kMaxReceiveWindow) {
    c.Fail("spec.control.receive_window",
           absl::StrCat("must be at most ", kMaxReceiveWindow, " (0 means 4), got ", k.receive_window()));
  }
}

// ---- PPP pseudowires (docs/api.md, "PPP pseudowires"). pppd's own limits
// are those of agent/ppp (ppp_options.h, ipv4.h), which checks them again
// when a call starts.

constexpr size_t kMaxPppUserBytes = 255;  // pppd's MAXNAMELEN - 1
constexpr uint32_t kMinPppMtu = 128;      // pppd's MINMRU
constexpr uint32_t kMaxPppMtu = 16384;    // pppd's MAXMRU
constexpr uint32_t kMaxLcpEchoFailure = 100;
constexpr int kMaxPppDns = 2;  // pppd's ms-dns: a primary and a secondary
constexpr size_t kMaxInterfaceBytes = 15;

// The LAC's fields on an LNS and the other way round.
constexpr char kLacFieldOnLns[] =
    "an LAC (client) field; this session's tunnel is a RESPONDER, the LNS (server) side";
constexpr char kLnsFieldOnLac[] =
    "an LNS (server) field; this session's tunnel is an INITIATOR, the LAC (client) side";

// A dotted-quad IPv4 address in host order, or nullopt.
std::optional<uint32_t> ParseIpv4(std::string_view text) {
  auto a = IpAddress::Parse(text);
  if (!a || !a->is_v4()) return std::nullopt;
  return uint32_t{a->bytes[0]} << 24 | uint32_t{a->bytes[1]} << 16 | uint32_t{a->bytes[2]} << 8 |
         uint32_t{a->bytes[3]};
}

std::string FormatIpv4(uint32_t a) {
  return absl::StrCat(a >> 24, ".", (a >> 16) & 0xff, ".", (a >> 8) & 0xff, ".", a & 0xff);
}

// Why pppd would not take `a` as one end of a link (or offer it as a DNS
// server), as agent/ppp/ipv4.h says; empty when it would.
std::string_view UnusableLinkAddress(uint32_t a) {
  const uint32_t first = a >> 24;
  if (first == 0) return "is in 0.0.0.0/8 (this network)";
  if (first == 127) return "is a loopback address";
  if (first >= 224 && first < 240) return "is a multicast address";
  if (first >= 240) return "is in the reserved 240.0.0.0/4";
  return "";
}

// An IPv4 address usable on a PPP link; `what` says what for.
std::optional<uint32_t> CheckPppAddress(Checker& c, const std::string& field, const std::string& text,
                                        std::string_view what) {
  const auto a = ParseIpv4(text);
  if (!a) {
    c.Fail(field,
           absl::StrCat("must be an IPv4 address (pppd's IPCP assigns IPv4 addresses), got ", Quote(text)));
    return std::nullopt;
  }
  if (auto why = UnusableLinkAddress(*a); !why.empty()) {
    c.Fail(field, absl::StrCat(Quote(text), " ", std::string(why), ": not usable as ", std::string(what)));
    return std::nullopt;
  }
  return a;
}

struct Ipv4Pool {
  uint32_t network = 0;
  int bits = 32;
  uint32_t last() const { return bits == 0 ? 0xffffffffu : network | ~(0xffffffffu << (32 - bits)); }
  bool Contains(uint32_t a) const { return a >= network && a <= last(); }
  // The addresses it hands out: all of a /31 or /32 (RFC 3021), else all
  // but the network and broadcast addresses (as agent/ppp/address_pool.h).
  uint64_t size() const {
    const uint64_t n = uint64_t{1} << (32 - bits);
    return bits >= 31 ? n : n - 2;
  }
};

std::optional<Ipv4Pool> CheckPppPool(Checker& c, const char* field, const std::string& text) {
  const size_t slash = text.find('/');
  const auto base = ParseIpv4(std::string_view(text).substr(0, slash));
  if (!base || slash == std::string::npos) {
    auto v6 = IpAddress::Parse(std::string_view(text).substr(0, slash));
    c.Fail(field,
           v6 && v6->is_v6()
               ? absl::StrCat("must be an IPv4 CIDR (pppd's IPCP assigns IPv4 addresses; IPv6 over PPP "
                              "uses interface identifiers), got ",
                              Quote(text))
               : absl::StrCat("must be an IPv4 CIDR such as \"10.8.0.0/24\", got ", Quote(text)));
    return std::nullopt;
  }
  const std::string_view length = std::string_view(text).substr(slash + 1);
  int bits = -1;
  if (length.empty() || length.size() > 2 ||
      !std::all_of(length.begin(), length.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
      !absl::SimpleAtoi(std::string(length), &bits) || bits > 32) {
    c.Fail(field, absl::StrCat("the prefix length must be 0 to 32, got ", Quote(text)));
    return std::nullopt;
  }
  Ipv4Pool pool{*base, bits};
  const uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
  if ((*base & ~mask) != 0) {
    c.Fail(field, absl::StrCat("must have no host bits set (the network is ", FormatIpv4(*base & mask), "/",
                               bits, "), got ", Quote(text)));
    return std::nullopt;
  }
  // The unusable ranges are whole /8s or larger, aligned: the ends tell.
  for (uint32_t end : {pool.network, pool.last()}) {
    if (auto why = UnusableLinkAddress(end); !why.empty()) {
      c.Fail(field, absl::StrCat(Quote(text), " holds ", FormatIpv4(end), ", which ", std::string(why),
                                 ": not usable for the peers' addresses"));
      return std::nullopt;
    }
  }
  return pool;
}

// Whole seconds from 0 (echo off) to 1h: pppd's lcp-echo-interval.
void CheckLcpEchoInterval(Checker& c, const google::protobuf::Duration& d) {
  constexpr const char* kField = "spec.ppp.lcp_echo_interval";
  if (d.seconds() < 0 || d.nanos() < 0) {
    c.Fail(kField, "must not be negative");
  } else if (d.nanos() > 999'999'999) {
    c.Fail(kField, absl::StrCat("nanos must be below one second, got ", d.nanos()));
  } else if (d.nanos() != 0) {
    c.Fail(kField,
           absl::StrCat("must be whole seconds (pppd counts in seconds), got ", TimeUtil::ToString(d)));
  } else if (d.seconds() > 3600) {
    c.Fail(kField, absl::StrCat("must be at most 1h, got ", TimeUtil::ToString(d)));
  }
}

void CheckPppLac(Checker& c, const v1::PppSpec& p) {
  const std::string& user = p.user();
  if (user.size() > kMaxPppUserBytes) {
    c.Fail("spec.ppp.user", absl::StrCat("must be at most ", kMaxPppUserBytes, " bytes, got ", user.size(),
                                         " (", Quote(user), ")"));
  } else if (user.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
    c.Fail("spec.ppp.user", absl::StrCat("must not contain NUL, carriage return or newline bytes (pppd reads "
                                         "its secrets line by line), got ",
                                         Quote(user)));
  } else if (user == "*") {
    c.Fail("spec.ppp.user",
           "must not be \"*\", the secrets files' wildcard: give the name to authenticate as");
  }
  if (!p.password_file().empty() && user.empty()) {
    c.Fail("spec.ppp.user", "required with password_file: the name this end authenticates as");
  }
  CheckFilePath(c, "spec.ppp.password_file", p.password_file());
}

void CheckPppLns(Checker& c, const v1::SessionSpec& s) {
  const v1::PppSpec& p = s.ppp();
  if (p.max_sessions() > kMaxPppSessions) {
    c.Fail("spec.ppp.max_sessions",
           absl::StrCat("must be at most ", kMaxPppSessions, " (0 means 1), got ", p.max_sessions()));
  }
  const uint32_t calls = std::max<uint32_t>(1, std::min(p.max_sessions(), kMaxPppSessions));

  std::optional<uint32_t> local;
  if (p.local_address().empty()) {
    c.Fail("spec.ppp.local_address", "required for an LNS: this end's IPv4 address on every call's link");
  } else {
    local = CheckPppAddress(c, "spec.ppp.local_address", p.local_address(), "one end of a PPP link");
  }
  std::optional<Ipv4Pool> pool;
  if (p.remote_address_pool().empty()) {
    c.Fail("spec.ppp.remote_address_pool",
           "required for an LNS: the IPv4 CIDR the peers' addresses come from, e.g. \"10.8.0.0/24\"");
  } else {
    pool = CheckPppPool(c, "spec.ppp.remote_address_pool", p.remote_address_pool());
  }
  if (pool && p.max_sessions() <= kMaxPppSessions && pool->size() < calls) {
    c.Fail("spec.ppp.remote_address_pool",
           absl::StrCat(Quote(p.remote_address_pool()), " has ", pool->size(),
                        pool->size() == 1 ? " address" : " addresses",
                        " for calls, fewer than max_sessions (", calls, "); widen it or lower max_sessions"));
  }
  if (local && pool && pool->Contains(*local)) {
    c.Fail("spec.ppp.local_address",
           absl::StrCat("must be outside remote_address_pool ", Quote(p.remote_address_pool()), ", got ",
                        Quote(p.local_address()), ": the pool's addresses go to the peers"));
  }

  const v1::PppAuthentication auth = p.authentication();
  if (!v1::PppAuthentication_IsValid(auth)) {
    c.Fail("spec.ppp.authentication",
           absl::StrCat("unknown authentication ", auth, "; use PAP, CHAP or NONE"));
  } else if (auth == v1::PPP_AUTHENTICATION_NONE) {
    if (!p.secrets_file().empty()) {
      c.Fail("spec.ppp.secrets_file",
             "must be unset with authentication NONE, which authenticates no peer; set authentication to PAP "
             "or CHAP to use it");
    }
  } else if (p.secrets_file().empty()) {
    const bool pap = auth == v1::PPP_AUTHENTICATION_PAP;
    c.Fail("spec.ppp.secrets_file",
           absl::StrCat("required with authentication ", pap ? "PAP" : "CHAP",
                        auth == v1::PPP_AUTHENTICATION_UNSPECIFIED ? " (unset means CHAP)" : "",
                        ": the file, in pppd's ", pap ? "pap-secrets" : "chap-secrets",
                        " format, the peers authenticate against; or set authentication to NONE"));
  } else {
    CheckFilePath(c, "spec.ppp.secrets_file", p.secrets_file());
  }

  if (p.dns_size() > kMaxPppDns) {
    c.Fail("spec.ppp.dns",
           absl::StrCat("at most ", kMaxPppDns,
                        " addresses (pppd offers a primary and a secondary DNS server), got ", p.dns_size()));
  }
  for (int i = 0; i < p.dns_size(); ++i) {
    CheckPppAddress(c, absl::StrCat("spec.ppp.dns[", i, "]"), p.dns(i), "a DNS server");
  }

  // The interface_name is a prefix each call's number follows. Names the
  // kernel would refuse are ValidateSessionAlone's.
  const std::string& prefix = s.interface_name();
  if (prefix.empty() || !InterfaceNameError(prefix).empty()) return;
  const size_t digits = absl::StrCat(calls).size();
  if (std::isdigit(static_cast<unsigned char>(prefix.back()))) {
    c.Fail("spec.interface_name",
           absl::StrCat(
               "must not end in a digit: an LNS session's interface_name is a prefix each call's number "
               "follows (1 to ",
               calls, "), and \"pw1\" with call 1 would read as \"pw\" with call 11; got ", Quote(prefix)));
  } else if (prefix.size() + digits > kMaxInterfaceBytes) {
    c.Fail("spec.interface_name",
           absl::StrCat("must be at most ", kMaxInterfaceBytes - digits,
                        " bytes: an LNS session's interface_name "
                        "is a prefix each call's number follows (1 to ",
                        calls, "), which needs room for ", digits, digits == 1 ? " digit" : " digits",
                        " within 15 bytes; got ", prefix.size(), " (", Quote(prefix), ")"));
  }
}

// SessionSpec.ppp of a PPP session in a DYNAMIC tunnel: the side is the
// tunnel's role, and the other side's fields are refused.
void CheckPpp(Checker& c, const v1::SessionSpec& s, const v1::TunnelSpec& tunnel) {
  const v1::PppSpec& p = s.ppp();
  const auto role = tunnel.control().role();
  if (role != Control::ROLE_INITIATOR && role != Control::ROLE_RESPONDER) return;  // the tunnel's problem
  const bool lac = role == Control::ROLE_INITIATOR;
  if (lac) {
    for (auto [field, set] :
         {std::pair{"spec.ppp.max_sessions", p.max_sessions() != 0},
          std::pair{"spec.ppp.local_address", !p.local_address().empty()},
          std::pair{"spec.ppp.remote_address_pool", !p.remote_address_pool().empty()},
          std::pair{"spec.ppp.authentication", p.authentication() != v1::PPP_AUTHENTICATION_UNSPECIFIED},
          std::pair{"spec.ppp.secrets_file", !p.secrets_file().empty()},
          std::pair{"spec.ppp.dns", p.dns_size() > 0}}) {
      if (set) c.Fail(field, kLnsFieldOnLac);
    }
    CheckPppLac(c, p);
  } else {
    for (auto [field, set] : {std::pair{"spec.ppp.user", !p.user().empty()},
                              std::pair{"spec.ppp.password_file", !p.password_file().empty()},
                              std::pair{"spec.ppp.default_route", p.default_route()},
                              std::pair{"spec.ppp.use_peer_dns", p.use_peer_dns()}}) {
      if (set) c.Fail(field, kLacFieldOnLns);
    }
    CheckPppLns(c, s);
  }
  for (auto [field, value] : {std::pair{"spec.ppp.mtu", p.mtu()}, std::pair{"spec.ppp.mru", p.mru()}}) {
    if (value != 0 && (value < kMinPppMtu || value > kMaxPppMtu)) {
      c.Fail(field, absl::StrCat("must be 0 (pppd's default, 1500) or from ", kMinPppMtu, " to ", kMaxPppMtu,
                                 ", got ", value));
    }
  }
  if (p.has_lcp_echo_interval()) CheckLcpEchoInterval(c, p.lcp_echo_interval());
  if (p.lcp_echo_failure() > kMaxLcpEchoFailure) {
    c.Fail("spec.ppp.lcp_echo_failure",
           absl::StrCat("must be at most ", kMaxLcpEchoFailure, " (0 means 4), got ", p.lcp_echo_failure()));
  }
}

// Which of a session's rules to check: those that hold in any tunnel, those
// that depend on the tunnel, or both.
enum SessionRules : int { kAloneRules = 1, kTunnelRules = 2, kAllRules = kAloneRules | kTunnelRules };

// The rules of a session in `tunnel` (nullptr: a STATIC tunnel not known
// here), in the order they have always been reported.
void CheckSession(Checker& c, const v1::Session& session, const v1::TunnelSpec* tunnel, int rules) {
  const bool alone = (rules & kAloneRules) != 0;
  const bool in_tunnel = (rules & kTunnelRules) != 0;
  const v1::SessionSpec& s = session.spec();
  const bool dynamic = tunnel != nullptr && IsDynamic(*tunnel);
  const bool v2 = dynamic && VersionOf(*tunnel) == 2;
  const bool ppp = s.pseudowire() == v1::PSEUDOWIRE_PPP;

  if (alone) {
    if (auto e = DnsLabelError(session.name()); !e.empty()) c.Fail("name", e);
    if (s.tunnel().empty()) c.Fail("spec.tunnel", "required: the name of the session's tunnel");
    else if (auto e = DnsLabelError(s.tunnel()); !e.empty()) c.Fail("spec.tunnel", e);
  }
  if (in_tunnel && v2 && !ppp) {
    // L2TPv2 carries PPP only; the other tunnel rules would only add noise
    // about a session that cannot exist.
    c.Fail("spec.pseudowire",
           absl::StrCat("must be PPP: tunnel ", Quote(s.tunnel()),
                        " is L2TPv2, which carries PPP only (RFC 2661); got ",
                        s.pseudowire() == v1::PSEUDOWIRE_UNSPECIFIED ? "unset, which means ETH"
                        : s.pseudowire() == v1::PSEUDOWIRE_ETH       ? "ETH"
                                                                     : absl::StrCat(s.pseudowire())));
  } else if (in_tunnel && !dynamic) {
    if (s.session_id() == 0) c.Fail("spec.session_id", "must be non-zero (0 marks control messages)");
    if (s.peer_session_id() == 0)
      c.Fail("spec.peer_session_id", "must be non-zero (0 marks control messages)");
    if (ppp) {
      c.Fail("spec.pseudowire",
             absl::StrCat("PPP pseudowires need a DYNAMIC tunnel, whose control protocol places their calls",
                          tunnel != nullptr ? absl::StrCat("; tunnel ", Quote(s.tunnel()), " is STATIC")
                                            : ""));
    }
  } else if (in_tunnel) {  // DYNAMIC: session_id 0 lets the agent pick
    if (v2 && s.session_id() > 0xffff) {
      c.Fail("spec.session_id", absl::StrCat("must fit in 16 bits for L2TPv2, got ", s.session_id(),
                                             " (0 lets the agent pick)"));
    }
    if (s.peer_session_id() != 0) {
      c.Fail("spec.peer_session_id",
             absl::StrCat("must be 0: learned from the peer in DYNAMIC tunnels, got ", s.peer_session_id()));
    }
  }

  if (alone) {
    if (!v1::Pseudowire_IsValid(s.pseudowire())) {
      c.Fail("spec.pseudowire", absl::StrCat("unknown pseudowire type ", s.pseudowire(), "; use ETH or PPP"));
    } else if (s.has_ppp() && !ppp) {
      c.Fail("spec.ppp", absl::StrCat("only for PPP pseudowires; pseudowire is ",
                                      s.pseudowire() == v1::PSEUDOWIRE_ETH ? "ETH" : "unset, which means ETH",
                                      ": set pseudowire to PPP, or leave ppp unset"));
    }
    if (!s.interface_name().empty()) {
      if (auto e = InterfaceNameError(s.interface_name()); !e.empty()) c.Fail("spec.interface_name", e);
    }
  }
  // L2TPv2 has neither cookies nor an L2-specific sublayer (RFC 2661).
  const bool v2_ppp = in_tunnel && v2 && ppp;
  const bool learned_cookie = in_tunnel && dynamic && !v2 && !s.cookie().empty();
  if (learned_cookie) {
    c.Fail("spec.cookie",
           "must be empty: learned from the peer (Assigned Cookie) in DYNAMIC tunnels; set peer_cookie for "
           "what this end requires");
  }
  if (v2_ppp) {
    for (auto [field, value] :
         {std::pair{"spec.cookie", &s.cookie()}, std::pair{"spec.peer_cookie", &s.peer_cookie()}}) {
      if (!value->empty()) c.Fail(field, "L2TPv2 has no cookies (RFC 2661): leave it empty");
    }
  }
  if (alone) {
    for (auto [field, value] :
         {std::pair{"spec.cookie", &s.cookie()}, std::pair{"spec.peer_cookie", &s.peer_cookie()}}) {
      if (learned_cookie && value == &s.cookie()) continue;  // refused whatever its form
      if (v2_ppp && !value->empty()) continue;               // likewise
      std::string error;
      if (!ParseCookie(*value, &error)) c.Fail(field, error);
    }
    if (!v1::L2SpecificSublayer_IsValid(s.l2_specific_sublayer())) {
      c.Fail("spec.l2_specific_sublayer",
             absl::StrCat("unknown sublayer ", s.l2_specific_sublayer(), "; use NONE or DEFAULT"));
    }
    // A PPP session's sequencing depends on its tunnel's version: checked
    // with the tunnel's rules below.
    if (!ppp) CheckSequencing(c, s);
    if (s.has_reorder_timeout()) CheckReorderTimeout(c, s.reorder_timeout());
    if (ppp && s.has_mtu()) {
      c.Fail("spec.mtu", absl::StrCat("not for PPP sessions, whose interface is pppd's: set ppp.mtu (and "
                                      "ppp.mru) instead; got ",
                                      s.mtu()));
    } else if (s.has_mtu() && (s.mtu() < 68 || s.mtu() > 65535)) {
      c.Fail("spec.mtu", absl::StrCat("must be between 68 and 65535, got ", s.mtu()));
    }
  }

  if (v2_ppp) {
    if (s.l2_specific_sublayer() == v1::L2_SPECIFIC_SUBLAYER_DEFAULT) {
      c.Fail("spec.l2_specific_sublayer",
             "L2TPv2 has no L2-specific sublayer (RFC 2661): leave it unset or NONE, got DEFAULT");
    }
    if (!s.remote_end_id().empty()) {
      c.Fail("spec.remote_end_id", absl::StrCat("only for sessions of DYNAMIC L2TPv3 tunnels; tunnel ",
                                                Quote(s.tunnel()), " is L2TPv2: leave it unset"));
    }
  }
  if (in_tunnel && !v2) {
    const std::string& id = s.remote_end_id();
    if (!dynamic) {
      if (!id.empty()) {
        c.Fail("spec.remote_end_id",
               absl::StrCat("only for sessions of DYNAMIC L2TPv3 tunnels",
                            tunnel != nullptr ? absl::StrCat("; tunnel ", Quote(s.tunnel()), " is STATIC")
                                              : "",
                            ": leave it unset"));
      }
    } else if (id.empty()) {
      c.Fail("spec.remote_end_id",
             "required for sessions of DYNAMIC L2TPv3 tunnels: the Remote End ID that names this pseudowire "
             "on both ends (RFC 3931 section 5.4.4)");
    } else if (id.size() > kMaxRemoteEndIdBytes) {
      c.Fail("spec.remote_end_id", absl::StrCat("must be at most ", kMaxRemoteEndIdBytes, " bytes, got ",
                                                id.size(), " (", Quote(id), ")"));
    } else if (ByteOutside(id, 0x20, 0x7e)) {
      c.Fail("spec.remote_end_id", absl::StrCat("must be printable ASCII, got ", Quote(id)));
    }
  }
  if (in_tunnel && dynamic && ppp) {
    // In L2TPv3 the sequence number rides in the sublayer; in L2TPv2 in
    // its own header, so any sublayer setting will do.
    if (!v2) CheckSequencing(c, s);
    CheckPpp(c, s, *tunnel);
  }
}

// Two UDP tunnels with this equal would need the same connected socket: the
// 5-tuple (normalised specs). IP-encapsulated tunnels between the same two
// addresses are fine: sessions, unique per host, tell their packets apart.
std::string EndpointKey(const v1::TunnelSpec& s) {
  return absl::StrCat("UDP from ", s.local(), " port ", s.udp_source_port(), " to ", s.remote(), " port ",
                      s.udp_destination_port());
}

}  // namespace

std::vector<Violation> ValidateTunnel(const v1::Tunnel& tunnel, std::string_view path) {
  std::vector<Violation> out;
  Checker c(path, &out);
  if (auto e = DnsLabelError(tunnel.name()); !e.empty()) c.Fail("name", e);
  const v1::TunnelSpec& s = tunnel.spec();
  const bool dynamic = IsDynamic(s);

  const uint32_t version = VersionOf(s);
  if (version == 2 && !dynamic) {
    c.Fail("spec.version",
           "L2TPv2 needs the control protocol: its sessions are PPP pseudowires, whose calls it places; set "
           "control.mode to DYNAMIC, or use 3");
  } else if (version != 3 && version != 2) {
    c.Fail("spec.version", dynamic ? absl::StrCat("must be 3, or 2 for L2TPv2, got ", s.version())
                                   : absl::StrCat("must be 3, got ", s.version()));
  }
  const uint32_t max_id = version == 2 ? 0xffff : 0xffffffff;
  if (!dynamic) {
    for (auto [field, value] :
         {std::pair{"spec.tunnel_id", s.tunnel_id()}, std::pair{"spec.peer_tunnel_id", s.peer_tunnel_id()}}) {
      if (value == 0) c.Fail(field, "must be non-zero");
      else if (value > max_id) c.Fail(field, absl::StrCat("must fit in 16 bits for L2TPv2, got ", value));
    }
  } else {  // tunnel_id 0 lets the agent pick; the peer's is learned
    if (s.tunnel_id() > max_id) {
      c.Fail("spec.tunnel_id",
             absl::StrCat("must fit in 16 bits for L2TPv2, got ", s.tunnel_id(), " (0 lets the agent pick)"));
    }
    if (s.peer_tunnel_id() != 0) {
      c.Fail("spec.peer_tunnel_id",
             absl::StrCat("must be 0: learned from the peer in DYNAMIC tunnels, got ", s.peer_tunnel_id()));
    }
  }

  if (!v1::Encapsulation_IsValid(s.encap())) {
    c.Fail("spec.encap", absl::StrCat("unknown encapsulation ", s.encap(), "; use UDP or IP"));
  } else if (dynamic && version == 2 && s.encap() == v1::ENCAPSULATION_IP) {
    c.Fail("spec.encap", "L2TPv2 runs over UDP only (RFC 2661); use UDP or leave it unset");
  }
  const bool ip_encap = s.encap() == v1::ENCAPSULATION_IP;

  std::optional<IpAddress> local, remote;
  CheckAddress(c, "spec.local", s.local(), &local);
  if (dynamic && s.control().role() == Control::ROLE_INITIATOR) {
    CheckAddress(c, "spec.remote", s.remote(), &remote,
                 "required: the IPv4 or IPv6 address the INITIATOR sends its SCCRQ to");
  } else {
    CheckAddress(c, "spec.remote", s.remote(), &remote);
  }
  if (local && remote) CheckEndpoints(c, *local, *remote, s);

  for (auto [field, value] : {std::pair{"spec.udp_source_port", s.udp_source_port()},
                              std::pair{"spec.udp_destination_port", s.udp_destination_port()}}) {
    if (ip_encap && value != 0) c.Fail(field, "applies to UDP encapsulation only; leave it unset for IP");
    else if (value > 65535) c.Fail(field, absl::StrCat("must be a port number (1-65535), got ", value));
  }
  const bool v6 = local && local->is_v6();
  if (s.udp_checksum() && (ip_encap || v6)) {
    c.Fail("spec.udp_checksum",
           "applies to UDP over IPv4 only (UDP over IPv6 always has checksums; see udp6_zero_checksum_tx)");
  }
  for (auto [field, value] : {std::pair{"spec.udp6_zero_checksum_tx", s.udp6_zero_checksum_tx()},
                              std::pair{"spec.udp6_zero_checksum_rx", s.udp6_zero_checksum_rx()}}) {
    if (value && (ip_encap || (local && !v6))) c.Fail(field, "applies to UDP over IPv6 only");
  }
  CheckControl(c, s);
  return out;
}

std::vector<Violation> ValidateSession(const v1::Session& session, std::string_view path) {
  std::vector<Violation> out;
  Checker c(path, &out);
  CheckSession(c, session, nullptr, kAllRules);
  return out;
}

std::vector<Violation> ValidateSessionOfTunnel(const v1::Session& session, const v1::TunnelSpec& tunnel,
                                               std::string_view path) {
  std::vector<Violation> out;
  Checker c(path, &out);
  CheckSession(c, session, &tunnel, kAllRules);
  return out;
}

std::vector<Violation> ValidateSessionAlone(const v1::Session& session, std::string_view path) {
  std::vector<Violation> out;
  Checker c(path, &out);
  CheckSession(c, session, nullptr, kAloneRules);
  return out;
}

std::vector<Violation> ValidateSessionsInTunnels(const DesiredState& next,
                                                 const std::map<std::string, std::string>& paths) {
  std::vector<Violation> out;
  for (const auto& [name, session] : next.sessions) {
    auto tunnel = next.tunnels.find(session.spec().tunnel());
    if (tunnel == next.tunnels.end()) continue;
    if (auto p = paths.find("session/" + name); p != paths.end()) {
      Checker c(p->second, &out);
      CheckSession(c, session, &tunnel->second.spec(), kTunnelRules);
      continue;
    }
    auto tp = paths.find("tunnel/" + tunnel->first);
    if (tp == paths.end()) continue;  // neither touched: valid before, valid now
    std::vector<Violation> mine;
    Checker c("", &mine);
    CheckSession(c, session, &tunnel->second.spec(), kTunnelRules);
    for (const Violation& v : mine) {
      out.push_back({absl::StrCat(tp->second, ".spec"),
                     absl::StrCat("session ", Quote(name), " of this tunnel does not fit it as changed: ",
                                  v.field.substr(1), ": ", v.reason,
                                  "; apply the session changed to fit in the same request, or delete it")});
    }
  }
  return out;
}

std::string SecretFileError(const std::string& path) {
  auto secret = ReadSecretFile(path);  // as the control plane will read it
  if (secret.ok()) {
    explicit_bzero(secret->data(), secret->size());
    return "";
  }
  return std::string(secret.status().message());
}

std::string PppSecretsFileError(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return absl::StrCat("cannot read the secrets file: ", std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return "the secrets file is not a regular file";
  }
  // Read whole (one byte more than allowed tells "too long"), then wiped:
  // proves it readable without keeping any of it.
  std::string buf(kMaxPppSecretsFileBytes + 1, '\0');
  size_t n = 0;
  int err = 0;
  while (n < buf.size()) {
    const ssize_t r = read(fd, buf.data() + n, buf.size() - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) err = errno;
    if (r <= 0) break;
    n += static_cast<size_t>(r);
  }
  close(fd);
  explicit_bzero(buf.data(), n);
  if (err != 0) return absl::StrCat("cannot read the secrets file: ", std::strerror(err));
  if (n == 0) return "the secrets file is empty";
  if (n > kMaxPppSecretsFileBytes) {
    return absl::StrCat("the secrets file is longer than ", kMaxPppSecretsFileBytes, " bytes (1 MiB)");
  }
  return "";
}

std::vector<Violation> CheckSecretFiles(const v1::ApplyRequest& request) {
  std::vector<Violation> out;
  std::map<std::string, const v1::TunnelSpec*> tunnels;  // the request's, for the sides of its sessions
  for (int i = 0; i < request.tunnels_size(); ++i) {
    const v1::TunnelSpec& s = request.tunnels(i).spec();
    tunnels.emplace(request.tunnels(i).name(), &s);
    if (!IsDynamic(s)) continue;  // ValidateTunnel refuses a secret file there
    const std::string& file = s.control().secret_file();
    if (!IsWellFormedPath(file)) continue;  // ValidateTunnel's to refuse (or none)
    if (auto e = SecretFileError(file); !e.empty()) {
      out.push_back({absl::StrCat("tunnels[", i, "].spec.control.secret_file"), std::move(e)});
    }
  }
  for (int i = 0; i < request.sessions_size(); ++i) {
    const v1::SessionSpec& s = request.sessions(i).spec();
    if (s.pseudowire() != v1::PSEUDOWIRE_PPP) continue;  // validation refuses ppp there
    // A field of the other side is the validation's to refuse, where the
    // request says the side (the tunnel may also be a stored one).
    auto role = v1::TunnelControl::ROLE_UNSPECIFIED;
    if (auto t = tunnels.find(s.tunnel()); t != tunnels.end()) role = t->second->control().role();
    const std::string& password = s.ppp().password_file();
    if (role != v1::TunnelControl::ROLE_RESPONDER && IsWellFormedPath(password)) {
      if (auto e = SecretFileError(password); !e.empty()) {
        out.push_back({absl::StrCat("sessions[", i, "].spec.ppp.password_file"), std::move(e)});
      }
    }
    const std::string& secrets = s.ppp().secrets_file();
    if (role != v1::TunnelControl::ROLE_INITIATOR && IsWellFormedPath(secrets)) {
      if (auto e = PppSecretsFileError(secrets); !e.empty()) {
        out.push_back({absl::StrCat("sessions[", i, "].spec.ppp.secrets_file"), std::move(e)});
      }
    }
  }
  return out;
}

std::vector<Violation> FindUnsupportedPpp(const DesiredState& next, const DesiredState& stored,
                                          const std::map<std::string, std::string>& paths,
                                          std::string_view why) {
  std::vector<Violation> out;
  for (const auto& [name, session] : next.sessions) {
    if (session.spec().pseudowire() != v1::PSEUDOWIRE_PPP) continue;
    auto path = paths.find("session/" + name);
    if (path == paths.end()) continue;
    // Stamp keeps the resource_version of a spec the write leaves as it is.
    auto old = stored.sessions.find(name);
    if (old != stored.sessions.end() && old->second.resource_version() == session.resource_version())
      continue;
    out.push_back({absl::StrCat(path->second, ".spec.pseudowire"),
                   absl::StrCat("PPP pseudowires need a datapath that can carry them: ", std::string(why))});
  }
  return out;
}

std::vector<Violation> FindCollisions(const DesiredState& next,
                                      const std::map<std::string, std::string>& paths) {
  std::vector<Violation> out;
  auto path_of = [&](const std::string& key) -> const std::string* {
    auto it = paths.find(key);
    return it == paths.end() ? nullptr : &it->second;
  };
  // A clash between `a` and `b` is reported on the side the write touched
  // (`b` when both): its path, its name and the other's name.
  struct Side {
    const std::string* path;
    const std::string& self;
    const std::string& other;
  };
  auto touched = [&](const std::string& kind, const std::string& a,
                     const std::string& b) -> std::optional<Side> {
    if (const std::string* pb = path_of(kind + "/" + b)) return Side{pb, b, a};
    if (const std::string* pa = path_of(kind + "/" + a)) return Side{pa, a, b};
    return std::nullopt;
  };
  auto report = [&](const std::string& kind, const std::string& a, const std::string& b,
                    const std::string& field, const std::string& what) {
    if (auto side = touched(kind, a, b)) {
      out.push_back({absl::StrCat(*side->path, ".", field),
                     absl::StrCat(what, " is already used by ", kind, " ", Quote(side->other))});
    }
  };

  std::map<uint32_t, std::string> tunnel_ids;
  std::map<std::string, std::string> endpoints;
  for (const auto& [name, t] : next.tunnels) {
    if (t.spec().tunnel_id() != 0) {  // 0: picked at run time (DYNAMIC)
      auto [it, fresh] = tunnel_ids.emplace(t.spec().tunnel_id(), name);
      if (!fresh)
        report("tunnel", it->second, name, "spec.tunnel_id",
               absl::StrCat("tunnel_id ", t.spec().tunnel_id()));
    }
    if (t.spec().encap() == v1::ENCAPSULATION_IP) continue;
    const std::string key = EndpointKey(t.spec());
    auto [ep_it, ep_fresh] = endpoints.emplace(key, name);
    auto side = ep_fresh ? std::nullopt : touched("tunnel", ep_it->second, name);
    if (side) {  // named both ways: either may be the one to change
      out.push_back(
          {absl::StrCat(*side->path, ".spec.remote"),
           absl::StrCat("tunnel ", Quote(side->self), " has the same endpoints as tunnel ",
                        Quote(side->other), " (", key, "); one of them needs another address or port")});
    }
  }

  std::map<std::pair<std::string, uint32_t>, std::string> in_tunnel;  // (tunnel, sid)
  std::map<uint32_t, std::string> ip_encap_ids;  // IP encap: unique per network namespace
  std::map<std::string, std::string> ifnames;
  std::map<std::pair<std::string, std::string>, std::string> remote_end_ids;  // (tunnel, id)
  struct LnsPrefix {
    std::string session;
    uint32_t calls;  // max_sessions
  };
  std::map<std::string, LnsPrefix> lns_prefixes;  // interface_name of an LNS session
  std::map<std::string, std::string> v2_lns;      // L2TPv2 tunnel -> its LNS session
  for (const auto& [name, s] : next.sessions) {
    const auto& spec = s.spec();
    // session_id 0: picked at run time (DYNAMIC), so it clashes with nothing.
    const bool has_id = spec.session_id() != 0;
    bool fresh = false;
    if (has_id) {
      auto [it, first] = in_tunnel.emplace(std::pair{spec.tunnel(), spec.session_id()}, name);
      fresh = first;
      if (!fresh) {
        report("session", it->second, name, "spec.session_id",
               absl::StrCat("session_id ", spec.session_id(), " in tunnel ", Quote(spec.tunnel())));
      }
    }
    auto tunnel = next.tunnels.find(spec.tunnel());
    if (fresh && tunnel != next.tunnels.end() && tunnel->second.spec().encap() == v1::ENCAPSULATION_IP) {
      auto [ip_it, ip_fresh] = ip_encap_ids.emplace(spec.session_id(), name);
      if (!ip_fresh) {
        report("session", ip_it->second, name, "spec.session_id",
               absl::StrCat("session_id ", spec.session_id(),
                            " (IP-encapsulated sessions share one id space per host)"));
      }
    }
    auto [if_it, if_fresh] = ifnames.emplace(spec.interface_name(), name);
    if (!if_fresh) {
      report("session", if_it->second, name, "spec.interface_name",
             absl::StrCat("interface ", Quote(spec.interface_name())));
    }
    if (!spec.remote_end_id().empty()) {  // names the pseudowire to the peer: one per tunnel
      auto [red_it, red_fresh] = remote_end_ids.emplace(std::pair{spec.tunnel(), spec.remote_end_id()}, name);
      if (!red_fresh) {
        report("session", red_it->second, name, "spec.remote_end_id",
               absl::StrCat("remote_end_id ", Quote(spec.remote_end_id()), " in tunnel ",
                            Quote(spec.tunnel())));
      }
    }
    if (tunnel != next.tunnels.end() && IsPppLns(tunnel->second.spec(), spec)) {
      lns_prefixes.emplace(spec.interface_name(),
                           LnsPrefix{name,
                                     std::clamp<uint32_t>(spec.ppp().max_sessions(), 1, kMaxPppSessions)});
      // An L2TPv2 call carries no Remote End ID to choose between LNS
      // sessions: the tunnel's one takes them all.
      if (IsL2tpv2(tunnel->second.spec())) {
        auto [v2_it, v2_fresh] = v2_lns.emplace(spec.tunnel(), name);
        if (!v2_fresh) {
          report(
              "session", v2_it->second, name, "spec.tunnel",
              absl::StrCat("L2TPv2 RESPONDER tunnel ", Quote(spec.tunnel()),
                           " (its calls name no pseudowire, so one LNS session answers them all; raise its "
                           "ppp.max_sessions instead)"));
        }
      }
    }
  }
  // An LNS session's interface_name is a prefix: its calls take PREFIX1 to
  // PREFIXN. Prefixes never end in a digit, so a name is a call's of at
  // most one prefix: the one left when its trailing digits are cut.
  if (lns_prefixes.empty()) return out;
  for (const auto& [name, s] : next.sessions) {
    const std::string& ifname = s.spec().interface_name();
    const size_t cut = ifname.find_last_not_of("0123456789") + 1;
    if (cut == 0 || cut == ifname.size() || ifname[cut] == '0') continue;
    auto owner = lns_prefixes.find(ifname.substr(0, cut));
    uint32_t call = 0;
    if (owner == lns_prefixes.end() || owner->second.session == name ||
        !absl::SimpleAtoi(ifname.substr(cut), &call) || call > owner->second.calls)
      continue;
    const std::string& lns = owner->second.session;
    if (auto p = paths.find("session/" + name); p != paths.end()) {
      out.push_back({absl::StrCat(p->second, ".spec.interface_name"),
                     absl::StrCat("interface ", Quote(ifname), " is call ", call, "'s of LNS session ",
                                  Quote(lns), ", whose interface_name ", Quote(owner->first),
                                  " is a prefix for its calls (1 to ", owner->second.calls, ")")});
    } else if (auto lp = paths.find("session/" + lns); lp != paths.end()) {
      out.push_back(
          {absl::StrCat(lp->second, ".spec.interface_name"),
           absl::StrCat("the prefix ", Quote(owner->first), " would give call ", call, " the interface ",
                        Quote(ifname), ", which session ", Quote(name), " uses")});
    }
  }
  return out;
}

std::vector<Violation> FindSharedLocalPorts(const DesiredState& next,
                                            const std::map<std::string, std::string>& paths) {
  std::vector<Violation> out;
  std::map<std::string, std::string> ports;  // "ADDRESS port N" -> first tunnel
  for (const auto& [name, t] : next.tunnels) {
    const v1::TunnelSpec& s = t.spec();
    if (s.encap() == v1::ENCAPSULATION_IP) continue;
    const std::string key = absl::StrCat(s.local(), " port ", s.udp_source_port());
    auto [it, fresh] = ports.emplace(key, name);
    if (fresh) continue;
    auto path = paths.find("tunnel/" + name);
    const std::string* other = &it->second;
    if (path == paths.end()) {  // only the first was touched: report it
      path = paths.find("tunnel/" + it->second);
      other = &name;
    }
    if (path == paths.end()) continue;
    out.push_back(
        {absl::StrCat(path->second, ".spec.udp_source_port"),
         absl::StrCat("local ", key, " is already used by tunnel ", Quote(*other),
                      ": this datapath gives every tunnel a UDP socket of its own, so tunnels cannot "
                      "share a local port; give one another udp_source_port (the userspace datapath "
                      "lets tunnels to different remotes share one)")});
  }
  return out;
}

std::vector<DynamicEndpointClash> FindDynamicEndpointClashes(const DesiredState& state) {
  // An SCCRQ (connection id 0) names no tunnel: each DYNAMIC IP one of the pair takes it; STATIC ones don't.
  auto canonical = [](const std::string& text) {
    auto a = IpAddress::Parse(text);
    return a ? a->ToString() : text;
  };
  auto revision = [](const v1::Tunnel& t) {
    uint64_t v = 0;
    return absl::SimpleAtoi(t.resource_version(), &v) ? v : 0;
  };
  std::map<std::string, std::vector<const v1::Tunnel*>> by_endpoints;
  for (const auto& [name, t] : state.tunnels) {
    const v1::TunnelSpec& s = t.spec();
    if (!IsDynamic(s) || s.encap() != v1::ENCAPSULATION_IP) continue;
    by_endpoints[absl::StrCat("IP from ", canonical(s.local()), " to ", canonical(s.remote()))].push_back(&t);
  }
  std::vector<DynamicEndpointClash> out;
  for (auto& [endpoints, tunnels] : by_endpoints) {
    std::sort(tunnels.begin(), tunnels.end(), [&](const v1::Tunnel* a, const v1::Tunnel* b) {
      return std::pair(revision(*a), a->name()) < std::pair(revision(*b), b->name());
    });
    for (size_t i = 1; i < tunnels.size(); ++i)
      out.push_back({tunnels[0]->name(), tunnels[i]->name(), endpoints});
  }
  return out;
}

std::vector<Violation> FindSharedDynamicEndpoints(const DesiredState& next,
                                                  const std::map<std::string, std::string>& paths) {
  std::vector<Violation> out;
  for (const DynamicEndpointClash& c : FindDynamicEndpointClashes(next)) {
    const std::string* self = &c.later;
    const std::string* other = &c.first;
    auto path = paths.find("tunnel/" + c.later);
    if (path == paths.end()) {  // only the first was touched: report it
      path = paths.find("tunnel/" + c.first);
      std::swap(self, other);
    }
    if (path == paths.end()) continue;
    out.push_back({absl::StrCat(path->second, ".spec.remote"),
                   absl::StrCat("tunnel ", Quote(*self), " has the same endpoints as tunnel ", Quote(*other),
                                " (", c.endpoints, ") and both are DYNAMIC: ", kSharedDynamicEndpointsWhy,
                                "; one of them needs another local or remote address")});
  }
  return out;
}

absl::Status ViolationsToStatus(absl::StatusCode code, const std::vector<Violation>& violations) {
  if (violations.empty()) return absl::OkStatus();
  std::vector<std::string> parts;
  for (size_t i = 0; i < violations.size() && i < kMaxListedViolations; ++i) {
    parts.push_back(absl::StrCat(violations[i].field, ": ", violations[i].reason));
  }
  if (violations.size() > kMaxListedViolations) {
    parts.push_back(absl::StrCat("and ", violations.size() - kMaxListedViolations, " more problems"));
  }
  return absl::Status(code, absl::StrJoin(parts, "; "));
}

}  // namespace l2tp
