#include "agent/state/validation.h"

#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/state/names.h"
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

void CheckAddress(Checker& c, const char* field, const std::string& text, std::optional<IpAddress>* out) {
  if (text.empty()) {
    c.Fail(field, "required: an IPv4 or IPv6 address");
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

  const uint32_t version = s.version() == 0 ? 3 : s.version();
  if (version == 2) {
    c.Fail("spec.version", "L2TPv2 is reserved for PPP pseudowires and not supported yet; use 3");
  } else if (version != 3) {
    c.Fail("spec.version", absl::StrCat("must be 3, got ", s.version()));
  }
  const uint32_t max_id = version == 2 ? 0xffff : 0xffffffff;
  for (auto [field, value] :
       {std::pair{"spec.tunnel_id", s.tunnel_id()}, std::pair{"spec.peer_tunnel_id", s.peer_tunnel_id()}}) {
    if (value == 0) c.Fail(field, "must be non-zero");
    else if (value > max_id) c.Fail(field, absl::StrCat("must fit in 16 bits for L2TPv2, got ", value));
  }

  if (!v1::Encapsulation_IsValid(s.encap())) {
    c.Fail("spec.encap", absl::StrCat("unknown encapsulation ", s.encap(), "; use UDP or IP"));
  }
  const bool ip_encap = s.encap() == v1::ENCAPSULATION_IP;

  std::optional<IpAddress> local, remote;
  CheckAddress(c, "spec.local", s.local(), &local);
  CheckAddress(c, "spec.remote", s.remote(), &remote);
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
  return out;
}

std::vector<Violation> ValidateSession(const v1::Session& session, std::string_view path) {
  std::vector<Violation> out;
  Checker c(path, &out);
  if (auto e = DnsLabelError(session.name()); !e.empty()) c.Fail("name", e);
  const v1::SessionSpec& s = session.spec();
  if (s.tunnel().empty()) c.Fail("spec.tunnel", "required: the name of the session's tunnel");
  else if (auto e = DnsLabelError(s.tunnel()); !e.empty()) c.Fail("spec.tunnel", e);
  if (s.session_id() == 0) c.Fail("spec.session_id", "must be non-zero (0 marks control messages)");
  if (s.peer_session_id() == 0) c.Fail("spec.peer_session_id", "must be non-zero (0 marks control messages)");

  if (s.pseudowire() == v1::PSEUDOWIRE_PPP) {
    c.Fail("spec.pseudowire", "PPP pseudowires are reserved for L2TPv2 and not supported yet; use ETH");
  } else if (!v1::Pseudowire_IsValid(s.pseudowire())) {
    c.Fail("spec.pseudowire", absl::StrCat("unknown pseudowire type ", s.pseudowire(), "; use ETH"));
  }
  if (!s.interface_name().empty()) {
    if (auto e = InterfaceNameError(s.interface_name()); !e.empty()) c.Fail("spec.interface_name", e);
  }
  for (auto [field, value] :
       {std::pair{"spec.cookie", &s.cookie()}, std::pair{"spec.peer_cookie", &s.peer_cookie()}}) {
    std::string error;
    if (!ParseCookie(*value, &error)) c.Fail(field, error);
  }
  if (!v1::L2SpecificSublayer_IsValid(s.l2_specific_sublayer())) {
    c.Fail("spec.l2_specific_sublayer",
           absl::StrCat("unknown sublayer ", s.l2_specific_sublayer(), "; use NONE or DEFAULT"));
  }
  CheckSequencing(c, s);
  if (s.has_reorder_timeout()) CheckReorderTimeout(c, s.reorder_timeout());
  if (s.has_mtu() && (s.mtu() < 68 || s.mtu() > 65535)) {
    c.Fail("spec.mtu", absl::StrCat("must be between 68 and 65535, got ", s.mtu()));
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
    auto [it, fresh] = tunnel_ids.emplace(t.spec().tunnel_id(), name);
    if (!fresh)
      report("tunnel", it->second, name, "spec.tunnel_id", absl::StrCat("tunnel_id ", t.spec().tunnel_id()));
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
  for (const auto& [name, s] : next.sessions) {
    const auto& spec = s.spec();
    auto [it, fresh] = in_tunnel.emplace(std::pair{spec.tunnel(), spec.session_id()}, name);
    if (!fresh) {
      report("session", it->second, name, "spec.session_id",
             absl::StrCat("session_id ", spec.session_id(), " in tunnel ", Quote(spec.tunnel())));
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
