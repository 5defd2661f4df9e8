#include "agent/reconcile/datapath_config.h"

#include "agent/state/names.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {
std::vector<uint8_t> CookieBytes(const std::string& hex) {
  std::string error;
  auto bytes = ParseCookie(hex, &error);
  return bytes ? *bytes : std::vector<uint8_t>{};
}
}  // namespace

TunnelConfig ToTunnelConfig(const v1::TunnelSpec& spec) {
  TunnelConfig c;
  c.tunnel_id = spec.tunnel_id();
  c.peer_tunnel_id = spec.peer_tunnel_id();
  c.version = spec.version();
  c.encap = spec.encap() == v1::ENCAPSULATION_IP ? Encap::kIp : Encap::kUdp;
  c.local = IpAddress::Parse(spec.local()).value_or(IpAddress{});
  c.remote = IpAddress::Parse(spec.remote()).value_or(IpAddress{});
  if (c.encap == Encap::kUdp) {
    c.udp_source_port = static_cast<uint16_t>(spec.udp_source_port());
    c.udp_destination_port = static_cast<uint16_t>(spec.udp_destination_port());
    c.udp_checksum = spec.udp_checksum();
    c.udp6_zero_checksum_tx = spec.udp6_zero_checksum_tx();
    c.udp6_zero_checksum_rx = spec.udp6_zero_checksum_rx();
  }
  return c;
}

SessionConfig ToSessionConfig(const v1::TunnelSpec& tunnel, const v1::SessionSpec& session) {
  SessionConfig c;
  c.tunnel_id = tunnel.tunnel_id();
  c.session_id = session.session_id();
  c.peer_session_id = session.peer_session_id();
  c.interface_name = session.interface_name();
  c.cookie = CookieBytes(session.cookie());
  c.peer_cookie = CookieBytes(session.peer_cookie());
  c.l2spec = session.l2_specific_sublayer() == v1::L2_SPECIFIC_SUBLAYER_NONE ? L2Spec::kNone
                                                                             : L2Spec::kDefault;
  c.send_sequence = session.send_sequence();
  c.require_sequence = session.require_sequence();
  c.lns_mode = session.lns_mode();
  c.reorder_timeout_ms = static_cast<uint64_t>(session.reorder_timeout().seconds()) * 1000 +
                         session.reorder_timeout().nanos() / 1000000;
  c.mtu = session.has_mtu() ? session.mtu() : 0;  // 0: the datapath right-sizes it (encap_overhead.h)
  return c;
}

v1::Counters ToProtoCounters(const Counters& c) {
  v1::Counters p;
  p.set_tx_packets(c.tx_packets);
  p.set_tx_bytes(c.tx_bytes);
  p.set_tx_errors(c.tx_errors);
  p.set_rx_packets(c.rx_packets);
  p.set_rx_bytes(c.rx_bytes);
  p.set_rx_errors(c.rx_errors);
  p.set_rx_seq_discards(c.rx_seq_discards);
  p.set_rx_oos_packets(c.rx_oos_packets);
  p.set_rx_cookie_discards(c.rx_cookie_discards);
  p.set_rx_invalid(c.rx_invalid);
  return p;
}

}  // namespace l2tp
