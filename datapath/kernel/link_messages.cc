#include "datapath/kernel/link_messages.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace l2tp::kernel {
namespace {

absl::StatusOr<NlMsgPtr> NewLinkRequest(int type, int flags) {
  NlMsgPtr msg(nlmsg_alloc_simple(type, flags));
  if (!msg) return absl::ResourceExhaustedError("cannot allocate a netlink message");
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (nlmsg_append(msg.get(), &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
    return absl::InternalError("netlink message too small for ifinfomsg");
  }
  return msg;
}

}  // namespace

absl::StatusOr<NlMsgPtr> BuildLinkSetUp(const std::string& ifname, uint32_t mtu) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(
        absl::StrCat("interface name \"", ifname, "\" must be 1 to ", IFNAMSIZ - 1, " characters"));
  }
  auto msg = NewLinkRequest(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
  if (!msg.ok()) return msg.status();
  auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(nlmsg_hdr(msg->get())));
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  int err = nla_put_string(msg->get(), IFLA_IFNAME, ifname.c_str());
  if (mtu != 0) err |= nla_put_u32(msg->get(), IFLA_MTU, mtu);
  if (err != 0) return absl::InternalError("netlink message too small for the link attributes");
  return msg;
}

absl::StatusOr<NlMsgPtr> BuildLinkDump() {
  auto msg = NewLinkRequest(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  if (!msg.ok()) return msg.status();
  // Kernels before RTEXT_FILTER_SKIP_STATS ignore the bit and send the stats.
  if (nla_put_u32(msg->get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) != 0) {
    return absl::InternalError("netlink message too small for IFLA_EXT_MASK");
  }
  return msg;
}

absl::StatusOr<LinkInfo> ParseLinkReply(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != RTM_NEWLINK) {
    return absl::DataLossError(absl::StrCat("link dump: unexpected message type ", nlh->nlmsg_type));
  }
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) {
    return absl::DataLossError("link dump: message shorter than ifinfomsg");
  }
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(nlh));
  LinkInfo link;
  link.ifindex = ifi->ifi_index;
  link.up = (ifi->ifi_flags & IFF_UP) != 0;
  const int attrlen = static_cast<int>(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg)));
  const auto* first = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(ifi) +
                                                      NLMSG_ALIGN(sizeof(ifinfomsg)));
  // Walked by hand: only two attributes matter, and a whole libnl link object
  // per interface is what made Observe slow with 10,000 of them.
  const nlattr* a = first;
  int rem = attrlen;
  for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
    switch (nla_type(a)) {
      case IFLA_IFNAME: {
        const char* p = static_cast<const char*>(nla_data(a));
        link.name.assign(p, strnlen(p, static_cast<size_t>(nla_len(a))));
        break;
      }
      case IFLA_MTU:
        if (nla_len(a) < 4) return absl::DataLossError("link dump: short IFLA_MTU");
        link.mtu = nla_get_u32(const_cast<nlattr*>(a));
        break;
      default: break;
    }
  }
  if (link.name.empty())
    return absl::DataLossError(absl::StrCat("link dump: interface ", link.ifindex, " without IFLA_IFNAME"));
  return link;
}

}  // namespace l2tp::kernel
