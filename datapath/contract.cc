#include "datapath/contract.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace l2tp {

const std::array<ModifiableSessionField, 5> kModifiableSessionFields = {{
    {"send_sequence", [](const SessionConfig& f, SessionConfig& t) { t.send_sequence = f.send_sequence; }},
    {"require_sequence",
     [](const SessionConfig& f, SessionConfig& t) { t.require_sequence = f.require_sequence; }},
    {"lns_mode", [](const SessionConfig& f, SessionConfig& t) { t.lns_mode = f.lns_mode; }},
    {"reorder_timeout",
     [](const SessionConfig& f, SessionConfig& t) { t.reorder_timeout_ms = f.reorder_timeout_ms; }},
    {"mtu", [](const SessionConfig& f, SessionConfig& t) { t.mtu = f.mtu; }},
}};

bool IsModifiableSessionField(std::string_view api_name) {
  return std::any_of(kModifiableSessionFields.begin(), kModifiableSessionFields.end(),
                     [&](const ModifiableSessionField& f) { return f.api_name == api_name; });
}

const std::string& InPlaceChangeMessage() {
  static const std::string* const kMessage = [] {
    std::string names;
    for (size_t i = 0; i < kModifiableSessionFields.size(); ++i) {
      if (i > 0) names += i + 1 == kModifiableSessionFields.size() ? " and " : ", ";
      names += std::string(kModifiableSessionFields[i].api_name);
    }
    return new std::string(absl::StrCat("only ", names, " change in place"));
  }();
  return *kMessage;
}

bool SessionDiffersOnlyInModifiable(const SessionConfig& a, const SessionConfig& b) {
  SessionConfig x = a;
  for (const auto& f : kModifiableSessionFields) f.copy(b, x);
  return x == b;
}

absl::Status CheckCookieLength(std::string_view which, size_t length) {
  if (length == 0 || length == 4 || length == 8) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(which), " is ", length, " bytes; cookies are 0, 4 or 8 bytes"));
}

namespace {

// L2TPv2 ids are 16 bits on the wire.
absl::Status CheckL2tpV2Id(const std::string& what, const char* field, uint32_t id) {
  if (id <= 0xffff) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": ", field, " ", id, " does not fit L2TPv2's 16 bits (at most 65535)"));
}

}  // namespace

absl::Status CheckTunnelConfig(const TunnelConfig& config) {
  const std::string what = absl::StrCat("tunnel ", config.tunnel_id);
  if (config.version != 2 && config.version != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": version ", config.version, "; L2TP versions are 2 and 3"));
  }
  if (config.tunnel_id == 0 || config.peer_tunnel_id == 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": tunnel ids must be non-zero"));
  }
  if (config.version == 3) return absl::OkStatus();
  // L2TPv2 carries PPP only, whose sessions the control plane sets up: no
  // STATIC tunnels, and RFC 2661 defines no IP encapsulation.
  if (config.socket_fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": L2TPv2 tunnels are managed only (DYNAMIC, on the control plane's socket_fd)"));
  }
  if (config.encap != Encap::kUdp) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": L2TPv2 runs over UDP only"));
  }
  for (auto [field, id] :
       {std::pair{"tunnel_id", config.tunnel_id}, std::pair{"peer_tunnel_id", config.peer_tunnel_id}}) {
    if (auto st = CheckL2tpV2Id(what, field, id); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status CheckSessionConfig(const SessionConfig& config) {
  const std::string what = absl::StrCat("session ", config.tunnel_id, "/", config.session_id);
  if (config.session_id == 0 || config.peer_session_id == 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": session ids must be non-zero"));
  }
  for (auto [which, cookie] :
       {std::pair{"cookie", &config.cookie}, std::pair{"peer_cookie", &config.peer_cookie}}) {
    if (auto st = CheckCookieLength(which, cookie->size()); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", st.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPppSessionConfig(const TunnelConfig& tunnel, const SessionConfig& session) {
  if (auto st = CheckSessionConfig(session); !st.ok()) return st;
  const std::string what = absl::StrCat("session ", session.tunnel_id, "/", session.session_id);
  if (session.tunnel_id != tunnel.tunnel_id) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": opened in tunnel ", tunnel.tunnel_id, ", not its own"));
  }
  if (tunnel.socket_fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what,
                     ": PPP sessions live in managed tunnels (DYNAMIC, with the control plane's socket_fd)"));
  }
  if (tunnel.version != 2) return absl::OkStatus();
  for (auto [field, id] :
       {std::pair{"session_id", session.session_id}, std::pair{"peer_session_id", session.peer_session_id}}) {
    if (auto st = CheckL2tpV2Id(what, field, id); !st.ok()) return st;
  }
  if (!session.cookie.empty() || !session.peer_cookie.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ",
                                                   session.cookie.empty() ? "peer_cookie" : "cookie",
                                                   ": L2TPv2 has no cookies"));
  }
  return absl::OkStatus();
}

absl::Status CheckSessionModify(const SessionConfig& current, const SessionConfig& wanted) {
  if (SessionDiffersOnlyInModifiable(current, wanted)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("session ", wanted.tunnel_id, "/", wanted.session_id, ": ", InPlaceChangeMessage()));
}

}  // namespace l2tp
