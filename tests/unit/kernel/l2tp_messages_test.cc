// Golden attribute sets of every request the kernel datapath sends: each
// message is parsed back with libnl and must carry exactly these attributes.
#include "datapath/kernel/l2tp_messages.h"

#include <gtest/gtest.h>
#include <linux/l2tp.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <cstring>
#include <map>
#include <set>

namespace l2tp::kernel {
namespace {

constexpr int kFamily = 0x1d;

struct Parsed {
  int type = 0;
  int flags = 0;
  int cmd = 0;
  int version = 0;
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
  p.type = nlh->nlmsg_type;
  p.flags = nlh->nlmsg_flags;
  genlmsghdr* g = genlmsg_hdr(nlh);
  p.cmd = g->cmd;
  p.version = g->version;
  nlattr* a;
  int rem;
  nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
    EXPECT_EQ(p.attrs.count(nla_type(a)), 0u) << "attribute " << nla_type(a) << " twice";
    p.attrs[nla_type(a)] = a;
  }
  EXPECT_EQ(rem, 0) << "trailing bytes after the attributes";
  return p;
}

std::vector<uint8_t> Bytes(nlattr* a) {
  auto* p = static_cast<uint8_t*>(nla_data(a));
  return {p, p + nla_len(a)};
}

TunnelConfig Udp4() {
  TunnelConfig c;
  c.tunnel_id = 100;
  c.peer_tunnel_id = 200;
  c.local = *IpAddress::Parse("192.0.2.1");
  c.remote = *IpAddress::Parse("192.0.2.2");
  c.udp_source_port = 1701;
  c.udp_destination_port = 17001;
  return c;
}

SessionConfig Session() {
  SessionConfig c;
  c.tunnel_id = 100;
  c.session_id = 1000;
  c.peer_session_id = 2000;
  c.interface_name = "l2tp100-1000";
  c.mtu = 1400;
  return c;
}

TEST(TunnelCreate, UdpIpv4WithoutChecksumOmitsUdpCsum) {
  auto msg = BuildTunnelCreate(kFamily, Udp4());
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.type, kFamily);
  EXPECT_EQ(p.cmd, L2TP_CMD_TUNNEL_CREATE);
  EXPECT_EQ(p.version, L2TP_GENL_VERSION);
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_PEER_CONN_ID, L2TP_ATTR_PROTO_VERSION,
                                      L2TP_ATTR_ENCAP_TYPE, L2TP_ATTR_IP_SADDR, L2TP_ATTR_IP_DADDR,
                                      L2TP_ATTR_UDP_SPORT, L2TP_ATTR_UDP_DPORT}));
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_CONN_ID]), 100u);
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_PEER_CONN_ID]), 200u);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_PROTO_VERSION]), 3);
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_ENCAP_TYPE]), L2TP_ENCAPTYPE_UDP);
  EXPECT_EQ(Bytes(p.attrs[L2TP_ATTR_IP_SADDR]), (std::vector<uint8_t>{192, 0, 2, 1}));
  EXPECT_EQ(Bytes(p.attrs[L2TP_ATTR_IP_DADDR]), (std::vector<uint8_t>{192, 0, 2, 2}));
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_UDP_SPORT]), 1701);  // host order
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_UDP_DPORT]), 17001);
}

TEST(TunnelCreate, UdpChecksumSentOnlyToEnable) {
  TunnelConfig c = Udp4();
  c.udp_checksum = true;
  auto msg = BuildTunnelCreate(kFamily, c);
  ASSERT_TRUE(msg.ok());
  Parsed p = Parse(msg->get());
  ASSERT_TRUE(p.attrs.count(L2TP_ATTR_UDP_CSUM));
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_UDP_CSUM]), 1);
}

TEST(TunnelCreate, UdpIpv6WithZeroChecksumFlags) {
  TunnelConfig c = Udp4();
  c.local = *IpAddress::Parse("2001:db8::1");
  c.remote = *IpAddress::Parse("2001:db8::2");
  c.udp6_zero_checksum_tx = true;
  c.udp6_zero_checksum_rx = true;
  c.udp_checksum = true;  // IPv4 only: must not turn into UDP_CSUM
  auto msg = BuildTunnelCreate(kFamily, c);
  ASSERT_TRUE(msg.ok());
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_PEER_CONN_ID, L2TP_ATTR_PROTO_VERSION,
                                      L2TP_ATTR_ENCAP_TYPE, L2TP_ATTR_IP6_SADDR, L2TP_ATTR_IP6_DADDR,
                                      L2TP_ATTR_UDP_SPORT, L2TP_ATTR_UDP_DPORT, L2TP_ATTR_UDP_ZERO_CSUM6_TX,
                                      L2TP_ATTR_UDP_ZERO_CSUM6_RX}));
  EXPECT_EQ(Bytes(p.attrs[L2TP_ATTR_IP6_SADDR]),
            std::vector<uint8_t>(c.local.bytes.begin(), c.local.bytes.end()));
  EXPECT_EQ(Bytes(p.attrs[L2TP_ATTR_IP6_DADDR]),
            std::vector<uint8_t>(c.remote.bytes.begin(), c.remote.bytes.end()));
  EXPECT_EQ(nla_len(p.attrs[L2TP_ATTR_UDP_ZERO_CSUM6_TX]), 0);  // flags carry no payload
}

TEST(TunnelCreate, IpEncapSendsNoPorts) {
  TunnelConfig c = Udp4();
  c.encap = Encap::kIp;
  auto msg = BuildTunnelCreate(kFamily, c);
  ASSERT_TRUE(msg.ok());
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_PEER_CONN_ID, L2TP_ATTR_PROTO_VERSION,
                                      L2TP_ATTR_ENCAP_TYPE, L2TP_ATTR_IP_SADDR, L2TP_ATTR_IP_DADDR}));
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_ENCAP_TYPE]), L2TP_ENCAPTYPE_IP);
}

TEST(TunnelCreate, RejectsWhatTheKernelWouldMisread) {
  TunnelConfig mixed = Udp4();
  mixed.remote = *IpAddress::Parse("2001:db8::2");
  EXPECT_EQ(BuildTunnelCreate(kFamily, mixed).status().code(), absl::StatusCode::kInvalidArgument);
  TunnelConfig v2 = Udp4();
  v2.version = 2;
  EXPECT_EQ(BuildTunnelCreate(kFamily, v2).status().code(), absl::StatusCode::kInvalidArgument);
  TunnelConfig zero = Udp4();
  zero.tunnel_id = 0;
  EXPECT_EQ(BuildTunnelCreate(kFamily, zero).status().code(), absl::StatusCode::kInvalidArgument);
}

// Managed tunnels (DYNAMIC): the socket carries addresses, ports and checksum
// options, so the request carries only the ids, the encapsulation and FD.
TEST(TunnelCreate, ManagedUdpSendsFdInsteadOfAddressesPortsAndChecksum) {
  TunnelConfig c = Udp4();
  c.socket_fd = 7;
  c.udp_checksum = true;  // a socket option of the managed socket, not an attribute
  auto msg = BuildTunnelCreate(kFamily, c);
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.cmd, L2TP_CMD_TUNNEL_CREATE);
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_PEER_CONN_ID, L2TP_ATTR_PROTO_VERSION,
                                      L2TP_ATTR_ENCAP_TYPE, L2TP_ATTR_FD}));
  EXPECT_EQ(nla_len(p.attrs[L2TP_ATTR_FD]), 4);  // u32, as the kernel's policy says
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_FD]), 7u);
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_CONN_ID]), 100u);
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_PEER_CONN_ID]), 200u);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_PROTO_VERSION]), 3);
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_ENCAP_TYPE]), L2TP_ENCAPTYPE_UDP);
}

TEST(TunnelCreate, ManagedIpv6IpEncapWithDescriptorZero) {
  TunnelConfig c = Udp4();
  c.encap = Encap::kIp;
  c.local = *IpAddress::Parse("2001:db8::1");
  c.remote = *IpAddress::Parse("2001:db8::2");
  c.udp6_zero_checksum_tx = true;
  c.socket_fd = 0;  // a valid descriptor: managed
  auto msg = BuildTunnelCreate(kFamily, c);
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_PEER_CONN_ID, L2TP_ATTR_PROTO_VERSION,
                                      L2TP_ATTR_ENCAP_TYPE, L2TP_ATTR_FD}));
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_FD]), 0u);
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_ENCAP_TYPE]), L2TP_ENCAPTYPE_IP);
}

TEST(TunnelCreate, ManagedStillRejectsWhatTheKernelWouldMisread) {
  TunnelConfig c = Udp4();
  c.socket_fd = 7;
  c.remote = *IpAddress::Parse("2001:db8::2");
  EXPECT_EQ(BuildTunnelCreate(kFamily, c).status().code(), absl::StatusCode::kInvalidArgument);
  c = Udp4();
  c.socket_fd = 7;
  c.peer_tunnel_id = 0;  // the peer's id must be known before the datapath holds the tunnel
  EXPECT_EQ(BuildTunnelCreate(kFamily, c).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TunnelDeleteAndGet, CarryOnlyTheId) {
  auto del = BuildTunnelDelete(kFamily, 7);
  auto get = BuildTunnelGet(kFamily, 7);
  ASSERT_TRUE(del.ok() && get.ok());
  for (auto [msg, cmd] :
       {std::pair{del->get(), L2TP_CMD_TUNNEL_DELETE}, std::pair{get->get(), L2TP_CMD_TUNNEL_GET}}) {
    Parsed p = Parse(msg);
    EXPECT_EQ(p.cmd, cmd);
    EXPECT_EQ(p.types(), std::set<int>{L2TP_ATTR_CONN_ID});
    EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_CONN_ID]), 7u);
    EXPECT_EQ(p.flags & NLM_F_DUMP, 0);
  }
}

TEST(SessionCreate, MinimalSessionAlwaysNamedAndNothingIgnoredSent) {
  auto msg = BuildSessionCreate(kFamily, Session());
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.cmd, L2TP_CMD_SESSION_CREATE);
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_SESSION_ID, L2TP_ATTR_PEER_SESSION_ID,
                                      L2TP_ATTR_PW_TYPE, L2TP_ATTR_L2SPEC_TYPE, L2TP_ATTR_IFNAME,
                                      L2TP_ATTR_RECV_SEQ, L2TP_ATTR_SEND_SEQ, L2TP_ATTR_LNS_MODE}));
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_CONN_ID]), 100u);
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_SESSION_ID]), 1000u);
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_PEER_SESSION_ID]), 2000u);
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_PW_TYPE]), L2TP_PWTYPE_ETH);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_L2SPEC_TYPE]), L2TP_L2SPECTYPE_DEFAULT);
  EXPECT_STREQ(nla_get_string(p.attrs[L2TP_ATTR_IFNAME]), "l2tp100-1000");
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_RECV_SEQ]), 0);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_SEND_SEQ]), 0);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_LNS_MODE]), 0);
  // The MTU goes to the interface through rtnetlink, never as L2TP_ATTR_MTU.
  for (int never : {L2TP_ATTR_MTU, L2TP_ATTR_MRU, L2TP_ATTR_DEBUG, L2TP_ATTR_OFFSET, L2TP_ATTR_VLAN_ID,
                    L2TP_ATTR_L2SPEC_LEN, L2TP_ATTR_DATA_SEQ, L2TP_ATTR_PEER_CONN_ID}) {
    EXPECT_EQ(p.attrs.count(never), 0u) << "attribute " << never;
  }
}

TEST(SessionCreate, CookiesAreNotSwappedAndTimeoutIsU64Milliseconds) {
  SessionConfig c = Session();
  c.cookie = {1, 2, 3, 4};
  c.peer_cookie = {9, 8, 7, 6, 5, 4, 3, 2};
  c.l2spec = L2Spec::kNone;
  c.send_sequence = true;
  c.require_sequence = true;
  c.lns_mode = true;
  c.reorder_timeout_ms = 250;
  auto msg = BuildSessionCreate(kFamily, c);
  ASSERT_TRUE(msg.ok());
  Parsed p = Parse(msg->get());
  EXPECT_EQ(Bytes(p.attrs[L2TP_ATTR_COOKIE]), c.cookie);
  EXPECT_EQ(Bytes(p.attrs[L2TP_ATTR_PEER_COOKIE]), c.peer_cookie);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_L2SPEC_TYPE]), L2TP_L2SPECTYPE_NONE);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_RECV_SEQ]), 1);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_SEND_SEQ]), 1);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_LNS_MODE]), 1);
  ASSERT_TRUE(p.attrs.count(L2TP_ATTR_RECV_TIMEOUT));
  EXPECT_EQ(nla_len(p.attrs[L2TP_ATTR_RECV_TIMEOUT]), 8);
  EXPECT_EQ(nla_get_u64(p.attrs[L2TP_ATTR_RECV_TIMEOUT]), 250u);
}

TEST(SessionCreate, RejectsBadCookiesAndNames) {
  SessionConfig c = Session();
  c.cookie = {1, 2};
  EXPECT_EQ(BuildSessionCreate(kFamily, c).status().code(), absl::StatusCode::kInvalidArgument);
  c = Session();
  c.interface_name = "";
  EXPECT_EQ(BuildSessionCreate(kFamily, c).status().code(), absl::StatusCode::kInvalidArgument);
  c.interface_name = "a-name-longer-than-15";
  EXPECT_EQ(BuildSessionCreate(kFamily, c).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SessionModify, OnlyTheFourModifiableAttributesWithZeroTimeoutSent) {
  SessionConfig c = Session();
  c.send_sequence = true;
  c.cookie = {1, 2, 3, 4};  // not modifiable: must not be sent
  auto msg = BuildSessionModify(kFamily, c);
  ASSERT_TRUE(msg.ok());
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.cmd, L2TP_CMD_SESSION_MODIFY);
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_SESSION_ID, L2TP_ATTR_RECV_SEQ,
                                      L2TP_ATTR_SEND_SEQ, L2TP_ATTR_LNS_MODE, L2TP_ATTR_RECV_TIMEOUT}));
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_SEND_SEQ]), 1);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_RECV_SEQ]), 0);
  EXPECT_EQ(nla_get_u64(p.attrs[L2TP_ATTR_RECV_TIMEOUT]), 0u);
}

TEST(SessionDelete, ByTunnelAndSessionId) {
  auto msg = BuildSessionDelete(kFamily, 100, 1000);
  ASSERT_TRUE(msg.ok());
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.cmd, L2TP_CMD_SESSION_DELETE);
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_SESSION_ID}));
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_SESSION_ID]), 1000u);
}

TEST(Dump, SetsDumpFlagAndNoAttributes) {
  for (uint8_t cmd : {L2TP_CMD_TUNNEL_GET, L2TP_CMD_SESSION_GET}) {
    auto msg = BuildDump(kFamily, cmd);
    ASSERT_TRUE(msg.ok());
    Parsed p = Parse(msg->get());
    EXPECT_EQ(p.cmd, cmd);
    EXPECT_EQ(p.flags & NLM_F_DUMP, NLM_F_DUMP);
    EXPECT_TRUE(p.attrs.empty());
  }
  EXPECT_FALSE(BuildDump(kFamily, L2TP_CMD_TUNNEL_CREATE).ok());
}

// ---- PPP pseudowires (docs/kernel-datapath.md, "PPP sessions").

TEST(L2tpV2TunnelCreate, ManagedUdpWithVersion2AndFdOnly) {
  TunnelConfig c = Udp4();
  c.version = 2;
  c.socket_fd = 7;
  c.udp_checksum = true;  // a socket option of the managed socket, not an attribute
  auto msg = BuildL2tpV2TunnelCreate(kFamily, c);
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.cmd, L2TP_CMD_TUNNEL_CREATE);
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_PEER_CONN_ID, L2TP_ATTR_PROTO_VERSION,
                                      L2TP_ATTR_ENCAP_TYPE, L2TP_ATTR_FD}));
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_CONN_ID]), 100u);
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_PEER_CONN_ID]), 200u);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_PROTO_VERSION]), 2);
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_ENCAP_TYPE]), L2TP_ENCAPTYPE_UDP);
  EXPECT_EQ(nla_get_u32(p.attrs[L2TP_ATTR_FD]), 7u);
}

TEST(L2tpV2TunnelCreate, RefusesWhatL2tpV2CannotBeNamingTheField) {
  TunnelConfig c = Udp4();
  c.version = 2;
  c.socket_fd = 7;
  c.peer_tunnel_id = 65536;
  EXPECT_EQ(BuildL2tpV2TunnelCreate(kFamily, c).status().message(),
            "create tunnel 100: peer_tunnel_id 65536 does not fit L2TPv2's 16 bits (at most 65535)");
  c.peer_tunnel_id = 65535;
  EXPECT_TRUE(BuildL2tpV2TunnelCreate(kFamily, c).ok());
  c.tunnel_id = 0;
  EXPECT_EQ(BuildL2tpV2TunnelCreate(kFamily, c).status().message(),
            "create tunnel 0: tunnel_id must not be 0");
  c.tunnel_id = 100;
  c.encap = Encap::kIp;
  EXPECT_EQ(BuildL2tpV2TunnelCreate(kFamily, c).status().message(),
            "create tunnel 100: L2TPv2 runs over UDP only");
  c.encap = Encap::kUdp;
  c.socket_fd = -1;
  EXPECT_EQ(BuildL2tpV2TunnelCreate(kFamily, c).status().code(), absl::StatusCode::kInvalidArgument);
  c.socket_fd = 7;
  c.version = 3;
  EXPECT_EQ(BuildL2tpV2TunnelCreate(kFamily, c).status().code(), absl::StatusCode::kInvalidArgument);
}

// The contract lets a managed L2TPv2 tunnel through; the L2TPv3 request must
// not carry it as version 3.
TEST(L2tpV2TunnelCreate, TheL2tpV3RequestRefusesIt) {
  TunnelConfig c = Udp4();
  c.version = 2;
  c.socket_fd = 7;
  auto msg = BuildTunnelCreate(kFamily, c);
  EXPECT_EQ(msg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(msg.status().message(), "create tunnel 100: version 2 (L2TPv2 tunnels: BuildL2tpV2TunnelCreate)");
}

TEST(PppSessionCreate, L2tpV3PppWithCookiesSublayerAndOptionsButNoInterface) {
  SessionConfig c = Session();
  c.cookie = {1, 2, 3, 4};
  c.peer_cookie = {9, 8, 7, 6};
  c.send_sequence = true;
  c.reorder_timeout_ms = 200;
  auto msg = BuildPppSessionCreate(kFamily, 3, c);
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.cmd, L2TP_CMD_SESSION_CREATE);
  EXPECT_EQ(p.types(), (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_SESSION_ID, L2TP_ATTR_PEER_SESSION_ID,
                                      L2TP_ATTR_PW_TYPE, L2TP_ATTR_L2SPEC_TYPE, L2TP_ATTR_COOKIE,
                                      L2TP_ATTR_PEER_COOKIE, L2TP_ATTR_RECV_SEQ, L2TP_ATTR_SEND_SEQ,
                                      L2TP_ATTR_LNS_MODE, L2TP_ATTR_RECV_TIMEOUT}));
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_PW_TYPE]), L2TP_PWTYPE_PPP);
  EXPECT_EQ(L2TP_PWTYPE_PPP, 7);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_L2SPEC_TYPE]), L2TP_L2SPECTYPE_DEFAULT);
  EXPECT_EQ(Bytes(p.attrs[L2TP_ATTR_COOKIE]), c.cookie);
  EXPECT_EQ(Bytes(p.attrs[L2TP_ATTR_PEER_COOKIE]), c.peer_cookie);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_SEND_SEQ]), 1);
  EXPECT_EQ(nla_get_u8(p.attrs[L2TP_ATTR_RECV_SEQ]), 0);
  EXPECT_EQ(nla_get_u64(p.attrs[L2TP_ATTR_RECV_TIMEOUT]), 200u);
}

TEST(PppSessionCreate, L2tpV2SendsNoSublayerAndRefusesCookiesAndWideIds) {
  SessionConfig c = Session();
  auto msg = BuildPppSessionCreate(kFamily, 2, c);
  ASSERT_TRUE(msg.ok()) << msg.status();
  Parsed p = Parse(msg->get());
  EXPECT_EQ(p.types(),
            (std::set<int>{L2TP_ATTR_CONN_ID, L2TP_ATTR_SESSION_ID, L2TP_ATTR_PEER_SESSION_ID,
                           L2TP_ATTR_PW_TYPE, L2TP_ATTR_RECV_SEQ, L2TP_ATTR_SEND_SEQ, L2TP_ATTR_LNS_MODE}));
  EXPECT_EQ(nla_get_u16(p.attrs[L2TP_ATTR_PW_TYPE]), L2TP_PWTYPE_PPP);
  c.peer_cookie = {1, 2, 3, 4};
  EXPECT_EQ(BuildPppSessionCreate(kFamily, 2, c).status().message(),
            "create session 100/1000: peer_cookie: L2TPv2 has no cookies");
  c = Session();
  c.session_id = 70000;
  EXPECT_EQ(BuildPppSessionCreate(kFamily, 2, c).status().message(),
            "create session 100/70000: session_id 70000 does not fit L2TPv2's 16 bits (at most 65535)");
  EXPECT_TRUE(BuildPppSessionCreate(kFamily, 3, c).ok()) << "L2TPv3 ids are 32 bits";
  c.peer_session_id = 0;
  EXPECT_EQ(BuildPppSessionCreate(kFamily, 3, c).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildPppSessionCreate(kFamily, 1, Session()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace l2tp::kernel
