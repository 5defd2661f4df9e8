// The underlay socket of a tunnel, as both the userspace datapath and the
// control plane need it: UDP or raw IP protocol 115, bound to the local end
// and connected to the remote, so the kernel filters out every other peer
// and send() needs no address.
#pragma once

#include "absl/status/statusor.h"
#include "datapath/datapath.h"

namespace l2tp {

inline constexpr int kIpProtoL2tp = 115;

// A non-blocking, close-on-exec socket. UDP sockets set SO_REUSEPORT:
// tunnels to different peers may share a local address and port, as on an
// L2TP hub, and the kernel hands a datagram to the connected socket whose
// peer sent it. Returns the fd (the caller closes it).
absl::StatusOr<int> OpenUnderlaySocket(const TunnelConfig& config);

}  // namespace l2tp
