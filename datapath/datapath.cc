#include "datapath/datapath.h"

#include <tuple>

namespace l2tp {

namespace {
auto Fields(const TunnelConfig& c) {  // all but socket_fd
  return std::tie(c.tunnel_id, c.peer_tunnel_id, c.version, c.encap, c.local, c.remote, c.udp_source_port,
                  c.udp_destination_port, c.udp_checksum, c.udp6_zero_checksum_tx, c.udp6_zero_checksum_rx);
}
}  // namespace

bool operator==(const TunnelConfig& a, const TunnelConfig& b) { return Fields(a) == Fields(b); }

Counters& Counters::operator+=(const Counters& o) {
  tx_packets += o.tx_packets;
  tx_bytes += o.tx_bytes;
  tx_errors += o.tx_errors;
  rx_packets += o.rx_packets;
  rx_bytes += o.rx_bytes;
  rx_errors += o.rx_errors;
  rx_seq_discards += o.rx_seq_discards;
  rx_oos_packets += o.rx_oos_packets;
  rx_cookie_discards += o.rx_cookie_discards;
  rx_invalid += o.rx_invalid;
  return *this;
}

}  // namespace l2tp
