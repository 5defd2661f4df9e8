// The rtnetlink requests for session interfaces, parsed back: exactly the
// header fields and attributes the kernel acts on. And the link dump parser
// against hand-built replies.
#include "datapath/kernel/link_messages.h"

#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <map>
#include <set>

namespace l2tp::kernel {
namespace {

struct Parsed {
  nlmsghdr hdr{};
  ifinfomsg ifi{};
  std::map<int, nlattr*> attrs;
  std::set<int> types() const {
    std::set<int> s;
    for (const auto& [t, a] : attrs) s.insert(t);
    return s;
  }
};

Parsed Parse(nl_msg* msg) {
  Parsed p;
  nlmsghdr* nlh = nlmsg_hdr(msg);
  p.hdr = *nlh;
  EXPECT_GE(nlh->nlmsg_len, NLMSG_LENGTH(sizeof(ifinfomsg)));
  p.ifi = *static_cast<ifinfomsg*>(nlmsg_data(nlh));
  nlattr* a;
  int rem;
  nla_for_each_attr(a, nlmsg_attrdata(nlh, sizeof(ifinfomsg)), nlmsg_attrlen(nlh, sizeof(ifinfomsg)), rem) {
    EXPECT_EQ(p.attrs.count(nla_type(a)), 0u) << "attribute " << nla_type(a) << " twice";
    p.attrs[nla_type(a)] = a;
  }
  EXPECT_EQ(rem, 0) << "trailing bytes after the attributes";
  return p;
}

TEST(LinkMessages, SetUpWithMtuIsOneSetlinkByName) {
  auto msg = BuildLinkSetUp("b12-3", 1446);
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.hdr.nlmsg_type, RTM_SETLINK);
  EXPECT_EQ(p.hdr.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);  // no CREATE, no REPLACE
  EXPECT_EQ(p.ifi.ifi_family, AF_UNSPEC);
  EXPECT_EQ(p.ifi.ifi_index, 0);  // the kernel finds the interface by IFLA_IFNAME
  EXPECT_EQ(p.ifi.ifi_flags, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(p.ifi.ifi_change, static_cast<unsigned>(IFF_UP));  // only the UP bit changes
  EXPECT_EQ(p.types(), (std::set<int>{IFLA_IFNAME, IFLA_MTU}));
  EXPECT_STREQ(nla_get_string(p.attrs[IFLA_IFNAME]), "b12-3");
  EXPECT_EQ(nla_get_u32(p.attrs[IFLA_MTU]), 1446u);
}

TEST(LinkMessages, SetUpWithoutMtuLeavesItAlone) {
  auto msg = BuildLinkSetUp("l2tpeth0", 0);
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.types(), (std::set<int>{IFLA_IFNAME}));
}

TEST(LinkMessages, SetUpRejectsBadNames) {
  EXPECT_TRUE(absl::IsInvalidArgument(BuildLinkSetUp("", 1500).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(BuildLinkSetUp(std::string(IFNAMSIZ, 'x'), 1500).status()));
  EXPECT_TRUE(BuildLinkSetUp(std::string(IFNAMSIZ - 1, 'x'), 1500).ok());
}

TEST(LinkMessages, DumpSkipsStatistics) {
  auto msg = BuildLinkDump();
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.hdr.nlmsg_type, RTM_GETLINK);
  EXPECT_EQ(p.hdr.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(p.types(), (std::set<int>{IFLA_EXT_MASK}));
  EXPECT_EQ(nla_get_u32(p.attrs[IFLA_EXT_MASK]), static_cast<uint32_t>(RTEXT_FILTER_SKIP_STATS));
}

// An RTM_NEWLINK as a dump sends it: header, then attributes in any order,
// many the parser must skip.
NlMsgPtr Reply(int type, int ifindex, unsigned flags, const char* name, const uint32_t* mtu) {
  NlMsgPtr msg(nlmsg_alloc_simple(type, NLM_F_MULTI));
  ifinfomsg ifi{};
  ifi.ifi_index = ifindex;
  ifi.ifi_flags = flags;
  EXPECT_EQ(nlmsg_append(msg.get(), &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
  EXPECT_EQ(nla_put_u32(msg.get(), IFLA_TXQLEN, 1000), 0);
  if (name != nullptr) {
    EXPECT_EQ(nla_put_string(msg.get(), IFLA_IFNAME, name), 0);
  }
  EXPECT_EQ(nla_put_u8(msg.get(), IFLA_OPERSTATE, 6), 0);
  if (mtu != nullptr) {
    EXPECT_EQ(nla_put_u32(msg.get(), IFLA_MTU, *mtu), 0);
  }
  nlattr* nest = nla_nest_start(msg.get(), IFLA_LINKINFO);
  EXPECT_EQ(nla_put_string(msg.get(), IFLA_INFO_KIND, "l2tp"), 0);
  nla_nest_end(msg.get(), nest);
  return msg;
}

TEST(LinkReplies, NameMtuIndexAndUp) {
  const uint32_t mtu = 1446;
  auto msg = Reply(RTM_NEWLINK, 42, IFF_UP | IFF_BROADCAST, "b1-1", &mtu);
  auto link = ParseLinkReply(nlmsg_hdr(msg.get()));
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->ifindex, 42);
  EXPECT_EQ(link->name, "b1-1");
  EXPECT_EQ(link->mtu, 1446u);
  EXPECT_TRUE(link->up);

  auto down = Reply(RTM_NEWLINK, 43, IFF_BROADCAST, "b1-2", &mtu);
  auto d = ParseLinkReply(nlmsg_hdr(down.get()));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->up);
}

TEST(LinkReplies, MalformedRepliesAreErrors) {
  const uint32_t mtu = 1500;
  auto no_name = Reply(RTM_NEWLINK, 7, 0, nullptr, &mtu);
  EXPECT_TRUE(absl::IsDataLoss(ParseLinkReply(nlmsg_hdr(no_name.get())).status()));
  auto wrong_type = Reply(RTM_NEWADDR, 7, 0, "x", &mtu);
  EXPECT_TRUE(absl::IsDataLoss(ParseLinkReply(nlmsg_hdr(wrong_type.get())).status()));
  // Shorter than the ifinfomsg header.
  NlMsgPtr shortmsg(nlmsg_alloc_simple(RTM_NEWLINK, 0));
  EXPECT_TRUE(absl::IsDataLoss(ParseLinkReply(nlmsg_hdr(shortmsg.get())).status()));
  // No MTU attribute: reported as 0, not an error.
  auto no_mtu = Reply(RTM_NEWLINK, 8, 0, "y", nullptr);
  auto l = ParseLinkReply(nlmsg_hdr(no_mtu.get()));
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->mtu, 0u);
}

}  // namespace
}  // namespace l2tp::kernel
