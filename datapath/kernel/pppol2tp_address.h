// The address a PPPoL2TP socket is connected with (connect(2) on a
// socket(AF_PPPOX, SOCK_DGRAM, PX_PROTO_OL2TP)): one of the four structs of
// <linux/if_pppox.h>, picked by the tunnel's L2TP version and address family.
// Pure: unit-tested with golden bytes.
//
//   version 2, IPv4: struct sockaddr_pppol2tp       (38 bytes, 16-bit ids)
//   version 2, IPv6: struct sockaddr_pppol2tpin6    (50 bytes, 16-bit ids)
//   version 3, IPv4: struct sockaddr_pppol2tpv3     (46 bytes, 32-bit ids)
//   version 3, IPv6: struct sockaddr_pppol2tpv3in6  (58 bytes, 32-bit ids)
//
// The kernel tells them apart by their length alone (pppol2tp_connect), so
// the length returned is part of the address.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"
#include "datapath/ip_address.h"

namespace l2tp::kernel {

// What the connect address says.
struct PppoL2tpTarget {
  uint32_t version = 2;  // the tunnel's L2TP version: 2 or 3
  // The tunnel's socket (the managed socket of a DYNAMIC tunnel). The kernel
  // reads it only when a connect creates the tunnel (the old L2TPv2-only
  // API, not used here), and reports it back in getsockname().
  int tunnel_fd = -1;
  IpAddress peer;                          // the tunnel's remote address; its family picks the struct
  uint16_t peer_port = 0;                  // host order; 0 over L2TP/IP
  uint32_t tunnel_id = 0, session_id = 0;  // ours ("s_tunnel", "s_session")
  uint32_t peer_tunnel_id = 0, peer_session_id = 0;  // the peer's ("d_tunnel", "d_session")
};

// The bytes and length connect() takes.
struct PppoL2tpAddress {
  sockaddr_storage storage{};  // the struct, zero-padded
  socklen_t length = 0;        // sizeof the struct: how the kernel tells them apart

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(&storage), static_cast<size_t>(length)};
  }
};

// sa_family AF_PPPOX, sa_protocol PX_PROTO_OL2TP, pid 0 (this process), fd,
// the peer's address and port (network order, as in sockaddr_in/in6), the
// ids in host order. INVALID_ARGUMENT naming the field for: a version other
// than 2 or 3, a negative tunnel_fd, a peer that is neither IPv4 nor IPv6,
// an id of 0 (tunnel id 0 is refused by the kernel, session ids 0 and 0 make
// the old API's tunnel management socket), an L2TPv2 id above 65535.
absl::StatusOr<PppoL2tpAddress> BuildPppoL2tpAddress(const PppoL2tpTarget& target);

// The target for `session` in `tunnel` (a managed tunnel: tunnel.socket_fd):
// version, fd, remote address and (UDP) destination port from the tunnel,
// the ids from both. INVALID_ARGUMENT for L2TPv2 over IP (v2 is UDP only).
absl::StatusOr<PppoL2tpTarget> PppoL2tpTargetFor(const TunnelConfig& tunnel, const SessionConfig& session);

}  // namespace l2tp::kernel
