// What L2TPv3 encapsulation adds to an Ethernet pseudowire's frames, and the
// interface MTU that fits an underlay: one definition for every backend and
// the agent, so that they size and judge a session's MTU alike (issue 15).
// Pure arithmetic; the underlay's MTU comes from underlay_mtu.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "datapath/datapath.h"

namespace l2tp {

// IPv4's total length is 16 bits: no packet is longer, whatever a device's
// MTU says (loopback's is 65536). An underlay MTU is capped at this.
inline constexpr uint32_t kMaxUnderlayMtu = 65535;
// The underlay Linux's l2tp_eth assumes when its tunnel has no route
// (ETH_DATA_LEN).
inline constexpr uint32_t kFallbackUnderlayMtu = 1500;
// The MTUs an Ethernet interface takes (ETH_MIN_MTU; a TAP refuses less).
inline constexpr uint32_t kMinInterfaceMtu = 68;
inline constexpr uint32_t kMaxInterfaceMtu = 65535;

// The bytes a full-size frame grows by beyond the interface MTU: the outer
// IP header (IPv4 20, IPv6 40); over UDP the UDP header (8) and the
// L2TPv3-over-UDP flags/version word with its reserved half (4); the session
// id (4); the cookie (0, 4 or 8); the default L2-specific sublayer (4, none
// for kNone); and the frame's own Ethernet header (14), which the interface
// MTU does not count. As the kernel's l2tp_eth_adjust_mtu: its UDP header,
// session hdr_len, ETH_HLEN and kernel_sock_ip_overhead.
uint32_t EncapOverhead(bool ipv6, Encap encap, size_t cookie_length, L2Spec l2spec);
// The same for `session` in `tunnel`: the cookie it sends counts.
uint32_t EncapOverhead(const TunnelConfig& tunnel, const SessionConfig& session);

// The interface MTU of a session whose config leaves it unset (0): the
// underlay's MTU (capped at kMaxUnderlayMtu) minus the overhead, so that
// full-size frames just fit. As l2tp_eth, an underlay that is unknown (0) or
// too small to leave kMinInterfaceMtu gives kFallbackUnderlayMtu - overhead.
uint32_t RightSizedMtu(uint32_t underlay_mtu, uint32_t overhead);

// By how many bytes each full-size frame of an interface with MTU `mtu`,
// encapsulated, exceeds `underlay_mtu`: the underlay fragments every such
// frame. 0 when they fit, or when the underlay's MTU is unknown (0).
uint32_t FragmentingBytes(uint32_t mtu, uint32_t overhead, uint32_t underlay_mtu);

}  // namespace l2tp
