#include "datapath/userspace/link_messages.h"

#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>

namespace l2tp::userspace {
namespace {

// A netlink message under construction: header, ifinfomsg, attributes.
class LinkRequest {
 public:
  LinkRequest(uint16_t type, uint16_t flags, uint32_t seq, int ifindex) {
    bytes_.resize(NLMSG_SPACE(sizeof(ifinfomsg)));
    auto* h = reinterpret_cast<nlmsghdr*>(bytes_.data());
    h->nlmsg_type = type;
    h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    h->nlmsg_seq = seq;
    auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
  }
  void AddString(uint16_t type, std::string_view value) {  // NUL-terminated
    const size_t start = bytes_.size();
    const size_t len = RTA_LENGTH(value.size() + 1);
    bytes_.resize(start + RTA_ALIGN(len));
    auto* rta = reinterpret_cast<rtattr*>(bytes_.data() + start);
    rta->rta_type = type;
    rta->rta_len = static_cast<uint16_t>(len);
    std::memcpy(RTA_DATA(rta), value.data(), value.size());
  }
  std::vector<uint8_t> Finish() {
    reinterpret_cast<nlmsghdr*>(bytes_.data())->nlmsg_len = static_cast<uint32_t>(bytes_.size());
    return std::move(bytes_);
  }

 private:
  std::vector<uint8_t> bytes_;
};

// A string attribute: up to its first NUL, never past its end.
std::string AttrString(const rtattr* rta) {
  const char* data = static_cast<const char*>(RTA_DATA(rta));
  const size_t len = RTA_PAYLOAD(rta);
  return std::string(data, strnlen(data, len));
}

std::string InfoKind(const rtattr* linkinfo) {
  int left = static_cast<int>(RTA_PAYLOAD(linkinfo));
  for (auto* a = static_cast<const rtattr*>(RTA_DATA(linkinfo)); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == IFLA_INFO_KIND) return AttrString(a);
  }
  return "";
}

}  // namespace

std::vector<uint8_t> BuildGetLink(std::string_view name, uint32_t seq) {
  LinkRequest r(RTM_GETLINK, name.empty() ? NLM_F_DUMP : 0, seq, 0);
  if (!name.empty()) r.AddString(IFLA_IFNAME, name);
  return r.Finish();
}

std::vector<uint8_t> BuildSetAlias(int ifindex, std::string_view alias, uint32_t seq) {
  LinkRequest r(RTM_NEWLINK, NLM_F_ACK, seq, ifindex);
  r.AddString(IFLA_IFALIAS, alias);
  return r.Finish();
}

std::vector<uint8_t> BuildDeleteLink(int ifindex, uint32_t seq) {
  return LinkRequest(RTM_DELLINK, NLM_F_ACK, seq, ifindex).Finish();
}

std::optional<LinkInfo> ParseLink(std::span<const uint8_t> message) {
  if (message.size() < NLMSG_SPACE(sizeof(ifinfomsg))) return std::nullopt;
  auto* h = reinterpret_cast<const nlmsghdr*>(message.data());
  if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len > message.size() ||
      h->nlmsg_len < NLMSG_SPACE(sizeof(ifinfomsg))) {
    return std::nullopt;
  }
  auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  LinkInfo link;
  link.ifindex = ifi->ifi_index;
  int left = static_cast<int>(h->nlmsg_len - NLMSG_SPACE(sizeof(ifinfomsg)));
  for (auto* a = IFLA_RTA(ifi); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    switch (a->rta_type) {
      case IFLA_IFNAME: link.name = AttrString(a); break;
      case IFLA_IFALIAS: link.alias = AttrString(a); break;
      case IFLA_LINKINFO: link.kind = InfoKind(a); break;
      default: break;
    }
  }
  if (link.name.empty()) return std::nullopt;
  return link;
}

}  // namespace l2tp::userspace
