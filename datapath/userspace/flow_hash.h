// Which flow an Ethernet frame belongs to, as a hash: the receive side of a
// spread session (tunnel_handoff.cc) hands each flow to one I/O thread by
// it, so the frames of one flow stay in order while different flows are
// written to the TAP from different threads.
//
// Hashed: the IPv4 or IPv6 source and destination addresses, the protocol,
// and for TCP, UDP, SCTP and UDP-Lite the two ports (IPv4 fragments: the
// addresses and protocol only, since only the first fragment carries the
// ports). One 802.1Q or 802.1ad tag is skipped. Anything else (ARP, other
// ethertypes, truncated headers, IPv6 extension headers before the ports)
// hashes to what its headers allow, down to 0 for a frame that is not IP:
// such frames all go one way, which is correct, just not spread.
#pragma once

#include <cstdint>
#include <span>

namespace l2tp::userspace {

uint32_t InnerFlowHash(std::span<const uint8_t> frame);

}  // namespace l2tp::userspace
