// Hand-built kernel replies (the attributes l2tp_netlink.c puts in
// TUNNEL_GET and SESSION_GET answers) parsed into observations.
#include "datapath/kernel/l2tp_replies.h"

#include <gtest/gtest.h>
#include <linux/l2tp.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <memory>

namespace l2tp::kernel {
namespace {

struct MsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using Msg = std::unique_ptr<nl_msg, MsgFree>;

Msg Reply(uint8_t cmd) {
  Msg m(nlmsg_alloc());
  genlmsg_put(m.get(), 0, 1, 0x1d, 0, NLM_F_MULTI, cmd, L2TP_GENL_VERSION);
  return m;
}

// STATS as the kernel nests it; `with_new` adds the 5.10+ counters.
void PutStats(nl_msg* m, uint64_t base, bool with_new) {
  nlattr* nest = nla_nest_start(m, L2TP_ATTR_STATS);
  for (int a = L2TP_ATTR_TX_PACKETS; a <= L2TP_ATTR_RX_ERRORS; ++a) nla_put_u64(m, a, base + a);
  if (with_new) {
    nla_put_u64(m, L2TP_ATTR_RX_COOKIE_DISCARDS, base + 10);
    nla_put_u64(m, L2TP_ATTR_RX_INVALID, base + 11);
  }
  nla_nest_end(m, nest);
}

TEST(TunnelReply, UdpIpv4) {
  Msg m = Reply(L2TP_CMD_TUNNEL_GET);
  nla_put_u8(m.get(), L2TP_ATTR_PROTO_VERSION, 3);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 100);
  nla_put_u32(m.get(), L2TP_ATTR_PEER_CONN_ID, 200);
  nla_put_u32(m.get(), L2TP_ATTR_DEBUG, 0);  // always 0 since 5.10; ignored
  nla_put_u16(m.get(), L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_UDP);
  PutStats(m.get(), 1000, true);
  nla_put_u8(m.get(), L2TP_ATTR_UDP_CSUM, 1);
  nla_put_u16(m.get(), L2TP_ATTR_UDP_SPORT, 1701);
  nla_put_u16(m.get(), L2TP_ATTR_UDP_DPORT, 17001);
  const uint8_t s[4] = {192, 0, 2, 1}, d[4] = {192, 0, 2, 2};
  nla_put(m.get(), L2TP_ATTR_IP_SADDR, 4, s);
  nla_put(m.get(), L2TP_ATTR_IP_DADDR, 4, d);

  auto t = ParseTunnelReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(t.ok()) << t.status();
  TunnelConfig want;
  want.tunnel_id = 100;
  want.peer_tunnel_id = 200;
  want.local = *IpAddress::Parse("192.0.2.1");
  want.remote = *IpAddress::Parse("192.0.2.2");
  want.udp_source_port = 1701;
  want.udp_destination_port = 17001;
  want.udp_checksum = true;
  EXPECT_EQ(t->config, want);
  EXPECT_EQ(t->counters.tx_packets, 1001u);
  EXPECT_EQ(t->counters.tx_bytes, 1002u);
  EXPECT_EQ(t->counters.tx_errors, 1003u);
  EXPECT_EQ(t->counters.rx_packets, 1004u);
  EXPECT_EQ(t->counters.rx_bytes, 1005u);
  EXPECT_EQ(t->counters.rx_seq_discards, 1006u);
  EXPECT_EQ(t->counters.rx_oos_packets, 1007u);
  EXPECT_EQ(t->counters.rx_errors, 1008u);
  EXPECT_EQ(t->counters.rx_cookie_discards, 1010u);
  EXPECT_EQ(t->counters.rx_invalid, 1011u);
}

TEST(TunnelReply, UdpIpv6ChecksumOffReportedAsU8Zero) {
  Msg m = Reply(L2TP_CMD_TUNNEL_GET);
  nla_put_u8(m.get(), L2TP_ATTR_PROTO_VERSION, 3);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 5);
  nla_put_u32(m.get(), L2TP_ATTR_PEER_CONN_ID, 6);
  nla_put_u16(m.get(), L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_UDP);
  nla_put_flag(m.get(), L2TP_ATTR_UDP_ZERO_CSUM6_RX);
  nla_put_u16(m.get(), L2TP_ATTR_UDP_SPORT, 5000);
  nla_put_u16(m.get(), L2TP_ATTR_UDP_DPORT, 6000);
  IpAddress l = *IpAddress::Parse("2001:db8::1"), r = *IpAddress::Parse("2001:db8::2");
  nla_put(m.get(), L2TP_ATTR_IP6_SADDR, 16, l.bytes.data());
  nla_put(m.get(), L2TP_ATTR_IP6_DADDR, 16, r.bytes.data());
  auto t = ParseTunnelReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->config.local, l);
  EXPECT_EQ(t->config.remote, r);
  EXPECT_FALSE(t->config.udp_checksum);
  EXPECT_FALSE(t->config.udp6_zero_checksum_tx);
  EXPECT_TRUE(t->config.udp6_zero_checksum_rx);
  EXPECT_EQ(t->config.udp_source_port, 5000);
  EXPECT_EQ(t->counters, Counters{});  // no STATS: zeros
}

TEST(TunnelReply, IpEncapHasNoPorts) {
  Msg m = Reply(L2TP_CMD_TUNNEL_GET);
  nla_put_u8(m.get(), L2TP_ATTR_PROTO_VERSION, 3);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 5);
  nla_put_u32(m.get(), L2TP_ATTR_PEER_CONN_ID, 6);
  nla_put_u16(m.get(), L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_IP);
  const uint8_t s[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
  nla_put(m.get(), L2TP_ATTR_IP_SADDR, 4, s);
  nla_put(m.get(), L2TP_ATTR_IP_DADDR, 4, d);
  auto t = ParseTunnelReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->config.encap, Encap::kIp);
  EXPECT_EQ(t->config.udp_source_port, 0);
  EXPECT_EQ(t->config.remote.ToString(), "10.0.0.2");
}

// A managed L2TPv2 tunnel as the kernel reports it (from its socket):
// observed equal to the config it was created from.
TEST(TunnelReply, L2tpV2ManagedUdpComparesEqualToItsConfig) {
  Msg m = Reply(L2TP_CMD_TUNNEL_GET);
  nla_put_u8(m.get(), L2TP_ATTR_PROTO_VERSION, 2);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 7);
  nla_put_u32(m.get(), L2TP_ATTR_PEER_CONN_ID, 8);
  nla_put_u16(m.get(), L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_UDP);
  nla_put_u8(m.get(), L2TP_ATTR_UDP_CSUM, 0);
  nla_put_u16(m.get(), L2TP_ATTR_UDP_SPORT, 1701);
  nla_put_u16(m.get(), L2TP_ATTR_UDP_DPORT, 1702);
  const uint8_t s[4] = {192, 0, 2, 1}, d[4] = {192, 0, 2, 2};
  nla_put(m.get(), L2TP_ATTR_IP_SADDR, 4, s);
  nla_put(m.get(), L2TP_ATTR_IP_DADDR, 4, d);
  auto t = ParseTunnelReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(t.ok()) << t.status();
  TunnelConfig want;
  want.tunnel_id = 7;
  want.peer_tunnel_id = 8;
  want.version = 2;
  want.local = *IpAddress::Parse("192.0.2.1");
  want.remote = *IpAddress::Parse("192.0.2.2");
  want.udp_source_port = 1701;
  want.udp_destination_port = 1702;
  want.socket_fd = 5;  // not part of equality
  EXPECT_EQ(t->config, want);
  EXPECT_EQ(t->config.version, 2u);
}

TEST(TunnelReply, MissingIdIsAnError) {
  Msg m = Reply(L2TP_CMD_TUNNEL_GET);
  nla_put_u8(m.get(), L2TP_ATTR_PROTO_VERSION, 3);
  EXPECT_EQ(ParseTunnelReply(nlmsg_hdr(m.get())).status().code(), absl::StatusCode::kDataLoss);
}

TEST(TunnelReply, WrongAttributeSizeIsAnError) {
  Msg m = Reply(L2TP_CMD_TUNNEL_GET);
  nla_put_u8(m.get(), L2TP_ATTR_CONN_ID, 3);  // u32 expected
  EXPECT_FALSE(ParseTunnelReply(nlmsg_hdr(m.get())).ok());
}

TEST(SessionReply, EthernetSessionWithCookiesAndOldKernelStats) {
  Msg m = Reply(L2TP_CMD_SESSION_GET);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 100);
  nla_put_u32(m.get(), L2TP_ATTR_SESSION_ID, 1000);
  nla_put_u32(m.get(), L2TP_ATTR_PEER_CONN_ID, 200);
  nla_put_u32(m.get(), L2TP_ATTR_PEER_SESSION_ID, 2000);
  nla_put_u32(m.get(), L2TP_ATTR_DEBUG, 0);
  nla_put_u16(m.get(), L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH);
  nla_put_string(m.get(), L2TP_ATTR_IFNAME, "l2tp100-1000");
  const uint8_t cookie[4] = {1, 2, 3, 4}, peer[8] = {9, 8, 7, 6, 5, 4, 3, 2};
  nla_put(m.get(), L2TP_ATTR_COOKIE, 4, cookie);
  nla_put(m.get(), L2TP_ATTR_PEER_COOKIE, 8, peer);
  nla_put_u8(m.get(), L2TP_ATTR_RECV_SEQ, 1);
  nla_put_u8(m.get(), L2TP_ATTR_SEND_SEQ, 0);
  nla_put_u8(m.get(), L2TP_ATTR_LNS_MODE, 1);
  nla_put_u64(m.get(), L2TP_ATTR_RECV_TIMEOUT, 300);
  PutStats(m.get(), 0, false);

  auto s = ParseSessionReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->has_value());
  const ObservedSession& o = **s;
  EXPECT_FALSE(o.l2spec_known);
  EXPECT_FALSE(o.mtu_known);  // filled in from the interface by the datapath
  EXPECT_EQ(o.config.tunnel_id, 100u);
  EXPECT_EQ(o.config.session_id, 1000u);
  EXPECT_EQ(o.config.peer_session_id, 2000u);
  EXPECT_EQ(o.config.interface_name, "l2tp100-1000");
  EXPECT_EQ(o.config.cookie, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(o.config.peer_cookie, (std::vector<uint8_t>{9, 8, 7, 6, 5, 4, 3, 2}));
  EXPECT_TRUE(o.config.require_sequence);
  EXPECT_FALSE(o.config.send_sequence);
  EXPECT_TRUE(o.config.lns_mode);
  EXPECT_EQ(o.config.reorder_timeout_ms, 300u);
  EXPECT_EQ(o.counters.rx_errors, 8u);
  EXPECT_EQ(o.counters.rx_cookie_discards, 0u);  // absent on old kernels
  EXPECT_EQ(o.counters.rx_invalid, 0u);
}

TEST(SessionReply, NoTimeoutAttributeMeansZeroAndNoCookies) {
  Msg m = Reply(L2TP_CMD_SESSION_GET);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 1);
  nla_put_u32(m.get(), L2TP_ATTR_SESSION_ID, 2);
  nla_put_u16(m.get(), L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH);
  auto s = ParseSessionReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->config.reorder_timeout_ms, 0u);
  EXPECT_TRUE((*s)->config.cookie.empty());
  EXPECT_TRUE((*s)->config.peer_cookie.empty());
}

TEST(SessionReply, PppSessionsAreSkipped) {
  Msg m = Reply(L2TP_CMD_SESSION_GET);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 1);
  nla_put_u32(m.get(), L2TP_ATTR_SESSION_ID, 2);
  nla_put_u16(m.get(), L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_PPP);
  auto s = ParseSessionReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_value());
}

TEST(SessionReply, OverlongCookieIsAnError) {
  Msg m = Reply(L2TP_CMD_SESSION_GET);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 1);
  nla_put_u32(m.get(), L2TP_ATTR_SESSION_ID, 2);
  const uint8_t cookie[9] = {};
  nla_put(m.get(), L2TP_ATTR_COOKIE, 9, cookie);
  EXPECT_FALSE(ParseSessionReply(nlmsg_hdr(m.get())).ok());
}

TEST(PppSessionReply, PppSessionsWithOptionsAndCountersOthersSkipped) {
  Msg m = Reply(L2TP_CMD_SESSION_GET);
  nla_put_u32(m.get(), L2TP_ATTR_CONN_ID, 10);
  nla_put_u32(m.get(), L2TP_ATTR_PEER_CONN_ID, 20);
  nla_put_u32(m.get(), L2TP_ATTR_SESSION_ID, 100);
  nla_put_u32(m.get(), L2TP_ATTR_PEER_SESSION_ID, 200);
  nla_put_u16(m.get(), L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_PPP);
  nla_put_u8(m.get(), L2TP_ATTR_SEND_SEQ, 1);
  nla_put_u8(m.get(), L2TP_ATTR_RECV_SEQ, 0);
  nla_put_u8(m.get(), L2TP_ATTR_LNS_MODE, 1);
  nla_put_u64(m.get(), L2TP_ATTR_RECV_TIMEOUT, 200);
  PutStats(m.get(), 100, true);
  auto s = ParsePppSessionReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->has_value());
  const SessionConfig& c = (*s)->config;
  EXPECT_EQ(c.tunnel_id, 10u);
  EXPECT_EQ(c.session_id, 100u);
  EXPECT_EQ(c.peer_session_id, 200u);
  EXPECT_TRUE(c.send_sequence);
  EXPECT_FALSE(c.require_sequence);
  EXPECT_TRUE(c.lns_mode);
  EXPECT_EQ(c.reorder_timeout_ms, 200u);
  EXPECT_TRUE(c.interface_name.empty());
  EXPECT_FALSE((*s)->mtu_known);
  EXPECT_EQ((*s)->counters.tx_packets, 100u + L2TP_ATTR_TX_PACKETS);
  EXPECT_EQ((*s)->counters.rx_invalid, 111u);
  // The Ethernet parser leaves it out, and the PPP one leaves Ethernet out.
  auto eth = ParseSessionReply(nlmsg_hdr(m.get()));
  ASSERT_TRUE(eth.ok());
  EXPECT_FALSE(eth->has_value());
  Msg e = Reply(L2TP_CMD_SESSION_GET);
  nla_put_u32(e.get(), L2TP_ATTR_CONN_ID, 1);
  nla_put_u32(e.get(), L2TP_ATTR_SESSION_ID, 2);
  nla_put_u16(e.get(), L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH);
  auto ppp = ParsePppSessionReply(nlmsg_hdr(e.get()));
  ASSERT_TRUE(ppp.ok());
  EXPECT_FALSE(ppp->has_value());
  Msg untyped = Reply(L2TP_CMD_SESSION_GET);  // no PW_TYPE: Ethernet, as before
  nla_put_u32(untyped.get(), L2TP_ATTR_CONN_ID, 1);
  nla_put_u32(untyped.get(), L2TP_ATTR_SESSION_ID, 2);
  ppp = ParsePppSessionReply(nlmsg_hdr(untyped.get()));
  ASSERT_TRUE(ppp.ok());
  EXPECT_FALSE(ppp->has_value());
}

// What Observe lists: Ethernet and PPP sessions, the PPP ones marked.
TEST(ObservedSessionReply, EthernetAndPppSessionsPppMarkedOthersSkipped) {
  Msg eth = Reply(L2TP_CMD_SESSION_GET);
  nla_put_u32(eth.get(), L2TP_ATTR_CONN_ID, 1);
  nla_put_u32(eth.get(), L2TP_ATTR_SESSION_ID, 2);
  nla_put_u16(eth.get(), L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH);
  nla_put_string(eth.get(), L2TP_ATTR_IFNAME, "l2tpeth0");
  auto e = ParseObservedSessionReply(nlmsg_hdr(eth.get()));
  ASSERT_TRUE(e.ok() && e->has_value()) << e.status();
  EXPECT_FALSE((*e)->ppp);
  EXPECT_EQ((*e)->config.interface_name, "l2tpeth0");

  // An L2TPv2 PPP session: 16-bit ids, no cookies; the kernel reports no
  // interface name for it (ignored if it did: pppN is pppd's).
  Msg ppp = Reply(L2TP_CMD_SESSION_GET);
  nla_put_u32(ppp.get(), L2TP_ATTR_CONN_ID, 3);
  nla_put_u32(ppp.get(), L2TP_ATTR_PEER_CONN_ID, 4);
  nla_put_u32(ppp.get(), L2TP_ATTR_SESSION_ID, 5);
  nla_put_u32(ppp.get(), L2TP_ATTR_PEER_SESSION_ID, 6);
  nla_put_u16(ppp.get(), L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_PPP);
  nla_put_string(ppp.get(), L2TP_ATTR_IFNAME, "ppp0");
  nla_put_u8(ppp.get(), L2TP_ATTR_RECV_SEQ, 1);
  nla_put_u8(ppp.get(), L2TP_ATTR_SEND_SEQ, 0);
  nla_put_u8(ppp.get(), L2TP_ATTR_LNS_MODE, 0);
  PutStats(ppp.get(), 0, true);
  auto p = ParseObservedSessionReply(nlmsg_hdr(ppp.get()));
  ASSERT_TRUE(p.ok() && p->has_value()) << p.status();
  EXPECT_TRUE((*p)->ppp);
  EXPECT_EQ((*p)->config.tunnel_id, 3u);
  EXPECT_EQ((*p)->config.session_id, 5u);
  EXPECT_EQ((*p)->config.peer_session_id, 6u);
  EXPECT_TRUE((*p)->config.require_sequence);
  EXPECT_TRUE((*p)->config.interface_name.empty());
  EXPECT_FALSE((*p)->mtu_known);
  EXPECT_FALSE((*p)->l2spec_known);
  EXPECT_EQ((*p)->counters.rx_packets, static_cast<uint64_t>(L2TP_ATTR_RX_PACKETS));
  auto only_ppp = ParsePppSessionReply(nlmsg_hdr(ppp.get()));
  ASSERT_TRUE(only_ppp.ok() && only_ppp->has_value());
  EXPECT_TRUE((*only_ppp)->ppp);

  Msg other = Reply(L2TP_CMD_SESSION_GET);  // e.g. L2TP_PWTYPE_NONE
  nla_put_u32(other.get(), L2TP_ATTR_CONN_ID, 1);
  nla_put_u32(other.get(), L2TP_ATTR_SESSION_ID, 9);
  nla_put_u16(other.get(), L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_NONE);
  auto o = ParseObservedSessionReply(nlmsg_hdr(other.get()));
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->has_value());
}

}  // namespace
}  // namespace l2tp::kernel
