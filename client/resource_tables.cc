#include "client/resource_tables.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/age.h"
#include "client/display_names.h"

namespace v1 = ::l2tpagent::v1;

namespace l2tp::cli {
namespace {

constexpr char kNone[] = "<none>";
constexpr uint32_t kDefaultL2tpPort = 1701;

std::string OrNone(const std::string& s) { return s.empty() ? kNone : s; }

std::string Ports(const v1::TunnelSpec& spec) {
  if (spec.encap() == v1::ENCAPSULATION_IP) return "-";
  auto port = [](uint32_t p) { return p == 0 ? kDefaultL2tpPort : p; };
  return absl::StrCat(port(spec.udp_source_port()), "->", port(spec.udp_destination_port()));
}

std::string OrDash(const std::string& s) { return s.empty() ? std::string("-") : s; }
std::string OrDash(uint32_t id) { return id == 0 ? std::string("-") : absl::StrCat(id); }

// An id the spec sets, or for the control protocol's resources, where the
// spec may leave it 0, the one the agent picked or learned ("-" while not
// known).
std::string Id(uint32_t spec_id, bool uses_control, uint32_t status_id) {
  if (spec_id != 0 || !uses_control) return absl::StrCat(spec_id);
  return OrDash(status_id);
}

// "lns1/4711": the peer's host name and tunnel id, as far as they are known.
std::string Peer(const v1::Tunnel& t) {
  if (!UsesControl(t)) return "-";
  const auto& control = t.status().tunnel_control();
  if (control.peer_host_name().empty() && control.peer_tunnel_id() == 0) return "-";
  return absl::StrCat(OrDash(control.peer_host_name()), "/", OrDash(control.peer_tunnel_id()));
}

// "1.2ms", "850us", "2.3s": three significant digits at most.
std::string RoundTrip(const v1::Tunnel& t) {
  if (!UsesControl(t) || !t.status().tunnel_control().has_hello_round_trip()) return "-";
  const auto& rtt = t.status().tunnel_control().hello_round_trip();
  absl::Duration d = absl::Seconds(rtt.seconds()) + absl::Nanoseconds(rtt.nanos());
  if (d <= absl::ZeroDuration()) return "-";
  absl::Duration unit = d < absl::Milliseconds(1)    ? absl::Microseconds(1)
                        : d < absl::Milliseconds(10) ? absl::Microseconds(100)
                        : d < absl::Seconds(1)       ? absl::Milliseconds(1)
                                                     : absl::Milliseconds(100);
  return absl::FormatDuration(absl::Trunc(d, unit));
}

// What this end sends / what it requires. In a DYNAMIC tunnel the cookie to
// send is learned from the peer when the spec leaves it out.
std::string Cookies(const v1::Session& s) {
  const auto& spec = s.spec();
  std::string send = spec.cookie();
  if (send.empty() && UsesControl(s)) send = s.status().session_control().peer_cookie();
  if (send.empty() && spec.peer_cookie().empty()) return kNone;
  return absl::StrCat(OrDash(send), "/", OrDash(spec.peer_cookie()));
}

std::string Sequencing(const v1::SessionSpec& spec) {
  if (spec.send_sequence() && spec.require_sequence()) return "send,require";
  if (spec.send_sequence()) return "send";
  if (spec.require_sequence()) return "require";
  return kNone;
}

// An empty interface name is derived by the agent; say so instead of blank.
std::string Interface(const v1::SessionSpec& spec) {
  return spec.interface_name().empty() ? "<auto>" : spec.interface_name();
}

bool IsPpp(const v1::Session& s) { return s.spec().pseudowire() == v1::PSEUDOWIRE_PPP; }

// USER: the name the peer authenticated as (LNS), else the one this end
// authenticates as (LAC).
std::string PppUser(const v1::Session& s, const v1::PppCallStatus* call) {
  if (call != nullptr && !call->user().empty()) return call->user();
  return OrDash(s.spec().ppp().user());
}

// ADDRESSES: "10.8.0.1->10.8.0.2", this end's then the peer's.
std::string PppAddresses(const v1::PppCallStatus* call) {
  if (call == nullptr || (call->local_address().empty() && call->peer_address().empty())) return "-";
  return absl::StrCat(OrDash(call->local_address()), "->", OrDash(call->peer_address()));
}

// PPP-PHASE USER ADDRESSES of a session's first call ("-" for a session that
// is not PPP, or has no call yet).
std::vector<std::string> PppColumns(const v1::Session& s) {
  if (!IsPpp(s)) return {"-", "-", "-"};
  const v1::PppCallStatus* call = s.status().ppp_calls().empty() ? nullptr : &s.status().ppp_calls(0);
  return {call != nullptr ? PppPhaseName(call->phase()) : "-", PppUser(s, call), PppAddresses(call)};
}

}  // namespace

Table TunnelTable(const google::protobuf::RepeatedPtrField<v1::Tunnel>& tunnels, bool wide, absl::Time now) {
  // The control protocol's columns only when a tunnel uses it: a listing of
  // STATIC tunnels reads as it always has.
  bool control = std::any_of(tunnels.begin(), tunnels.end(),
                             [](const v1::Tunnel& t) { return UsesControl(t); });
  std::vector<std::string> headers = {"NAME",  "TUNNEL-ID", "PEER-ID", "ENCAP",
                                      "LOCAL", "REMOTE",    "PHASE",   "AGE"};
  if (control) headers.insert(headers.end(), {"CONTROL", "PEER"});
  if (wide) {
    headers.insert(headers.end(), {"PORTS", "GENERATION"});
    if (control) headers.insert(headers.end(), {"ROLE", "HELLO-RTT", "RETRANS"});
    headers.push_back("MESSAGE");
  }
  Table table(std::move(headers));
  for (const auto& t : tunnels) {
    const auto& spec = t.spec();
    const auto& status = t.status().tunnel_control();
    bool dynamic = UsesControl(t);
    std::vector<std::string> row = {t.name(),
                                    Id(spec.tunnel_id(), dynamic, status.tunnel_id()),
                                    Id(spec.peer_tunnel_id(), dynamic, status.peer_tunnel_id()),
                                    EncapName(spec.encap()),
                                    OrNone(spec.local()),
                                    OrNone(spec.remote()),
                                    PhaseName(t.status().phase()),
                                    FormatAgeSince(t.status().last_transition_time(), now)};
    if (control) row.insert(row.end(), {ControlText(t), Peer(t)});
    if (wide) {
      row.insert(row.end(), {Ports(spec), absl::StrCat(t.generation())});
      if (control) {
        row.insert(row.end(), {dynamic ? ControlRoleName(spec.control().role()) : "-", RoundTrip(t),
                               dynamic ? absl::StrCat(status.retransmissions()) : "-"});
      }
      row.push_back(StatusText(t));
    }
    table.AddRow(std::move(row));
  }
  return table;
}

Table SessionTable(const google::protobuf::RepeatedPtrField<v1::Session>& sessions, bool wide,
                   absl::Time now) {
  bool control = std::any_of(sessions.begin(), sessions.end(),
                             [](const v1::Session& s) { return UsesControl(s); });
  // PPP's columns only when a session is PPP: other listings read as before.
  bool ppp = std::any_of(sessions.begin(), sessions.end(), IsPpp);
  std::vector<std::string> headers = {"NAME", "TUNNEL", "SESSION-ID", "PEER-ID", "INTERFACE", "PHASE", "AGE"};
  if (control) headers.push_back("CONTROL");
  if (ppp) headers.insert(headers.end(), {"PPP-PHASE", "USER", "ADDRESSES"});
  if (wide) {
    headers.insert(headers.end(), {"COOKIE", "SUBLAYER", "SEQ", "MTU"});
    if (control) headers.push_back("REMOTE-END-ID");
    headers.push_back("MESSAGE");
  }
  Table table(std::move(headers));
  for (const auto& s : sessions) {
    const auto& spec = s.spec();
    const auto& status = s.status().session_control();
    const auto& calls = s.status().ppp_calls();
    bool dynamic = UsesControl(s);
    // A PPP session's row is its first call's where the call says more.
    const v1::PppCallStatus* first = IsPpp(s) && !calls.empty() ? &calls[0] : nullptr;
    auto learned = [&](uint32_t call_id, uint32_t control_id) {
      return first != nullptr && call_id != 0 ? call_id : control_id;
    };
    std::vector<std::string> row = {
        s.name(),
        OrNone(spec.tunnel()),
        Id(spec.session_id(), dynamic, learned(first ? first->session_id() : 0, status.session_id())),
        Id(spec.peer_session_id(), dynamic,
           learned(first ? first->peer_session_id() : 0, status.peer_session_id())),
        first != nullptr && !first->interface_name().empty() ? first->interface_name() : Interface(spec),
        PhaseName(s.status().phase()),
        FormatAgeSince(s.status().last_transition_time(), now)};
    if (control) row.push_back(ControlText(s));
    if (ppp) {
      auto columns = PppColumns(s);
      row.insert(row.end(), columns.begin(), columns.end());
    }
    if (wide) {
      row.insert(row.end(), {Cookies(s), SublayerName(spec.l2_specific_sublayer()), Sequencing(spec),
                             spec.has_mtu() ? absl::StrCat(spec.mtu()) : std::string("auto")});
      if (control) row.push_back(OrDash(spec.remote_end_id()));
      std::string message = StatusText(s);
      if (first != nullptr && !first->last_failure().empty()) {
        absl::StrAppend(&message, message.empty() ? "" : "; ", "ppp: ", first->last_failure());
      }
      row.push_back(std::move(message));
    }
    table.AddRow(std::move(row));
    // An LNS session's further calls: the call's own values, "-" for the session's.
    for (int i = 1; IsPpp(s) && i < calls.size(); ++i) {
      const v1::PppCallStatus& call = calls[i];
      std::vector<std::string> more = {absl::StrCat(s.name(), "#", i + 1),
                                       OrNone(spec.tunnel()),
                                       OrDash(call.session_id()),
                                       OrDash(call.peer_session_id()),
                                       OrDash(call.interface_name()),
                                       "-",
                                       FormatAgeSince(call.last_transition_time(), now)};
      if (control) more.push_back("-");
      more.insert(more.end(), {PppPhaseName(call.phase()), PppUser(s, &call), PppAddresses(&call)});
      if (wide) {
        more.insert(more.end(), {"-", "-", "-", "-"});
        if (control) more.push_back("-");
        more.push_back(call.last_failure().empty() ? "" : absl::StrCat("ppp: ", call.last_failure()));
      }
      table.AddRow(std::move(more));
    }
  }
  return table;
}

Table CountersTable() {
  return Table({"NAME", "RX-PKTS", "RX-BYTES", "TX-PKTS", "TX-BYTES", "RX-ERR", "TX-ERR", "SEQ-DISCARDS",
                "OOS", "COOKIE-DISCARDS", "INVALID"});
}

void AddCountersRow(const std::string& name, const v1::Counters& c, Table* table) {
  table->AddRow({name, absl::StrCat(c.rx_packets()), absl::StrCat(c.rx_bytes()), absl::StrCat(c.tx_packets()),
                 absl::StrCat(c.tx_bytes()), absl::StrCat(c.rx_errors()), absl::StrCat(c.tx_errors()),
                 absl::StrCat(c.rx_seq_discards()), absl::StrCat(c.rx_oos_packets()),
                 absl::StrCat(c.rx_cookie_discards()), absl::StrCat(c.rx_invalid())});
}

}  // namespace l2tp::cli
