// IPv4 addresses as pppd takes them (dotted quads) and as the pool counts
// them (host-order integers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace l2tp::ppp {

// "10.0.0.1" -> 0x0a000001; nullopt for anything but four decimal octets
// (inet_pton's rules: no leading zeros, no shorthand).
std::optional<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t address);

// Why `address` cannot be one end of a PPP link, or "" when it can: pppd
// refuses 0.0.0.0/8, loopback, multicast and the reserved 240.0.0.0/4 (and
// the broadcast address in it) as an end's address.
std::string_view UnusableLinkAddress(uint32_t address);

// `text` as one end of a PPP link: an IPv4 address UnusableLinkAddress
// accepts. The error names `field`.
absl::Status CheckLinkAddress(std::string_view field, std::string_view text);

}  // namespace l2tp::ppp
