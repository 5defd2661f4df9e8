// What the control plane counts, summed over every control connection the
// agent has had (connections that went away keep their share). Read by the
// metrics at scrape time; modelled on OpenL2TP's control counters.
#pragma once

#include <array>
#include <cstdint>

namespace l2tp {

struct ControlCounters {
  static constexpr int kMessageTypes = 21;  // RFC 3931 message types 0..20; 0 is a ZLB
  std::array<uint64_t, kMessageTypes> sent{};
  std::array<uint64_t, kMessageTypes> received{};
  uint64_t retransmissions = 0;
  uint64_t auth_failures = 0;    // bad or missing challenge response or message digest
  uint64_t malformed = 0;        // did not decode, or failed the message's AVP checks
  uint64_t illegal = 0;          // a legal message at the wrong moment
  uint64_t out_of_window = 0;    // Ns outside the receive window
  uint64_t unexpected_peer = 0;  // frames for no connection, or SCCRQs over the flood limit
};

}  // namespace l2tp
