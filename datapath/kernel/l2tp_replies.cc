#include "datapath/kernel/l2tp_replies.h"

#include <linux/l2tp.h>
#include <netlink/genl/genl.h>

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace l2tp::kernel {
namespace {

// Types as the kernel sends them in replies (not as it accepts them).
struct Policies {
  nla_policy attrs[L2TP_ATTR_MAX + 1] = {};
  nla_policy stats[L2TP_ATTR_STATS_MAX + 1] = {};
  Policies() {
    for (int a : {L2TP_ATTR_CONN_ID, L2TP_ATTR_PEER_CONN_ID, L2TP_ATTR_SESSION_ID, L2TP_ATTR_PEER_SESSION_ID,
                  L2TP_ATTR_DEBUG}) {
      attrs[a].type = NLA_U32;
    }
    for (int a : {L2TP_ATTR_PW_TYPE, L2TP_ATTR_ENCAP_TYPE, L2TP_ATTR_UDP_SPORT, L2TP_ATTR_UDP_DPORT}) {
      attrs[a].type = NLA_U16;
    }
    for (int a : {L2TP_ATTR_PROTO_VERSION, L2TP_ATTR_UDP_CSUM, L2TP_ATTR_RECV_SEQ, L2TP_ATTR_SEND_SEQ,
                  L2TP_ATTR_LNS_MODE, L2TP_ATTR_USING_IPSEC}) {
      attrs[a].type = NLA_U8;
    }
    attrs[L2TP_ATTR_RECV_TIMEOUT].type = NLA_U64;
    attrs[L2TP_ATTR_IFNAME].type = NLA_STRING;
    attrs[L2TP_ATTR_COOKIE].maxlen = 8;
    attrs[L2TP_ATTR_PEER_COOKIE].maxlen = 8;
    attrs[L2TP_ATTR_IP_SADDR].minlen = 4;
    attrs[L2TP_ATTR_IP_DADDR].minlen = 4;
    attrs[L2TP_ATTR_IP6_SADDR].minlen = 16;
    attrs[L2TP_ATTR_IP6_DADDR].minlen = 16;
    attrs[L2TP_ATTR_UDP_ZERO_CSUM6_TX].type = NLA_FLAG;
    attrs[L2TP_ATTR_UDP_ZERO_CSUM6_RX].type = NLA_FLAG;
    attrs[L2TP_ATTR_STATS].type = NLA_NESTED;
    for (int a = L2TP_ATTR_TX_PACKETS; a <= L2TP_ATTR_STATS_MAX; ++a) {
      if (a != L2TP_ATTR_STATS_PAD) stats[a].type = NLA_U64;
    }
  }
};
const Policies& GetPolicies() {
  static const Policies p;
  return p;
}

absl::StatusOr<std::array<nlattr*, L2TP_ATTR_MAX + 1>> ParseAttrs(nlmsghdr* nlh, const char* what) {
  std::array<nlattr*, L2TP_ATTR_MAX + 1> tb{};
  // genlmsg_parse takes a non-const policy pointer in older libnl.
  if (int err = genlmsg_parse(nlh, 0, tb.data(), L2TP_ATTR_MAX, const_cast<nla_policy*>(GetPolicies().attrs));
      err < 0) {
    return absl::DataLossError(
        absl::StrCat("malformed ", what, " reply from the kernel (libnl error ", -err, ")"));
  }
  return tb;
}

uint64_t U64(nlattr* a) { return a ? nla_get_u64(a) : 0; }
bool U8Set(nlattr* a) { return a && nla_get_u8(a) != 0; }

std::vector<uint8_t> Bytes(nlattr* a) {
  if (!a) return {};
  const auto* p = static_cast<const uint8_t*>(nla_data(a));
  return std::vector<uint8_t>(p, p + nla_len(a));
}

IpAddress Address(nlattr* a, int family) {
  IpAddress ip;
  ip.family = family;
  std::memcpy(ip.bytes.data(), nla_data(a), family == AF_INET ? 4 : 16);
  return ip;
}

}  // namespace

absl::StatusOr<Counters> ParseStats(nlattr* stats) {
  Counters c;
  if (stats == nullptr) return c;
  nlattr* tb[L2TP_ATTR_STATS_MAX + 1] = {};
  if (int err = nla_parse_nested(tb, L2TP_ATTR_STATS_MAX, stats,
                                 const_cast<nla_policy*>(GetPolicies().stats));
      err < 0) {
    return absl::DataLossError(
        absl::StrCat("malformed L2TP statistics from the kernel (libnl error ", -err, ")"));
  }
  c.tx_packets = U64(tb[L2TP_ATTR_TX_PACKETS]);
  c.tx_bytes = U64(tb[L2TP_ATTR_TX_BYTES]);
  c.tx_errors = U64(tb[L2TP_ATTR_TX_ERRORS]);
  c.rx_packets = U64(tb[L2TP_ATTR_RX_PACKETS]);
  c.rx_bytes = U64(tb[L2TP_ATTR_RX_BYTES]);
  c.rx_errors = U64(tb[L2TP_ATTR_RX_ERRORS]);
  c.rx_seq_discards = U64(tb[L2TP_ATTR_RX_SEQ_DISCARDS]);
  c.rx_oos_packets = U64(tb[L2TP_ATTR_RX_OOS_PACKETS]);
  c.rx_cookie_discards = U64(tb[L2TP_ATTR_RX_COOKIE_DISCARDS]);
  c.rx_invalid = U64(tb[L2TP_ATTR_RX_INVALID]);
  return c;
}

absl::StatusOr<ObservedTunnel> ParseTunnelReply(nlmsghdr* nlh) {
  auto parsed = ParseAttrs(nlh, "tunnel");
  if (!parsed.ok()) return parsed.status();
  auto& tb = *parsed;
  if (!tb[L2TP_ATTR_CONN_ID]) return absl::DataLossError("tunnel reply without CONN_ID");
  ObservedTunnel t;
  TunnelConfig& c = t.config;
  c.tunnel_id = nla_get_u32(tb[L2TP_ATTR_CONN_ID]);
  if (tb[L2TP_ATTR_PEER_CONN_ID]) c.peer_tunnel_id = nla_get_u32(tb[L2TP_ATTR_PEER_CONN_ID]);
  if (tb[L2TP_ATTR_PROTO_VERSION]) c.version = nla_get_u8(tb[L2TP_ATTR_PROTO_VERSION]);
  const bool udp = !tb[L2TP_ATTR_ENCAP_TYPE] || nla_get_u16(tb[L2TP_ATTR_ENCAP_TYPE]) == L2TP_ENCAPTYPE_UDP;
  c.encap = udp ? Encap::kUdp : Encap::kIp;
  if (tb[L2TP_ATTR_IP6_SADDR] && tb[L2TP_ATTR_IP6_DADDR]) {
    c.local = Address(tb[L2TP_ATTR_IP6_SADDR], AF_INET6);
    c.remote = Address(tb[L2TP_ATTR_IP6_DADDR], AF_INET6);
  } else if (tb[L2TP_ATTR_IP_SADDR] && tb[L2TP_ATTR_IP_DADDR]) {
    c.local = Address(tb[L2TP_ATTR_IP_SADDR], AF_INET);
    c.remote = Address(tb[L2TP_ATTR_IP_DADDR], AF_INET);
  }
  if (udp) {
    if (tb[L2TP_ATTR_UDP_SPORT]) c.udp_source_port = nla_get_u16(tb[L2TP_ATTR_UDP_SPORT]);
    if (tb[L2TP_ATTR_UDP_DPORT]) c.udp_destination_port = nla_get_u16(tb[L2TP_ATTR_UDP_DPORT]);
    // UDP_CSUM is reported for IPv4 only, as a u8 (not the create-time flag).
    c.udp_checksum = c.local.is_v4() && U8Set(tb[L2TP_ATTR_UDP_CSUM]);
    c.udp6_zero_checksum_tx = tb[L2TP_ATTR_UDP_ZERO_CSUM6_TX] != nullptr;
    c.udp6_zero_checksum_rx = tb[L2TP_ATTR_UDP_ZERO_CSUM6_RX] != nullptr;
  }
  auto counters = ParseStats(tb[L2TP_ATTR_STATS]);
  if (!counters.ok()) return counters.status();
  t.counters = *counters;
  return t;
}

namespace {

// A session reply if its pseudowire type (a reply without PW_TYPE counts as
// Ethernet) is Ethernet and `eth`, or PPP and `ppp`; nullopt otherwise.
absl::StatusOr<std::optional<ObservedSession>> ParseSessionOfType(nlmsghdr* nlh, bool eth, bool ppp) {
  auto parsed = ParseAttrs(nlh, "session");
  if (!parsed.ok()) return parsed.status();
  auto& tb = *parsed;
  if (!tb[L2TP_ATTR_CONN_ID] || !tb[L2TP_ATTR_SESSION_ID]) {
    return absl::DataLossError("session reply without CONN_ID or SESSION_ID");
  }
  const uint16_t type = tb[L2TP_ATTR_PW_TYPE] ? nla_get_u16(tb[L2TP_ATTR_PW_TYPE])
                                              : static_cast<uint16_t>(L2TP_PWTYPE_ETH);
  const bool is_eth = type == L2TP_PWTYPE_ETH, is_ppp = type == L2TP_PWTYPE_PPP;
  if (!(is_eth && eth) && !(is_ppp && ppp)) return std::optional<ObservedSession>();
  ObservedSession s;
  s.l2spec_known = false;  // the kernel keeps it but does not report it
  s.mtu_known = false;
  s.ppp = is_ppp;
  SessionConfig& c = s.config;
  c.tunnel_id = nla_get_u32(tb[L2TP_ATTR_CONN_ID]);
  c.session_id = nla_get_u32(tb[L2TP_ATTR_SESSION_ID]);
  if (tb[L2TP_ATTR_PEER_SESSION_ID]) c.peer_session_id = nla_get_u32(tb[L2TP_ATTR_PEER_SESSION_ID]);
  if (tb[L2TP_ATTR_IFNAME] && is_eth) c.interface_name = nla_get_string(tb[L2TP_ATTR_IFNAME]);
  c.cookie = Bytes(tb[L2TP_ATTR_COOKIE]);
  c.peer_cookie = Bytes(tb[L2TP_ATTR_PEER_COOKIE]);
  c.require_sequence = U8Set(tb[L2TP_ATTR_RECV_SEQ]);
  c.send_sequence = U8Set(tb[L2TP_ATTR_SEND_SEQ]);
  c.lns_mode = U8Set(tb[L2TP_ATTR_LNS_MODE]);
  c.reorder_timeout_ms = U64(tb[L2TP_ATTR_RECV_TIMEOUT]);  // absent when 0
  auto counters = ParseStats(tb[L2TP_ATTR_STATS]);
  if (!counters.ok()) return counters.status();
  s.counters = *counters;
  return std::optional<ObservedSession>(std::move(s));
}

}  // namespace

absl::StatusOr<std::optional<ObservedSession>> ParseSessionReply(nlmsghdr* nlh) {
  return ParseSessionOfType(nlh, /*eth=*/true, /*ppp=*/false);
}

absl::StatusOr<std::optional<ObservedSession>> ParsePppSessionReply(nlmsghdr* nlh) {
  return ParseSessionOfType(nlh, /*eth=*/false, /*ppp=*/true);
}

absl::StatusOr<std::optional<ObservedSession>> ParseObservedSessionReply(nlmsghdr* nlh) {
  return ParseSessionOfType(nlh, /*eth=*/true, /*ppp=*/true);
}

}  // namespace l2tp::kernel
