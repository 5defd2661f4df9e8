#include "datapath/underlay_mtu.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "datapath/encap_overhead.h"

namespace l2tp {
namespace {

// Any port will do for a route lookup; the tunnel's keeps policy routing by
// port honest. 1701 when there is none (IP encapsulation).
constexpr uint16_t kProbePort = 1701;

}  // namespace

uint32_t ConnectedSocketMtu(int fd, int family) {
  int mtu = 0;
  socklen_t len = sizeof mtu;
  const bool v6 = family == AF_INET6;
  if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) < 0 || mtu <= 0) {
    return 0;
  }
  return std::min(static_cast<uint32_t>(mtu), kMaxUnderlayMtu);
}

uint32_t RouteMtu(const TunnelConfig& config) {
  if (config.remote.family != AF_INET && config.remote.family != AF_INET6) return 0;
  const int fd = socket(config.remote.family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return 0;
  const bool udp = config.encap == Encap::kUdp;
  sockaddr_storage local, remote;
  // Bound to the tunnel's address where it still exists, for source routing;
  // unbound otherwise (port 0: the probe takes no port anyone uses).
  if (config.local.family == config.remote.family) {
    const socklen_t local_len = config.local.ToSockaddr(0, &local);
    (void)bind(fd, reinterpret_cast<sockaddr*>(&local), local_len);
  }
  const uint16_t port = udp && config.udp_destination_port != 0 ? config.udp_destination_port : kProbePort;
  const socklen_t remote_len = config.remote.ToSockaddr(port, &remote);
  uint32_t mtu = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&remote), remote_len) == 0) {
    mtu = ConnectedSocketMtu(fd, config.remote.family);
  }
  close(fd);
  return mtu;
}

uint32_t UnderlayMtu(int fd, const TunnelConfig& config) {
  if (fd >= 0) {
    if (uint32_t mtu = ConnectedSocketMtu(fd, config.remote.family); mtu != 0) return mtu;
  }
  return RouteMtu(config);
}

}  // namespace l2tp
