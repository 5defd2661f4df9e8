// rtnetlink requests for the sessions' l2tpeth interfaces, built but not sent,
// and the parser of link dump replies (pure: unit-tested by parsing back).
//
// One request per interface change: RTM_SETLINK addressed by IFLA_IFNAME
// (ifi_index 0; the kernel looks the name up itself), so no RTM_GETLINK
// round trip is needed first. The link dump asks the kernel to leave out
// statistics and VF data, which the agent does not read.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "datapath/kernel/l2tp_messages.h"

namespace l2tp::kernel {

// Interface `ifname` administratively up and, when mtu != 0, that MTU.
absl::StatusOr<NlMsgPtr> BuildLinkSetUp(const std::string& ifname, uint32_t mtu);

// RTM_GETLINK dump of every interface, without statistics.
absl::StatusOr<NlMsgPtr> BuildLinkDump();

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  uint32_t mtu = 0;
  bool up = false;  // IFF_UP
};

// One RTM_NEWLINK message of a dump. Fails on a malformed message.
absl::StatusOr<LinkInfo> ParseLinkReply(const nlmsghdr* nlh);

}  // namespace l2tp::kernel
