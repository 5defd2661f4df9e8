#include "datapath/datapath.h"

namespace l2tp {

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
