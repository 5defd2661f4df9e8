// The underlay's MTU towards a tunnel's remote: the size at which the kernel
// fragments the tunnel's packets. Backends size sessions whose MTU is unset
// from it and report it, so that an MTU that does not fit can be told
// (encap_overhead.h). Every function answers 0 for "unknown" rather than
// failing: a missing route makes no session fail, it only leaves the
// 1500-byte assumption (RightSizedMtu) in place.
#pragma once

#include <cstdint>

#include "datapath/datapath.h"

namespace l2tp {

// The path MTU of a connected socket of `family` (getsockopt IP_MTU or
// IPV6_MTU: the MTU of its route, which is its device's unless the route
// sets one, or less where the kernel learnt a smaller path MTU), at most
// kMaxUnderlayMtu. 0 when the socket has no route (ENOTCONN).
uint32_t ConnectedSocketMtu(int fd, int family);

// The MTU of the route from config.local to config.remote, read from a
// fresh UDP socket bound and connected the same way (connect only looks the
// route up; nothing is sent). 0 when there is no route.
uint32_t RouteMtu(const TunnelConfig& config);

// The tunnel socket's path MTU when it has one (fd >= 0), else the route's.
uint32_t UnderlayMtu(int fd, const TunnelConfig& config);

}  // namespace l2tp
