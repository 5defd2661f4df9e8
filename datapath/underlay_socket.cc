#include "datapath/underlay_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace l2tp {

absl::StatusOr<int> OpenUnderlaySocket(const TunnelConfig& c) {
  if (c.local.family != c.remote.family || (!c.local.is_v4() && !c.local.is_v6())) {
    return absl::InvalidArgumentError("local and remote must both be IPv4 or both IPv6");
  }
  const bool udp = c.encap == Encap::kUdp;
  const int fd = udp ? socket(c.local.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP)
                     : socket(c.local.family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kIpProtoL2tp);
  if (fd < 0) return absl::ErrnoToStatus(errno, "tunnel socket");
  auto fail = [fd](const std::string& what) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, what);
  };
  int one = 1;
  if (udp && c.local.is_v6() && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) {
    return fail("setsockopt IPV6_V6ONLY");
  }
  if (udp && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    return fail("setsockopt SO_REUSEPORT");
  }
  sockaddr_storage local, remote;
  const socklen_t local_len = c.local.ToSockaddr(udp ? c.udp_source_port : 0, &local);
  const socklen_t remote_len = c.remote.ToSockaddr(udp ? c.udp_destination_port : 0, &remote);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), local_len) < 0) {
    return fail(absl::StrCat("bind ", c.local.ToString()));
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&remote), remote_len) < 0) {
    return fail(absl::StrCat("connect ", c.remote.ToString()));
  }
  return fd;
}

absl::StatusOr<ManagedSocket> Datapath::OpenManagedSocket(const TunnelConfig& config) {
  auto fd = OpenUnderlaySocket(config);
  if (!fd.ok()) return fd.status();
  return ManagedSocket{*fd, config.encap == Encap::kIp && config.local.is_v4()};
}

}  // namespace l2tp
