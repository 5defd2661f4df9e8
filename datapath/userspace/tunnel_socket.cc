#include "datapath/userspace/tunnel_socket.h"

#include <netinet/in.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "datapath/underlay_socket.h"

namespace l2tp::userspace {
namespace {

#ifndef UDP_NO_CHECK6_TX
#define UDP_NO_CHECK6_TX 101
#endif
#ifndef UDP_NO_CHECK6_RX
#define UDP_NO_CHECK6_RX 102
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

constexpr int kSocketBuffer = 4 << 20;

absl::Status SetInt(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setsockopt ", what));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TunnelSocket> TunnelSocket::Open(const TunnelConfig& c) {
  auto fd = OpenUnderlaySocket(c);
  if (!fd.ok()) return fd.status();
  return Configure(c, *fd);
}

absl::StatusOr<TunnelSocket> TunnelSocket::Adopt(const TunnelConfig& c) {
  const int fd = fcntl(c.socket_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "duplicating the managed tunnel socket");
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, "making the managed tunnel socket non-blocking");
  }
  return Configure(c, fd);
}

absl::StatusOr<TunnelSocket> TunnelSocket::Configure(const TunnelConfig& c, int fd) {
  const int family = c.local.family;
  const bool udp = c.encap == Encap::kUdp;
  TunnelSocket s;
  s.fd_ = fd;  // closed by ~TunnelSocket on every error below
  s.receives_ip_header_ = !udp && family == AF_INET;
  s.family_ = family;
  s.no_check_tx_ = udp && (family == AF_INET ? !c.udp_checksum : c.udp6_zero_checksum_tx);

  if (udp && family == AF_INET) {
    // Linux default for L2TP: no IPv4 UDP checksum unless asked for.
    if (auto st = SetInt(s.fd_, SOL_SOCKET, SO_NO_CHECK, c.udp_checksum ? 0 : 1, "SO_NO_CHECK"); !st.ok()) {
      return st;
    }
  }
  if (udp && family == AF_INET6) {
    if (auto st = SetInt(s.fd_, IPPROTO_UDP, UDP_NO_CHECK6_TX, c.udp6_zero_checksum_tx, "UDP_NO_CHECK6_TX");
        !st.ok()) {
      return st;
    }
    if (auto st = SetInt(s.fd_, IPPROTO_UDP, UDP_NO_CHECK6_RX, c.udp6_zero_checksum_rx, "UDP_NO_CHECK6_RX");
        !st.ok()) {
      return st;
    }
  }
  // Like the kernel's L2TP (skb->ignore_df): fragment rather than refuse
  // packets larger than the path MTU.
  if (family == AF_INET) {
    SetInt(s.fd_, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT, "IP_MTU_DISCOVER").IgnoreError();
  } else {
    SetInt(s.fd_, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT, "IPV6_MTU_DISCOVER").IgnoreError();
  }
  if (udp) {
    s.gro_ = SetInt(s.fd_, IPPROTO_UDP, UDP_GRO, 1, "UDP_GRO").ok();
    s.gso_ = true;  // probed by the first SendGso
  }
  // Large buffers absorb bursts between I/O thread wake-ups. The *FORCE
  // variants pass net.core.[rw]mem_max (we hold CAP_NET_ADMIN anyway).
  if (!SetInt(s.fd_, SOL_SOCKET, SO_RCVBUFFORCE, kSocketBuffer, "SO_RCVBUFFORCE").ok()) {
    SetInt(s.fd_, SOL_SOCKET, SO_RCVBUF, kSocketBuffer, "SO_RCVBUF").IgnoreError();
  }
  if (!SetInt(s.fd_, SOL_SOCKET, SO_SNDBUFFORCE, kSocketBuffer, "SO_SNDBUFFORCE").ok()) {
    SetInt(s.fd_, SOL_SOCKET, SO_SNDBUF, kSocketBuffer, "SO_SNDBUF").IgnoreError();
  }
  return s;
}

TunnelSocket::TunnelSocket(TunnelSocket&& o) noexcept { *this = std::move(o); }

TunnelSocket& TunnelSocket::operator=(TunnelSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    receives_ip_header_ = o.receives_ip_header_;
    gro_ = o.gro_;
    gso_ = o.gso_;
    no_check_tx_ = o.no_check_tx_;
    checksum_forced_ = o.checksum_forced_;
    family_ = o.family_;
  }
  return *this;
}

bool TunnelSocket::SetNoCheckTx(bool on) {
  int v = on ? 1 : 0;
  return family_ == AF_INET ? setsockopt(fd_, SOL_SOCKET, SO_NO_CHECK, &v, sizeof v) == 0
                            : setsockopt(fd_, IPPROTO_UDP, UDP_NO_CHECK6_TX, &v, sizeof v) == 0;
}

bool TunnelSocket::SendGso(std::span<const iovec> iov, uint16_t segment_size) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))] = {};
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov.data());  // sendmsg only reads them
  msg.msg_iovlen = iov.size();
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = IPPROTO_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  std::memcpy(CMSG_DATA(cm), &segment_size, sizeof segment_size);

  if (no_check_tx_ && !checksum_forced_) checksum_forced_ = SetNoCheckTx(false);
  return sendmsg(fd_, &msg, MSG_DONTWAIT) >= 0;
}

TunnelSocket::~TunnelSocket() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace l2tp::userspace
