#include "datapath/kernel/managed_socket.h"

#include <linux/l2tp.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "datapath/underlay_socket.h"

namespace l2tp::kernel {
namespace {

absl::Status Errno(int err, const std::string& what) { return absl::ErrnoToStatus(err, what); }

// sockaddr_l2tpip / sockaddr_l2tpip6 for `ip` and connection id `conn_id`.
socklen_t L2tpIpSockaddr(const IpAddress& ip, uint32_t conn_id, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  if (ip.is_v4()) {
    auto* a = reinterpret_cast<sockaddr_l2tpip*>(out);
    a->l2tp_family = AF_INET;
    std::memcpy(&a->l2tp_addr, ip.bytes.data(), 4);
    a->l2tp_conn_id = conn_id;  // host order, as the kernel compares it
    return sizeof(sockaddr_l2tpip);
  }
  auto* a = reinterpret_cast<sockaddr_l2tpip6*>(out);
  a->l2tp_family = AF_INET6;
  std::memcpy(&a->l2tp_addr, ip.bytes.data(), 16);
  a->l2tp_conn_id = conn_id;
  return sizeof(sockaddr_l2tpip6);
}

// What getsockname/getpeername said: address, UDP port, L2TP/IP connection id.
struct End {
  IpAddress ip;
  uint16_t port = 0;
  uint32_t conn_id = 0;
};

End EndOf(const sockaddr_storage& ss, bool l2tp_ip) {
  End e;
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    e.ip.family = AF_INET;
    std::memcpy(e.ip.bytes.data(), &in.sin_addr, 4);
    e.port = ntohs(in.sin_port);
    if (l2tp_ip) e.conn_id = reinterpret_cast<const sockaddr_l2tpip&>(ss).l2tp_conn_id;
  } else if (ss.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    e.ip.family = AF_INET6;
    std::memcpy(e.ip.bytes.data(), &in6.sin6_addr, 16);
    e.port = ntohs(in6.sin6_port);
    if (l2tp_ip) e.conn_id = reinterpret_cast<const sockaddr_l2tpip6&>(ss).l2tp_conn_id;
  }
  return e;
}

int IntOption(int fd, int level, int name, int* value) {
  socklen_t len = sizeof *value;
  return getsockopt(fd, level, name, value, &len);
}

absl::StatusOr<int> OpenL2tpIpSocket(const TunnelConfig& c) {
  const std::string what = absl::StrCat("tunnel ", c.tunnel_id, ": L2TP/IP socket");
  const int fd = socket(c.local.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, kIpProtoL2tp);
  if (fd < 0) {
    const int err = errno;
    if (err == EPROTONOSUPPORT || err == ESOCKTNOSUPPORT) {
      return absl::FailedPreconditionError(absl::StrCat(what, ": not supported by this kernel (module ",
                                                        c.local.is_v4() ? "l2tp_ip" : "l2tp_ip6",
                                                        " missing): ", std::strerror(err)));
    }
    return Errno(err, what);
  }
  auto fail = [fd](const std::string& step) {
    const int err = errno;
    close(fd);
    return Errno(err, step);
  };
  sockaddr_storage local, remote;
  const socklen_t local_len = L2tpIpSockaddr(c.local, c.tunnel_id, &local);
  const socklen_t remote_len = L2tpIpSockaddr(c.remote, c.peer_tunnel_id, &remote);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), local_len) < 0) {
    return fail(absl::StrCat(what, ": bind ", c.local.ToString(), " connection id ", c.tunnel_id));
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&remote), remote_len) < 0) {
    return fail(absl::StrCat(what, ": connect ", c.remote.ToString()));
  }
  return fd;
}

}  // namespace

absl::Status ApplyUdpChecksumOptions(int fd, const TunnelConfig& c) {
  if (c.encap != Encap::kUdp) return absl::OkStatus();
  const std::string what = absl::StrCat("tunnel ", c.tunnel_id, ": setsockopt ");
  if (c.local.is_v4()) {
    const int no_check = c.udp_checksum ? 0 : 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &no_check, sizeof no_check) < 0) {
      return Errno(errno, what + "SO_NO_CHECK");
    }
    return absl::OkStatus();
  }
  const int tx = c.udp6_zero_checksum_tx ? 1 : 0, rx = c.udp6_zero_checksum_rx ? 1 : 0;
  if (setsockopt(fd, IPPROTO_UDP, UDP_NO_CHECK6_TX, &tx, sizeof tx) < 0) {
    return Errno(errno, what + "UDP_NO_CHECK6_TX");
  }
  if (setsockopt(fd, IPPROTO_UDP, UDP_NO_CHECK6_RX, &rx, sizeof rx) < 0) {
    return Errno(errno, what + "UDP_NO_CHECK6_RX");
  }
  return absl::OkStatus();
}

absl::StatusOr<ManagedSocket> OpenKernelManagedSocket(const TunnelConfig& c) {
  if (c.local.family != c.remote.family || (!c.local.is_v4() && !c.local.is_v6())) {
    return absl::InvalidArgumentError("local and remote must both be IPv4 or both IPv6");
  }
  if (c.encap == Encap::kIp) {
    auto fd = OpenL2tpIpSocket(c);
    if (!fd.ok()) return fd.status();
    ManagedSocket s;
    s.fd = *fd;
    s.kernel_l2tp_ip = true;
    return s;
  }
  auto fd = OpenUnderlaySocket(c);
  if (!fd.ok()) return fd.status();
  if (auto st = ApplyUdpChecksumOptions(*fd, c); !st.ok()) {
    close(*fd);
    return st;
  }
  ManagedSocket s;
  s.fd = *fd;
  return s;
}

absl::Status PrepareManagedSocket(const TunnelConfig& c) {
  const int fd = c.socket_fd;
  const bool udp = c.encap == Encap::kUdp;
  const std::string what = absl::StrCat("create tunnel ", c.tunnel_id, ": socket ", fd);
  int domain = 0, type = 0, protocol = 0;
  if (IntOption(fd, SOL_SOCKET, SO_DOMAIN, &domain) < 0 || IntOption(fd, SOL_SOCKET, SO_TYPE, &type) < 0 ||
      IntOption(fd, SOL_SOCKET, SO_PROTOCOL, &protocol) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not a socket (", std::strerror(errno), ")"));
  }
  const int want_protocol = udp ? IPPROTO_UDP : kIpProtoL2tp;
  if (domain != c.local.family || type != SOCK_DGRAM || protocol != want_protocol) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": a managed ", udp ? "UDP" : "IP", " tunnel needs a ",
                     c.local.is_v4() ? "AF_INET" : "AF_INET6", " SOCK_DGRAM socket of protocol ",
                     want_protocol, " (", udp ? "UDP" : "L2TP/IP", "); this one has domain ", domain,
                     ", type ", type, ", protocol ", protocol));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return Errno(errno, absl::StrCat(what, ": getsockname"));
  }
  const End local = EndOf(ss, !udp);
  if (!(local.ip == c.local) || (udp && local.port != c.udp_source_port) ||
      (!udp && local.conn_id != c.tunnel_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": bound to ", local.ip.ToString(), udp ? " port " : " connection id ",
                     udp ? local.port : local.conn_id, ", the tunnel says ", c.local.ToString(),
                     udp ? " port " : " connection id ", udp ? c.udp_source_port : c.tunnel_id));
  }
  ss = {};
  len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    // L2TP/IP sockets have no port, and the kernel's getpeername says
    // ENOTCONN for them even when connected: then the peer is not checked
    // here (the kernel reports the connected address either way).
    if (udp || errno != ENOTCONN) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": not connected (", std::strerror(errno), ")"));
    }
  } else {
    const End remote = EndOf(ss, !udp);
    if (!(remote.ip == c.remote) || (udp && remote.port != c.udp_destination_port)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": connected to ", remote.ip.ToString(),
                       udp ? absl::StrCat(" port ", remote.port) : "", ", the tunnel says ",
                       c.remote.ToString(), udp ? absl::StrCat(" port ", c.udp_destination_port) : ""));
    }
  }
  return ApplyUdpChecksumOptions(fd, c);
}

}  // namespace l2tp::kernel
