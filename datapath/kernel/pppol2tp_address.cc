#include "datapath/kernel/pppol2tp_address.h"

// glibc's headers first: the uapi ones below then leave out what glibc
// already defines (linux/libc-compat.h).
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
// The kernel's uapi headers, after glibc's.
#include <linux/if_pppox.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace l2tp::kernel {
namespace {

// The kernel's layouts, checked once here (the unit test checks the bytes).
static_assert(sizeof(sockaddr_pppol2tp) == 38);
static_assert(sizeof(sockaddr_pppol2tpin6) == 50);
static_assert(sizeof(sockaddr_pppol2tpv3) == 46);
static_assert(sizeof(sockaddr_pppol2tpv3in6) == 58);
static_assert(sizeof(sockaddr_pppol2tpv3in6) <= sizeof(sockaddr_storage));

sockaddr_in In4(const IpAddress& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  std::memcpy(&a.sin_addr, ip.bytes.data(), 4);
  return a;
}

sockaddr_in6 In6(const IpAddress& ip, uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  std::memcpy(&a.sin6_addr, ip.bytes.data(), 16);
  return a;
}

// Fills the fields every variant shares and copies the struct out.
template <typename Sockaddr, typename Id>
PppoL2tpAddress Fill(const PppoL2tpTarget& t, Sockaddr sa) {
  sa.sa_family = AF_PPPOX;
  sa.sa_protocol = PX_PROTO_OL2TP;
  sa.pppol2tp.pid = 0;  // this process owns the fd
  sa.pppol2tp.fd = t.tunnel_fd;
  sa.pppol2tp.s_tunnel = static_cast<Id>(t.tunnel_id);
  sa.pppol2tp.s_session = static_cast<Id>(t.session_id);
  sa.pppol2tp.d_tunnel = static_cast<Id>(t.peer_tunnel_id);
  sa.pppol2tp.d_session = static_cast<Id>(t.peer_session_id);
  PppoL2tpAddress out;
  std::memcpy(&out.storage, &sa, sizeof sa);
  out.length = sizeof sa;
  return out;
}

}  // namespace

absl::StatusOr<PppoL2tpAddress> BuildPppoL2tpAddress(const PppoL2tpTarget& t) {
  const std::string what = absl::StrCat("PPPoL2TP address for session ", t.tunnel_id, "/", t.session_id);
  if (t.version != 2 && t.version != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": version ", t.version, ": L2TP versions are 2 and 3"));
  }
  if (t.tunnel_fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": tunnel_fd ", t.tunnel_fd, ": the tunnel's socket is needed"));
  }
  if (!t.peer.is_v4() && !t.peer.is_v6()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": peer: neither an IPv4 nor an IPv6 address"));
  }
  const std::pair<const char*, uint32_t> ids[] = {{"tunnel_id", t.tunnel_id},
                                                  {"session_id", t.session_id},
                                                  {"peer_tunnel_id", t.peer_tunnel_id},
                                                  {"peer_session_id", t.peer_session_id}};
  for (const auto& [field, id] : ids) {
    if (id == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": ", field, " must not be 0"));
    if (t.version == 2 && id > 0xffff) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", field, " ", id, " does not fit L2TPv2's 16 bits (at most 65535)"));
    }
  }
  if (t.version == 2) {
    if (t.peer.is_v4()) {
      sockaddr_pppol2tp sa{};
      sa.pppol2tp.addr = In4(t.peer, t.peer_port);
      return Fill<sockaddr_pppol2tp, uint16_t>(t, sa);
    }
    sockaddr_pppol2tpin6 sa{};
    sa.pppol2tp.addr = In6(t.peer, t.peer_port);
    return Fill<sockaddr_pppol2tpin6, uint16_t>(t, sa);
  }
  if (t.peer.is_v4()) {
    sockaddr_pppol2tpv3 sa{};
    sa.pppol2tp.addr = In4(t.peer, t.peer_port);
    return Fill<sockaddr_pppol2tpv3, uint32_t>(t, sa);
  }
  sockaddr_pppol2tpv3in6 sa{};
  sa.pppol2tp.addr = In6(t.peer, t.peer_port);
  return Fill<sockaddr_pppol2tpv3in6, uint32_t>(t, sa);
}

absl::StatusOr<PppoL2tpTarget> PppoL2tpTargetFor(const TunnelConfig& tunnel, const SessionConfig& session) {
  if (tunnel.version == 2 && tunnel.encap != Encap::kUdp) {
    return absl::InvalidArgumentError(
        absl::StrCat("session ", session.tunnel_id, "/", session.session_id, ": L2TPv2 runs over UDP only"));
  }
  if (session.tunnel_id != tunnel.tunnel_id) {
    return absl::InvalidArgumentError(absl::StrCat("session ", session.tunnel_id, "/", session.session_id,
                                                   ": not in tunnel ", tunnel.tunnel_id));
  }
  PppoL2tpTarget t;
  t.version = tunnel.version;
  t.tunnel_fd = tunnel.socket_fd;
  t.peer = tunnel.remote;
  t.peer_port = tunnel.encap == Encap::kUdp ? tunnel.udp_destination_port : 0;
  t.tunnel_id = tunnel.tunnel_id;
  t.peer_tunnel_id = tunnel.peer_tunnel_id;
  t.session_id = session.session_id;
  t.peer_session_id = session.peer_session_id;
  return t;
}

}  // namespace l2tp::kernel
