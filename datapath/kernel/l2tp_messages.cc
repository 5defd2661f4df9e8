#include "datapath/kernel/l2tp_messages.h"

#include <linux/l2tp.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "absl/strings/str_cat.h"
#include "datapath/contract.h"

namespace l2tp::kernel {
namespace {

absl::StatusOr<NlMsgPtr> NewRequest(int family, uint8_t command, int flags = 0) {
  NlMsgPtr msg(nlmsg_alloc());
  if (!msg) return absl::ResourceExhaustedError("cannot allocate a netlink message");
  if (genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, command, L2TP_GENL_VERSION) ==
      nullptr) {
    return absl::InternalError("netlink message header does not fit");
  }
  return msg;
}

absl::Status Overflow() { return absl::InternalError("netlink message too small for its attributes"); }

// L2TPv2 ids are 16 bits on the wire; the kernel takes them as u32.
absl::Status CheckL2tpV2Id(const std::string& what, const char* field, uint32_t id) {
  if (id == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": ", field, " must not be 0"));
  if (id > 0xffff) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", field, " ", id, " does not fit L2TPv2's 16 bits (at most 65535)"));
  }
  return absl::OkStatus();
}

// COOKIE is what this end sends; PEER_COOKIE what it requires on receive.
int PutCookies(nl_msg* m, const SessionConfig& c) {
  int err = 0;
  if (!c.cookie.empty())
    err |= nla_put(m, L2TP_ATTR_COOKIE, static_cast<int>(c.cookie.size()), c.cookie.data());
  if (!c.peer_cookie.empty()) {
    err |= nla_put(m, L2TP_ATTR_PEER_COOKIE, static_cast<int>(c.peer_cookie.size()), c.peer_cookie.data());
  }
  return err;
}

int PutSequencing(nl_msg* m, const SessionConfig& c) {
  int err = nla_put_u8(m, L2TP_ATTR_RECV_SEQ, c.require_sequence) |
            nla_put_u8(m, L2TP_ATTR_SEND_SEQ, c.send_sequence) |
            nla_put_u8(m, L2TP_ATTR_LNS_MODE, c.lns_mode);
  if (c.reorder_timeout_ms != 0)
    err |= nla_put_u64(m, L2TP_ATTR_RECV_TIMEOUT, c.reorder_timeout_ms);  // NLA_MSECS: u64 ms
  return err;
}

}  // namespace

absl::StatusOr<NlMsgPtr> BuildTunnelCreate(int family, const TunnelConfig& c) {
  const std::string what = absl::StrCat("create tunnel ", c.tunnel_id);
  if (auto st = CheckTunnelConfig(c); !st.ok()) return st;  // the contract's rules, said once
  // The contract lets managed L2TPv2 through; it has a request of its own.
  if (c.version != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": version ", c.version, " (L2TPv2 tunnels: BuildL2tpV2TunnelCreate)"));
  }
  if (!(c.local.is_v4() || c.local.is_v6()) || c.local.family != c.remote.family) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": local and remote must both be IPv4 or both IPv6"));
  }
  auto msg = NewRequest(family, L2TP_CMD_TUNNEL_CREATE);
  if (!msg.ok()) return msg.status();
  nl_msg* m = msg->get();
  const bool udp = c.encap == Encap::kUdp;
  int err = nla_put_u32(m, L2TP_ATTR_CONN_ID, c.tunnel_id) |
            nla_put_u32(m, L2TP_ATTR_PEER_CONN_ID, c.peer_tunnel_id) |
            nla_put_u8(m, L2TP_ATTR_PROTO_VERSION, 3) |
            nla_put_u16(m, L2TP_ATTR_ENCAP_TYPE, udp ? L2TP_ENCAPTYPE_UDP : L2TP_ENCAPTYPE_IP);
  if (c.socket_fd >= 0) {
    // Managed: the socket already carries the addresses, ports and checksum
    // options (OpenManagedSocket set them); the kernel ignores the address
    // attributes when FD is present, so none are sent.
    err |= nla_put_u32(m, L2TP_ATTR_FD, static_cast<uint32_t>(c.socket_fd));
    if (err != 0) return Overflow();
    return msg;
  }
  if (c.local.is_v4()) {
    // in_addr in network order, as the kernel's nla_get_in_addr reads it.
    err |= nla_put(m, L2TP_ATTR_IP_SADDR, 4, c.local.bytes.data()) |
           nla_put(m, L2TP_ATTR_IP_DADDR, 4, c.remote.bytes.data());
  } else {
    err |= nla_put(m, L2TP_ATTR_IP6_SADDR, 16, c.local.bytes.data()) |
           nla_put(m, L2TP_ATTR_IP6_DADDR, 16, c.remote.bytes.data());
  }
  if (udp) {
    err |= nla_put_u16(m, L2TP_ATTR_UDP_SPORT, c.udp_source_port) |
           nla_put_u16(m, L2TP_ATTR_UDP_DPORT, c.udp_destination_port);
    // The kernel reads UDP_CSUM as a flag: present (any value) enables.
    if (c.local.is_v4() && c.udp_checksum) err |= nla_put_u8(m, L2TP_ATTR_UDP_CSUM, 1);
    if (c.local.is_v6() && c.udp6_zero_checksum_tx) err |= nla_put_flag(m, L2TP_ATTR_UDP_ZERO_CSUM6_TX);
    if (c.local.is_v6() && c.udp6_zero_checksum_rx) err |= nla_put_flag(m, L2TP_ATTR_UDP_ZERO_CSUM6_RX);
  }
  if (err != 0) return Overflow();
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildL2tpV2TunnelCreate(int family, const TunnelConfig& c) {
  const std::string what = absl::StrCat("create tunnel ", c.tunnel_id);
  if (c.version != 2) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": version ", c.version, ", not 2"));
  }
  const std::pair<const char*, uint32_t> ids[] = {{"tunnel_id", c.tunnel_id},
                                                  {"peer_tunnel_id", c.peer_tunnel_id}};
  for (const auto& [field, id] : ids) {
    if (auto st = CheckL2tpV2Id(what, field, id); !st.ok()) return st;
  }
  if (c.encap != Encap::kUdp)
    return absl::InvalidArgumentError(absl::StrCat(what, ": L2TPv2 runs over UDP only"));
  if (c.socket_fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": an L2TPv2 tunnel needs the control plane's socket (socket_fd)"));
  }
  auto msg = NewRequest(family, L2TP_CMD_TUNNEL_CREATE);
  if (!msg.ok()) return msg.status();
  nl_msg* m = msg->get();
  // As for a managed L2TPv3 tunnel: the socket carries addresses, ports and
  // checksum options.
  if ((nla_put_u32(m, L2TP_ATTR_CONN_ID, c.tunnel_id) |
       nla_put_u32(m, L2TP_ATTR_PEER_CONN_ID, c.peer_tunnel_id) | nla_put_u8(m, L2TP_ATTR_PROTO_VERSION, 2) |
       nla_put_u16(m, L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_UDP) |
       nla_put_u32(m, L2TP_ATTR_FD, static_cast<uint32_t>(c.socket_fd))) != 0) {
    return Overflow();
  }
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildTunnelDelete(int family, uint32_t tunnel_id) {
  auto msg = NewRequest(family, L2TP_CMD_TUNNEL_DELETE);
  if (!msg.ok()) return msg.status();
  if (nla_put_u32(msg->get(), L2TP_ATTR_CONN_ID, tunnel_id) != 0) return Overflow();
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildTunnelGet(int family, uint32_t tunnel_id) {
  auto msg = NewRequest(family, L2TP_CMD_TUNNEL_GET);
  if (!msg.ok()) return msg.status();
  if (nla_put_u32(msg->get(), L2TP_ATTR_CONN_ID, tunnel_id) != 0) return Overflow();
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildSessionCreate(int family, const SessionConfig& c) {
  const std::string what = absl::StrCat("create session ", c.tunnel_id, "/", c.session_id);
  if (auto st = CheckSessionConfig(c); !st.ok()) return st;  // the contract's rules, said once
  // Always named: the kernel's default l2tpeth%d would make adoption guesswork.
  if (c.interface_name.empty() || c.interface_name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": interface name must be 1 to ", IFNAMSIZ - 1, " characters"));
  }
  auto msg = NewRequest(family, L2TP_CMD_SESSION_CREATE);
  if (!msg.ok()) return msg.status();
  nl_msg* m = msg->get();
  int err = nla_put_u32(m, L2TP_ATTR_CONN_ID, c.tunnel_id) |
            nla_put_u32(m, L2TP_ATTR_SESSION_ID, c.session_id) |
            nla_put_u32(m, L2TP_ATTR_PEER_SESSION_ID, c.peer_session_id) |
            nla_put_u16(m, L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH) |
            nla_put_u8(m, L2TP_ATTR_L2SPEC_TYPE,
                       c.l2spec == L2Spec::kNone ? L2TP_L2SPECTYPE_NONE : L2TP_L2SPECTYPE_DEFAULT) |
            nla_put_string(m, L2TP_ATTR_IFNAME, c.interface_name.c_str());
  err |= PutCookies(m, c) | PutSequencing(m, c);
  if (err != 0) return Overflow();
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildPppSessionCreate(int family, uint32_t version, const SessionConfig& c) {
  const std::string what = absl::StrCat("create session ", c.tunnel_id, "/", c.session_id);
  if (version != 2 && version != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": version ", version, ": L2TP versions are 2 and 3"));
  }
  if (auto st = CheckSessionConfig(c); !st.ok()) return st;  // non-zero ids, cookie lengths
  if (version == 2) {
    const std::pair<const char*, uint32_t> ids[] = {{"tunnel_id", c.tunnel_id},
                                                    {"session_id", c.session_id},
                                                    {"peer_session_id", c.peer_session_id}};
    for (const auto& [field, id] : ids) {
      if (auto st = CheckL2tpV2Id(what, field, id); !st.ok()) return st;
    }
    if (!c.cookie.empty() || !c.peer_cookie.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", c.cookie.empty() ? "peer_cookie" : "cookie", ": L2TPv2 has no cookies"));
    }
  }
  auto msg = NewRequest(family, L2TP_CMD_SESSION_CREATE);
  if (!msg.ok()) return msg.status();
  nl_msg* m = msg->get();
  int err = nla_put_u32(m, L2TP_ATTR_CONN_ID, c.tunnel_id) |
            nla_put_u32(m, L2TP_ATTR_SESSION_ID, c.session_id) |
            nla_put_u32(m, L2TP_ATTR_PEER_SESSION_ID, c.peer_session_id) |
            nla_put_u16(m, L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_PPP);
  if (version == 3) {
    // The kernel reads these for L2TPv3 tunnels only.
    err |= nla_put_u8(m, L2TP_ATTR_L2SPEC_TYPE,
                      c.l2spec == L2Spec::kNone ? L2TP_L2SPECTYPE_NONE : L2TP_L2SPECTYPE_DEFAULT);
    err |= PutCookies(m, c);
  }
  err |= PutSequencing(m, c);
  if (err != 0) return Overflow();
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildSessionModify(int family, const SessionConfig& c) {
  auto msg = NewRequest(family, L2TP_CMD_SESSION_MODIFY);
  if (!msg.ok()) return msg.status();
  nl_msg* m = msg->get();
  // All four every time: an absent attribute leaves the old value in place,
  // and a zero timeout must be sent to clear one.
  int err = nla_put_u32(m, L2TP_ATTR_CONN_ID, c.tunnel_id) |
            nla_put_u32(m, L2TP_ATTR_SESSION_ID, c.session_id) |
            nla_put_u8(m, L2TP_ATTR_RECV_SEQ, c.require_sequence) |
            nla_put_u8(m, L2TP_ATTR_SEND_SEQ, c.send_sequence) |
            nla_put_u8(m, L2TP_ATTR_LNS_MODE, c.lns_mode) |
            nla_put_u64(m, L2TP_ATTR_RECV_TIMEOUT, c.reorder_timeout_ms);
  if (err != 0) return Overflow();
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildSessionDelete(int family, uint32_t tunnel_id, uint32_t session_id) {
  auto msg = NewRequest(family, L2TP_CMD_SESSION_DELETE);
  if (!msg.ok()) return msg.status();
  if ((nla_put_u32(msg->get(), L2TP_ATTR_CONN_ID, tunnel_id) |
       nla_put_u32(msg->get(), L2TP_ATTR_SESSION_ID, session_id)) != 0) {
    return Overflow();
  }
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildDump(int family, uint8_t command) {
  if (command != L2TP_CMD_TUNNEL_GET && command != L2TP_CMD_SESSION_GET) {
    return absl::InvalidArgumentError(absl::StrCat("l2tp command ", command, " has no dump"));
  }
  return NewRequest(family, command, NLM_F_DUMP);
}

}  // namespace l2tp::kernel
