#include "client/resource_tables.h"

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

std::string Cookies(const v1::SessionSpec& spec) {
  if (spec.cookie().empty() && spec.peer_cookie().empty()) return kNone;
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  return absl::StrCat(or_dash(spec.cookie()), "/", or_dash(spec.peer_cookie()));
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

}  // namespace

Table TunnelTable(const google::protobuf::RepeatedPtrField<v1::Tunnel>& tunnels, bool wide, absl::Time now) {
  std::vector<std::string> headers = {"NAME",  "TUNNEL-ID", "PEER-ID", "ENCAP",
                                      "LOCAL", "REMOTE",    "PHASE",   "AGE"};
  if (wide) headers.insert(headers.end(), {"PORTS", "GENERATION", "MESSAGE"});
  Table table(std::move(headers));
  for (const auto& t : tunnels) {
    const auto& spec = t.spec();
    std::vector<std::string> row = {t.name(),
                                    absl::StrCat(spec.tunnel_id()),
                                    absl::StrCat(spec.peer_tunnel_id()),
                                    EncapName(spec.encap()),
                                    OrNone(spec.local()),
                                    OrNone(spec.remote()),
                                    PhaseName(t.status().phase()),
                                    FormatAgeSince(t.status().last_transition_time(), now)};
    if (wide) {
      row.insert(row.end(), {Ports(spec), absl::StrCat(t.generation()), t.status().message()});
    }
    table.AddRow(std::move(row));
  }
  return table;
}

Table SessionTable(const google::protobuf::RepeatedPtrField<v1::Session>& sessions, bool wide,
                   absl::Time now) {
  std::vector<std::string> headers = {"NAME", "TUNNEL", "SESSION-ID", "PEER-ID", "INTERFACE", "PHASE", "AGE"};
  if (wide) headers.insert(headers.end(), {"COOKIE", "SUBLAYER", "SEQ", "MTU", "MESSAGE"});
  Table table(std::move(headers));
  for (const auto& s : sessions) {
    const auto& spec = s.spec();
    std::vector<std::string> row = {s.name(),
                                    OrNone(spec.tunnel()),
                                    absl::StrCat(spec.session_id()),
                                    absl::StrCat(spec.peer_session_id()),
                                    Interface(spec),
                                    PhaseName(s.status().phase()),
                                    FormatAgeSince(s.status().last_transition_time(), now)};
    if (wide) {
      row.insert(row.end(),
                 {Cookies(spec), SublayerName(spec.l2_specific_sublayer()), Sequencing(spec),
                  spec.has_mtu() ? absl::StrCat(spec.mtu()) : std::string("auto"), s.status().message()});
    }
    table.AddRow(std::move(row));
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
