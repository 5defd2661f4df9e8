// rtnetlink link messages: what the requests carry, and parsing a reply
// (including attributes that claim more than the message holds).
#include "datapath/userspace/link_messages.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "datapath/userspace/device_mark.h"
#include "gtest/gtest.h"

namespace l2tp::userspace {
namespace {

const nlmsghdr* Header(const std::vector<uint8_t>& m) { return reinterpret_cast<const nlmsghdr*>(m.data()); }

// The first attribute of type `type` after the ifinfomsg, as a string.
std::string Attr(const std::vector<uint8_t>& m, uint16_t type) {
  auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(Header(m)));
  int left = static_cast<int>(m.size() - NLMSG_SPACE(sizeof(ifinfomsg)));
  for (auto* a = IFLA_RTA(ifi); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == type) return static_cast<const char*>(RTA_DATA(a));
  }
  return "<none>";
}

TEST(LinkMessagesTest, GetOneByNameOrDumpAll) {
  auto one = BuildGetLink("pw1", 7);
  EXPECT_EQ(Header(one)->nlmsg_type, RTM_GETLINK);
  EXPECT_EQ(Header(one)->nlmsg_len, one.size());
  EXPECT_EQ(Header(one)->nlmsg_seq, 7u);
  EXPECT_FALSE(Header(one)->nlmsg_flags & NLM_F_DUMP);
  EXPECT_EQ(Attr(one, IFLA_IFNAME), "pw1");
  auto all = BuildGetLink("", 8);
  EXPECT_TRUE(Header(all)->nlmsg_flags & NLM_F_DUMP);
  EXPECT_EQ(all.size(), NLMSG_SPACE(sizeof(ifinfomsg)));
}

TEST(LinkMessagesTest, SetAliasAndDeleteAddressTheDeviceByIndex) {
  auto set = BuildSetAlias(42, "l2tp-agent abc session 1/2", 1);
  EXPECT_EQ(Header(set)->nlmsg_type, RTM_NEWLINK);
  EXPECT_TRUE(Header(set)->nlmsg_flags & NLM_F_ACK);
  EXPECT_FALSE(Header(set)->nlmsg_flags & NLM_F_CREATE);  // change, never create
  EXPECT_EQ(static_cast<const ifinfomsg*>(NLMSG_DATA(Header(set)))->ifi_index, 42);
  EXPECT_EQ(Attr(set, IFLA_IFALIAS), "l2tp-agent abc session 1/2");
  auto del = BuildDeleteLink(42, 2);
  EXPECT_EQ(Header(del)->nlmsg_type, RTM_DELLINK);
  EXPECT_EQ(static_cast<const ifinfomsg*>(NLMSG_DATA(Header(del)))->ifi_index, 42);
}

// An RTM_NEWLINK reply: name, alias and IFLA_LINKINFO { IFLA_INFO_KIND }.
std::vector<uint8_t> Reply(const char* name, const char* alias, const char* kind) {
  std::vector<uint8_t> m(NLMSG_SPACE(sizeof(ifinfomsg)));
  auto put = [&m](uint16_t type, const void* data, size_t len) {
    size_t at = m.size();
    m.resize(at + RTA_SPACE(len));
    auto* a = reinterpret_cast<rtattr*>(m.data() + at);
    a->rta_type = type;
    a->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(a), data, len);
    return at;
  };
  put(IFLA_IFNAME, name, strlen(name) + 1);
  if (alias) put(IFLA_IFALIAS, alias, strlen(alias) + 1);
  if (kind) {
    std::vector<uint8_t> inner(RTA_SPACE(strlen(kind) + 1));
    auto* k = reinterpret_cast<rtattr*>(inner.data());
    k->rta_type = IFLA_INFO_KIND;
    k->rta_len = static_cast<uint16_t>(RTA_LENGTH(strlen(kind) + 1));
    std::memcpy(RTA_DATA(k), kind, strlen(kind) + 1);
    put(IFLA_LINKINFO, inner.data(), inner.size());
  }
  auto* h = reinterpret_cast<nlmsghdr*>(m.data());
  h->nlmsg_type = RTM_NEWLINK;
  h->nlmsg_len = static_cast<uint32_t>(m.size());
  static_cast<ifinfomsg*>(NLMSG_DATA(h))->ifi_index = 9;
  return m;
}

TEST(LinkMessagesTest, ParsesNameAliasAndKind) {
  auto link = ParseLink(Reply("pw1", "l2tp-agent abc session 1/2", "tun"));
  ASSERT_TRUE(link);
  EXPECT_EQ(link->ifindex, 9);
  EXPECT_EQ(link->name, "pw1");
  EXPECT_EQ(link->alias, "l2tp-agent abc session 1/2");
  EXPECT_EQ(link->kind, "tun");
  auto plain = ParseLink(Reply("eth0", nullptr, nullptr));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->alias, "");
  EXPECT_EQ(plain->kind, "");
}

TEST(LinkMessagesTest, RejectsTruncatedAndForeignMessages) {
  auto m = Reply("pw1", "x", "tun");
  EXPECT_FALSE(ParseLink(std::span(m).first(10)));
  auto longer = m;
  reinterpret_cast<nlmsghdr*>(longer.data())->nlmsg_len = static_cast<uint32_t>(m.size() + 100);
  EXPECT_FALSE(ParseLink(longer));
  auto other = m;
  reinterpret_cast<nlmsghdr*>(other.data())->nlmsg_type = RTM_NEWADDR;
  EXPECT_FALSE(ParseLink(other));
  // An attribute claiming more than is left ends the walk; nothing is read past the end.
  auto bad = m;
  reinterpret_cast<rtattr*>(bad.data() + NLMSG_SPACE(sizeof(ifinfomsg)))->rta_len = 60000;
  EXPECT_FALSE(ParseLink(bad));  // no name could be read
}

TEST(DeviceMarkTest, NamesTheOwnerAndTheSession) {
  EXPECT_EQ(FormatDeviceMark("0fb8a4e3", 10, 1), "l2tp-agent 0fb8a4e3 session 10/1");
  EXPECT_TRUE(IsMarkedBy("l2tp-agent 0fb8a4e3 session 10/1", "0fb8a4e3"));
  EXPECT_FALSE(IsMarkedBy("l2tp-agent 0fb8a4e3 session 10/1", "0fb8a4e"));  // another agent
  EXPECT_FALSE(IsMarkedBy("l2tp-agent 0fb8a4e39 session 10/1", "0fb8a4e3"));
  EXPECT_FALSE(IsMarkedBy("", "0fb8a4e3"));
  EXPECT_FALSE(IsMarkedBy("uplink to the lab", "0fb8a4e3"));
  EXPECT_FALSE(IsMarkedBy("l2tp-agent  session 1/1", ""));  // an empty owner owns nothing
}

}  // namespace
}  // namespace l2tp::userspace
