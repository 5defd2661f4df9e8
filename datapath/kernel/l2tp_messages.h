// Requests of the kernel's `l2tp` generic netlink family, built but not sent
// (pure: unit-tested by parsing them back). Only attributes the kernel acts
// on are sent; see docs/kernel-datapath.md for the quirks behind each choice.
#pragma once

#include <netlink/msg.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"

namespace l2tp::kernel {

struct NlMsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using NlMsgPtr = std::unique_ptr<nl_msg, NlMsgFree>;

// Unmanaged tunnel (the kernel opens the socket): addresses, ports, checksum
// flags. Managed tunnel (config.socket_fd >= 0, a bound and connected socket
// of the right kind): FD instead of all of those. Rejects what the kernel
// would misread (mixed families) and L2TPv2 (BuildL2tpV2TunnelCreate).
absl::StatusOr<NlMsgPtr> BuildTunnelCreate(int family, const TunnelConfig& config);
// An L2TPv2 tunnel (PPP pseudowires only) on the managed UDP socket
// config.socket_fd: CONN_ID, PEER_CONN_ID, PROTO_VERSION 2, ENCAP_TYPE UDP,
// FD. INVALID_ARGUMENT naming the field for ids of 0 or above 65535, IP
// encapsulation, no socket, a version other than 2. What CreateTunnel sends
// for a version 2 tunnel.
absl::StatusOr<NlMsgPtr> BuildL2tpV2TunnelCreate(int family, const TunnelConfig& config);
absl::StatusOr<NlMsgPtr> BuildTunnelDelete(int family, uint32_t tunnel_id);
absl::StatusOr<NlMsgPtr> BuildTunnelGet(int family, uint32_t tunnel_id);

// An Ethernet pseudowire (l2tp_eth) named config.interface_name.
absl::StatusOr<NlMsgPtr> BuildSessionCreate(int family, const SessionConfig& config);
// A PPP pseudowire (PW_TYPE PPP, l2tp_ppp) in a tunnel of L2TP `version`:
// ids, sequencing, LNS mode, reorder timeout and, for L2TPv3, L2SPEC_TYPE
// and the cookies. No IFNAME: a PPP session has no interface of its own
// (pppd makes the pppN one), so interface_name and mtu are not sent. Its
// PPPoL2TP socket is connected afterwards (pppol2tp_socket.h). For L2TPv2:
// ids above 65535 and cookies are INVALID_ARGUMENT naming the field.
absl::StatusOr<NlMsgPtr> BuildPppSessionCreate(int family, uint32_t version, const SessionConfig& config);
// Sequencing, LNS mode and reorder timeout: all the kernel changes in place.
absl::StatusOr<NlMsgPtr> BuildSessionModify(int family, const SessionConfig& config);
absl::StatusOr<NlMsgPtr> BuildSessionDelete(int family, uint32_t tunnel_id, uint32_t session_id);

// TUNNEL_GET or SESSION_GET with NLM_F_DUMP.
absl::StatusOr<NlMsgPtr> BuildDump(int family, uint8_t command);

}  // namespace l2tp::kernel
