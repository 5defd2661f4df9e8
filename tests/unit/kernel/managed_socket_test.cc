// The sockets of managed kernel tunnels, on this host's kernel (no L2TP
// needed for UDP): checksum options as an unmanaged tunnel would have them,
// and PrepareManagedSocket's checks. The kernel's side (TUNNEL_CREATE with
// FD, L2TP/IP sockets) is tested in the VM (tests/vm/kernel/).
#include "datapath/kernel/managed_socket.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath/underlay_socket.h"

namespace l2tp::kernel {
namespace {

int Option(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(getsockopt(fd, level, name, &v, &len), 0) << name;
  return v;
}

// Ports are distinct per test: the sockets use SO_REUSEPORT, but a port
// still in use by a test that failed would only confuse.
TunnelConfig Udp(const char* local, const char* remote, uint16_t port) {
  TunnelConfig c;
  c.tunnel_id = 10;
  c.peer_tunnel_id = 20;
  c.local = *IpAddress::Parse(local);
  c.remote = *IpAddress::Parse(remote);
  c.udp_source_port = port;
  c.udp_destination_port = static_cast<uint16_t>(port + 1);
  return c;
}

bool HaveIpv6Loopback() {
  const int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

TEST(ManagedSocket, UdpIpv4WithoutChecksumAsTheKernelsOwnSocket) {
  TunnelConfig c = Udp("127.0.0.1", "127.0.0.1", 41701);
  auto s = OpenKernelManagedSocket(c);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->kernel_l2tp_ip);
  EXPECT_FALSE(s->receives_ipv4_header);
  EXPECT_EQ(Option(s->fd, SOL_SOCKET, SO_NO_CHECK), 1) << "an unmanaged IPv4 tunnel sends no checksum";
  c.socket_fd = s->fd;
  EXPECT_TRUE(PrepareManagedSocket(c).ok());
  close(s->fd);

  c = Udp("127.0.0.1", "127.0.0.1", 41711);
  c.udp_checksum = true;
  s = OpenKernelManagedSocket(c);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(Option(s->fd, SOL_SOCKET, SO_NO_CHECK), 0);
  close(s->fd);
}

TEST(ManagedSocket, UdpIpv6ZeroChecksumOptionsAsAsked) {
  if (!HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  TunnelConfig c = Udp("::1", "::1", 41721);
  c.udp6_zero_checksum_rx = true;
  auto s = OpenKernelManagedSocket(c);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(Option(s->fd, IPPROTO_UDP, UDP_NO_CHECK6_TX), 0);
  EXPECT_EQ(Option(s->fd, IPPROTO_UDP, UDP_NO_CHECK6_RX), 1);
  close(s->fd);
}

TEST(ManagedSocket, PrepareSetsTheChecksumOptionsOfTheConfig) {
  // A socket made elsewhere (the default OpenManagedSocket): checksums on.
  TunnelConfig c = Udp("127.0.0.1", "127.0.0.1", 41731);
  auto fd = OpenUnderlaySocket(c);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(Option(*fd, SOL_SOCKET, SO_NO_CHECK), 0);
  c.socket_fd = *fd;
  ASSERT_TRUE(PrepareManagedSocket(c).ok());
  EXPECT_EQ(Option(*fd, SOL_SOCKET, SO_NO_CHECK), 1);
  close(*fd);
}

TEST(ManagedSocket, PrepareRefusesASocketThatSaysSomethingElse) {
  TunnelConfig c = Udp("127.0.0.1", "127.0.0.1", 41741);
  auto s = OpenKernelManagedSocket(c);
  ASSERT_TRUE(s.ok()) << s.status();

  TunnelConfig other_port = c;
  other_port.socket_fd = s->fd;
  other_port.udp_source_port = 41799;
  absl::Status st = PrepareManagedSocket(other_port);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("bound to 127.0.0.1 port 41741, the tunnel says 127.0.0.1 port 41799"),
            absl::string_view::npos)
      << st;

  TunnelConfig other_peer = c;
  other_peer.socket_fd = s->fd;
  other_peer.udp_destination_port = 9;
  st = PrepareManagedSocket(other_peer);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("connected to 127.0.0.1 port 41742"), absl::string_view::npos) << st;

  TunnelConfig ip = c;  // a UDP socket for an IP tunnel: the kernel wants L2TP/IP
  ip.encap = Encap::kIp;
  ip.socket_fd = s->fd;
  st = PrepareManagedSocket(ip);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("needs a AF_INET SOCK_DGRAM socket of protocol 115 (L2TP/IP)"),
            absl::string_view::npos)
      << st;
  close(s->fd);

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  TunnelConfig not_socket = c;
  not_socket.socket_fd = pipe_fds[0];
  st = PrepareManagedSocket(not_socket);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("not a socket"), absl::string_view::npos) << st;
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  const int unconnected = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  sockaddr_storage local;
  const socklen_t len = c.local.ToSockaddr(41751, &local);
  ASSERT_EQ(bind(unconnected, reinterpret_cast<sockaddr*>(&local), len), 0);
  TunnelConfig loose = c;
  loose.udp_source_port = 41751;
  loose.socket_fd = unconnected;
  st = PrepareManagedSocket(loose);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("not connected"), absl::string_view::npos) << st;
  close(unconnected);
}

TEST(ManagedSocket, IpEncapIsAnL2tpIpSocketOrSaysWhichModuleIsMissing) {
  TunnelConfig c;
  c.tunnel_id = 10;
  c.peer_tunnel_id = 0;  // not known yet: the socket is opened before the peer answers
  c.encap = Encap::kIp;
  c.local = *IpAddress::Parse("127.0.0.1");
  c.remote = *IpAddress::Parse("127.0.0.1");
  auto s = OpenKernelManagedSocket(c);
  if (s.ok()) {  // a kernel with l2tp_ip
    EXPECT_TRUE(s->kernel_l2tp_ip);
    EXPECT_FALSE(s->receives_ipv4_header);
    EXPECT_EQ(Option(s->fd, SOL_SOCKET, SO_PROTOCOL), kIpProtoL2tp);
    EXPECT_EQ(Option(s->fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    close(s->fd);
  } else {  // like this project's CI machines
    EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
    EXPECT_NE(s.status().message().find("module l2tp_ip missing"), absl::string_view::npos) << s.status();
  }
}

TEST(ManagedSocket, MixedFamiliesRefused) {
  TunnelConfig c = Udp("127.0.0.1", "::1", 41761);
  EXPECT_EQ(OpenKernelManagedSocket(c).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace l2tp::kernel
