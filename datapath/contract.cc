#include "datapath/contract.h"

#include <algorithm>
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

absl::Status CheckTunnelConfig(const TunnelConfig& config) {
  if (config.version != 3) {
    return absl::InvalidArgumentError(absl::StrCat("tunnel ", config.tunnel_id,
                                                   ": only L2TPv3 is supported (version ", config.version,
                                                   ")"));
  }
  if (config.tunnel_id == 0 || config.peer_tunnel_id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tunnel ", config.tunnel_id, ": tunnel ids must be non-zero"));
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

absl::Status CheckSessionModify(const SessionConfig& current, const SessionConfig& wanted) {
  if (SessionDiffersOnlyInModifiable(current, wanted)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("session ", wanted.tunnel_id, "/", wanted.session_id, ": ", InPlaceChangeMessage()));
}

}  // namespace l2tp
