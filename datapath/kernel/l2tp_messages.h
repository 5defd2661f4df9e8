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
// would misread (mixed families, v2).
absl::StatusOr<NlMsgPtr> BuildTunnelCreate(int family, const TunnelConfig& config);
absl::StatusOr<NlMsgPtr> BuildTunnelDelete(int family, uint32_t tunnel_id);
absl::StatusOr<NlMsgPtr> BuildTunnelGet(int family, uint32_t tunnel_id);

// An Ethernet pseudowire (l2tp_eth) named config.interface_name.
absl::StatusOr<NlMsgPtr> BuildSessionCreate(int family, const SessionConfig& config);
// Sequencing, LNS mode and reorder timeout: all the kernel changes in place.
absl::StatusOr<NlMsgPtr> BuildSessionModify(int family, const SessionConfig& config);
absl::StatusOr<NlMsgPtr> BuildSessionDelete(int family, uint32_t tunnel_id, uint32_t session_id);

// TUNNEL_GET or SESSION_GET with NLM_F_DUMP.
absl::StatusOr<NlMsgPtr> BuildDump(int family, uint8_t command);

}  // namespace l2tp::kernel
