// The sockets of managed kernel tunnels (TunnelConfig::socket_fd): made for
// the control plane (KernelDatapath::OpenManagedSocket), then handed to the
// kernel with L2TP_ATTR_FD. The kernel reports a managed tunnel's addresses,
// ports and checksum settings from its socket, so the socket must say what
// the tunnel's config says, or Observe would see a different tunnel.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datapath/datapath.h"

namespace l2tp::kernel {

// A non-blocking, close-on-exec socket for `config`, bound to its local end
// and connected to its remote (the caller closes it):
//  - UDP: the underlay socket every backend uses (OpenUnderlaySocket), with
//    the checksum options the kernel gives its own socket for the same
//    config (ApplyUdpChecksumOptions);
//  - IP: the kernel's L2TP/IP socket (SOCK_DGRAM, IPPROTO_L2TP), bound to
//    {local, connection id config.tunnel_id} and connected to {remote,
//    config.peer_tunnel_id} (0 while the peer's id is unknown). The kernel
//    strips the zero session id of the control frames it delivers and adds
//    it to those sent (ManagedSocket::kernel_l2tp_ip), and delivers only
//    control frames addressed to this tunnel id (not SCCRQs: SccrqListener).
absl::StatusOr<ManagedSocket> OpenKernelManagedSocket(const TunnelConfig& config);

// UDP checksums as an unmanaged tunnel of the same config has them: over
// IPv4 none unless config.udp_checksum (SO_NO_CHECK), over IPv6 zero
// checksums sent/accepted as config.udp6_zero_checksum_tx/rx say
// (UDP_NO_CHECK6_TX/RX). Nothing to do for IP encapsulation.
absl::Status ApplyUdpChecksumOptions(int fd, const TunnelConfig& config);

// Before TUNNEL_CREATE with config.socket_fd: the socket is of the kind the
// kernel takes for config.encap (else EPROTONOSUPPORT) and bound to
// config.local (and the source port, or connection id config.tunnel_id) and
// connected to config.remote (and the destination port), so the tunnel is
// observed as `config`; its checksum options are set to match. INVALID_ARGUMENT
// says what differs.
absl::Status PrepareManagedSocket(const TunnelConfig& config);

}  // namespace l2tp::kernel
