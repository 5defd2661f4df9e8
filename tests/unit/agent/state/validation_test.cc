#include "agent/state/validation.h"

#include <functional>

#include "agent/state/names.h"
#include "datapath/ip_address.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {
namespace {
namespace v1 = ::l2tpagent::v1;

using ::testing::HasSubstr;
using testing::MakeSession;
using testing::MakeTunnel;

struct BadTunnel {
  const char* what;
  std::function<void(v1::Tunnel*)> mutate;
  const char* field;
  const char* reason;
};

class BadTunnelTest : public ::testing::TestWithParam<BadTunnel> {};

TEST_P(BadTunnelTest, IsRejectedNamingFieldAndReason) {
  v1::Tunnel t = MakeTunnel("t1", 10);
  GetParam().mutate(&t);
  auto violations = ValidateTunnel(t, "tunnels[1]");
  ASSERT_EQ(violations.size(), 1u) << GetParam().what;
  EXPECT_EQ(violations[0].field, GetParam().field);
  EXPECT_THAT(violations[0].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadTunnelTest,
    ::testing::Values(
        BadTunnel{"empty name", [](v1::Tunnel* t) { t->set_name(""); }, "tunnels[1].name", "must not be empty"},
        BadTunnel{"upper case", [](v1::Tunnel* t) { t->set_name("Tun"); }, "tunnels[1].name", "lower-case"},
        BadTunnel{"leading dash", [](v1::Tunnel* t) { t->set_name("-t"); }, "tunnels[1].name", "start and end"},
        BadTunnel{"long name", [](v1::Tunnel* t) { t->set_name(std::string(64, 'a')); }, "tunnels[1].name", "at most 63"},
        BadTunnel{"zero id", [](v1::Tunnel* t) { t->mutable_spec()->set_tunnel_id(0); }, "tunnels[1].spec.tunnel_id", "non-zero"},
        BadTunnel{"zero peer id", [](v1::Tunnel* t) { t->mutable_spec()->set_peer_tunnel_id(0); }, "tunnels[1].spec.peer_tunnel_id", "non-zero"},
        BadTunnel{"v2", [](v1::Tunnel* t) { t->mutable_spec()->set_version(2); }, "tunnels[1].spec.version", "L2TPv2"},
        BadTunnel{"v4", [](v1::Tunnel* t) { t->mutable_spec()->set_version(4); }, "tunnels[1].spec.version", "must be 3, got 4"},
        BadTunnel{"bad encap", [](v1::Tunnel* t) { t->mutable_spec()->set_encap(static_cast<v1::Encapsulation>(9)); }, "tunnels[1].spec.encap", "unknown encapsulation"},
        BadTunnel{"no local", [](v1::Tunnel* t) { t->mutable_spec()->set_local(""); }, "tunnels[1].spec.local", "required"},
        BadTunnel{"bad local", [](v1::Tunnel* t) { t->mutable_spec()->set_local("10.0.0.300"); }, "tunnels[1].spec.local", "IPv4 or IPv6"},
        BadTunnel{"hostname remote", [](v1::Tunnel* t) { t->mutable_spec()->set_remote("peer.example"); }, "tunnels[1].spec.remote", "IPv4 or IPv6"},
        BadTunnel{"unspecified", [](v1::Tunnel* t) { t->mutable_spec()->set_local("0.0.0.0"); }, "tunnels[1].spec.local", "concrete"},
        BadTunnel{"multicast", [](v1::Tunnel* t) { t->mutable_spec()->set_remote("239.1.1.1"); }, "tunnels[1].spec.remote", "unicast"},
        BadTunnel{"mixed families", [](v1::Tunnel* t) { t->mutable_spec()->set_remote("2001:db8::2"); }, "tunnels[1].spec.remote", "same address family"},
        BadTunnel{"port too big", [](v1::Tunnel* t) { t->mutable_spec()->set_udp_source_port(70000); }, "tunnels[1].spec.udp_source_port", "port number"},
        BadTunnel{"port on IP encap", [](v1::Tunnel* t) { t->mutable_spec()->set_encap(v1::ENCAPSULATION_IP); t->mutable_spec()->set_udp_destination_port(1701); }, "tunnels[1].spec.udp_destination_port", "UDP encapsulation only"},
        BadTunnel{"v4 checksum on IP", [](v1::Tunnel* t) { t->mutable_spec()->set_encap(v1::ENCAPSULATION_IP); t->mutable_spec()->set_udp_checksum(true); }, "tunnels[1].spec.udp_checksum", "UDP over IPv4 only"},
        BadTunnel{"zero csum6 on v4", [](v1::Tunnel* t) { t->mutable_spec()->set_udp6_zero_checksum_tx(true); }, "tunnels[1].spec.udp6_zero_checksum_tx", "UDP over IPv6 only"},
        // Issue 11, item 8: addresses that parsed but can never be an endpoint.
        BadTunnel{"broadcast remote", [](v1::Tunnel* t) { t->mutable_spec()->set_remote("255.255.255.255"); }, "tunnels[1].spec.remote", "got the broadcast address \"255.255.255.255\""},
        BadTunnel{"broadcast local", [](v1::Tunnel* t) { t->mutable_spec()->set_local("255.255.255.255"); }, "tunnels[1].spec.local", "broadcast"},
        BadTunnel{"local is remote", [](v1::Tunnel* t) { t->mutable_spec()->set_remote("192.0.2.1"); }, "tunnels[1].spec.remote", "must differ from local"},
        BadTunnel{"local is remote, other spelling", [](v1::Tunnel* t) { t->mutable_spec()->set_local("2001:db8::1"); t->mutable_spec()->set_remote("2001:db8:0::0:1"); }, "tunnels[1].spec.remote", "must differ from local"},
        BadTunnel{"link-local local", [](v1::Tunnel* t) { t->mutable_spec()->set_local("fe80::1"); t->mutable_spec()->set_remote("2001:db8::2"); }, "tunnels[1].spec.local", "link-local addresses are not supported: there is no way to give a scope"},
        BadTunnel{"link-local remote, top of fe80::/10", [](v1::Tunnel* t) { t->mutable_spec()->set_local("2001:db8::1"); t->mutable_spec()->set_remote("febf::2"); }, "tunnels[1].spec.remote", "link-local"},
        BadTunnel{"scoped link-local", [](v1::Tunnel* t) { t->mutable_spec()->set_local("fe80::1%eth0"); t->mutable_spec()->set_remote("2001:db8::2"); }, "tunnels[1].spec.local", "IPv4 or IPv6"},
        BadTunnel{"v4-mapped remote", [](v1::Tunnel* t) { t->mutable_spec()->set_remote("::ffff:192.0.2.2"); }, "tunnels[1].spec.remote", "IPv4-mapped"},
        BadTunnel{"embedded NUL", [](v1::Tunnel* t) { t->mutable_spec()->set_local(std::string("10.0.1.1\0junk", 13)); }, "tunnels[1].spec.local", "got \"10.0.1.1\\x00junk\""},
        BadTunnel{"trailing newline", [](v1::Tunnel* t) { t->mutable_spec()->set_remote("192.0.2.2\n"); }, "tunnels[1].spec.remote", "got \"192.0.2.2\\n\""},
        BadTunnel{"control char in name", [](v1::Tunnel* t) { t->set_name("t\x01"); }, "tunnels[1].name", "got \"t\\x01\""},
        BadTunnel{"NUL in name", [](v1::Tunnel* t) { t->set_name(std::string("t1\0x", 4)); }, "tunnels[1].name", "lower-case"}));

struct BadSession {
  const char* what;
  std::function<void(v1::Session*)> mutate;
  const char* field;
  const char* reason;
};

class BadSessionTest : public ::testing::TestWithParam<BadSession> {};

TEST_P(BadSessionTest, IsRejectedNamingFieldAndReason) {
  v1::Session s = MakeSession("s1", "t1", 5);
  GetParam().mutate(&s);
  auto violations = ValidateSession(s, "sessions[2]");
  ASSERT_EQ(violations.size(), 1u) << GetParam().what;
  EXPECT_EQ(violations[0].field, GetParam().field);
  EXPECT_THAT(violations[0].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadSessionTest,
    ::testing::Values(
        BadSession{"3-byte cookie", [](v1::Session* s) { s->mutable_spec()->set_cookie("aabbcc"); }, "sessions[2].spec.cookie", "must be 0, 4 or 8 bytes, got 3"},
        BadSession{"odd hex", [](v1::Session* s) { s->mutable_spec()->set_peer_cookie("abc"); }, "sessions[2].spec.peer_cookie", "even number"},
        BadSession{"not hex", [](v1::Session* s) { s->mutable_spec()->set_cookie("xyz0"); }, "sessions[2].spec.cookie", "hex digits"},
        BadSession{"no tunnel", [](v1::Session* s) { s->mutable_spec()->set_tunnel(""); }, "sessions[2].spec.tunnel", "required"},
        BadSession{"zero id", [](v1::Session* s) { s->mutable_spec()->set_session_id(0); }, "sessions[2].spec.session_id", "non-zero"},
        BadSession{"zero peer id", [](v1::Session* s) { s->mutable_spec()->set_peer_session_id(0); }, "sessions[2].spec.peer_session_id", "non-zero"},
        BadSession{"ppp", [](v1::Session* s) { s->mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP); }, "sessions[2].spec.pseudowire", "not supported yet"},
        BadSession{"long ifname", [](v1::Session* s) { s->mutable_spec()->set_interface_name("abcdefghijklmnop"); }, "sessions[2].spec.interface_name", "at most 15 bytes, got 16"},
        BadSession{"slash ifname", [](v1::Session* s) { s->mutable_spec()->set_interface_name("a/b"); }, "sessions[2].spec.interface_name", "'/'"},
        BadSession{"dot ifname", [](v1::Session* s) { s->mutable_spec()->set_interface_name(".."); }, "sessions[2].spec.interface_name", "must not be"},
        BadSession{"bad sublayer", [](v1::Session* s) { s->mutable_spec()->set_l2_specific_sublayer(static_cast<v1::L2SpecificSublayer>(7)); }, "sessions[2].spec.l2_specific_sublayer", "unknown sublayer"},
        BadSession{"negative timeout", [](v1::Session* s) { s->mutable_spec()->mutable_reorder_timeout()->set_seconds(-1); }, "sessions[2].spec.reorder_timeout", "negative"},
        BadSession{"tiny mtu", [](v1::Session* s) { s->mutable_spec()->set_mtu(60); }, "sessions[2].spec.mtu", "between 68 and 65535, got 60"},
        BadSession{"bad name", [](v1::Session* s) { s->set_name("s_1"); }, "sessions[2].name", "lower-case"},
        // Issue 11, item 3: interface names the kernel would expand or that are reserved.
        BadSession{"template ifname", [](v1::Session* s) { s->mutable_spec()->set_interface_name("tap%d"); }, "sessions[2].spec.interface_name", "must not contain '%'"},
        BadSession{"ifname all", [](v1::Session* s) { s->mutable_spec()->set_interface_name("all"); }, "sessions[2].spec.interface_name", "reserved"},
        BadSession{"ifname default", [](v1::Session* s) { s->mutable_spec()->set_interface_name("default"); }, "sessions[2].spec.interface_name", "reserved"},
        BadSession{"ifname lo", [](v1::Session* s) { s->mutable_spec()->set_interface_name("lo"); }, "sessions[2].spec.interface_name", "loopback"},
        BadSession{"control char ifname", [](v1::Session* s) { s->mutable_spec()->set_interface_name("pw\x01"); }, "sessions[2].spec.interface_name", "control characters, got \"pw\\x01\""},
        BadSession{"DEL in ifname", [](v1::Session* s) { s->mutable_spec()->set_interface_name("pw\x7f"); }, "sessions[2].spec.interface_name", "control characters"},
        BadSession{"colon ifname", [](v1::Session* s) { s->mutable_spec()->set_interface_name("eth0:1"); }, "sessions[2].spec.interface_name", "':'"},
        // Issue 11, item 8: cookies that used to mean "no cookie", and the 1h bound.
        BadSession{"colons only cookie", [](v1::Session* s) { s->mutable_spec()->set_cookie(":::"); }, "sessions[2].spec.cookie", "pairs of hex digits"},
        BadSession{"bare 0x cookie", [](v1::Session* s) { s->mutable_spec()->set_peer_cookie("0x"); }, "sessions[2].spec.peer_cookie", "no digits in \"0x\"; leave it empty for no cookie"},
        BadSession{"ragged colons cookie", [](v1::Session* s) { s->mutable_spec()->set_cookie("a1b2:c3d4"); }, "sessions[2].spec.cookie", "pairs of hex digits"},
        BadSession{"timeout just over 1h", [](v1::Session* s) { auto* d = s->mutable_spec()->mutable_reorder_timeout(); d->set_seconds(3600); d->set_nanos(999999999); }, "sessions[2].spec.reorder_timeout", "must be at most 1h, got 3600.999999999s"},
        BadSession{"timeout 1h plus 1ns", [](v1::Session* s) { auto* d = s->mutable_spec()->mutable_reorder_timeout(); d->set_seconds(3600); d->set_nanos(1); }, "sessions[2].spec.reorder_timeout", "at most 1h"},
        BadSession{"timeout nanos overflow", [](v1::Session* s) { s->mutable_spec()->mutable_reorder_timeout()->set_nanos(1000000000); }, "sessions[2].spec.reorder_timeout", "below one second"},
        BadSession{"control char in tunnel", [](v1::Session* s) { s->mutable_spec()->set_tunnel("t\n1"); }, "sessions[2].spec.tunnel", "got \"t\\n1\""},
        // Issue 12: the sequence number rides in the sublayer; NONE has none.
        BadSession{"send_sequence without sublayer", [](v1::Session* s) { s->mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_NONE); s->mutable_spec()->set_send_sequence(true); }, "sessions[2].spec.send_sequence", "needs the L2-specific sublayer, which carries the sequence number, and l2_specific_sublayer is NONE"},
        BadSession{"require_sequence without sublayer", [](v1::Session* s) { s->mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_NONE); s->mutable_spec()->set_require_sequence(true); }, "sessions[2].spec.require_sequence", "every frame received would be discarded; set l2_specific_sublayer to DEFAULT (or leave it unset), or turn require_sequence off"}));

TEST(ValidationTest, ValidResourcesPass) {
  EXPECT_TRUE(ValidateTunnel(MakeTunnel("t1", 1), "t").empty());
  v1::Tunnel v6 = MakeTunnel("t6", 2, "2001:db8::1", "2001:db8::2");
  v6.mutable_spec()->set_udp6_zero_checksum_tx(true);
  EXPECT_TRUE(ValidateTunnel(v6, "t").empty());
  v1::Session s = MakeSession("s1", "t1", 5);
  s.mutable_spec()->set_cookie("0x0011223344556677");
  s.mutable_spec()->set_peer_cookie("a1:b2:c3:d4");
  s.mutable_spec()->set_mtu(1400);
  EXPECT_TRUE(ValidateSession(s, "s").empty());
}

TEST(ValidationTest, EdgesThatStayValid) {
  // Loopback endpoints are allowed (tests and single-host setups), as is
  // IPv4 link-local, which needs no scope.
  EXPECT_TRUE(ValidateTunnel(MakeTunnel("lo4", 1, "127.0.0.1", "127.0.0.2"), "t").empty());
  EXPECT_TRUE(ValidateTunnel(MakeTunnel("ll4", 1, "169.254.0.1", "169.254.0.2"), "t").empty());
  EXPECT_TRUE(ValidateTunnel(MakeTunnel("v6", 1, "fec0::1", "2001:db8::2"), "t").empty())
      << "fec0:: is not fe80::/10";
  v1::Session s = MakeSession("s1", "t1", 5);
  s.mutable_spec()->mutable_reorder_timeout()->set_seconds(3600);  // exactly 1h
  s.mutable_spec()->set_cookie("");                                // no cookie
  s.mutable_spec()->set_peer_cookie("0xa1:b2:c3:d4");
  s.mutable_spec()->set_interface_name("eth0");  // valid by rule; the datapath refuses a device not its own
  EXPECT_TRUE(ValidateSession(s, "s").empty());
}

// Issue 12: only an explicit NONE sublayer rules sequencing out; unset means DEFAULT.
TEST(ValidationTest, SequencingNeedsTheSublayer) {
  v1::Session s = MakeSession("s1", "t1", 5);
  s.mutable_spec()->set_send_sequence(true);
  s.mutable_spec()->set_require_sequence(true);
  EXPECT_TRUE(ValidateSession(s, "s").empty()) << "unset sublayer: DEFAULT";
  s.mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
  EXPECT_TRUE(ValidateSession(s, "s").empty());

  s.mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_NONE);
  auto v = ValidateSession(s, "sessions[0]");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "sessions[0].spec.send_sequence");
  EXPECT_EQ(v[1].field, "sessions[0].spec.require_sequence");
  auto st = ViolationsToStatus(absl::StatusCode::kInvalidArgument, v);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("sessions[0].spec.send_sequence: needs the L2-specific sublayer"));

  s.mutable_spec()->set_send_sequence(false);
  s.mutable_spec()->set_require_sequence(false);
  s.mutable_spec()->set_lns_mode(true);
  s.mutable_spec()->mutable_reorder_timeout()->set_seconds(1);
  EXPECT_TRUE(ValidateSession(s, "s").empty()) << "NONE without sequencing";
}

TEST(IpAddressTest, ParseRejectsTrailingBytesAndClassifies) {
  EXPECT_FALSE(IpAddress::Parse(std::string("10.0.1.1\0junk", 13)));
  EXPECT_FALSE(IpAddress::Parse(std::string("10.0.1.1\0", 9)));
  EXPECT_FALSE(IpAddress::Parse(std::string("::1\0", 4)));
  EXPECT_TRUE(IpAddress::Parse("10.0.1.1"));
  EXPECT_TRUE(IpAddress::Parse("255.255.255.255")->IsLimitedBroadcast());
  EXPECT_FALSE(IpAddress::Parse("255.255.255.254")->IsLimitedBroadcast());
  EXPECT_TRUE(IpAddress::Parse("fe80::1")->IsLinkLocal());
  EXPECT_TRUE(IpAddress::Parse("febf::1")->IsLinkLocal());
  EXPECT_FALSE(IpAddress::Parse("fec0::1")->IsLinkLocal());
  EXPECT_FALSE(IpAddress::Parse("169.254.0.1")->IsLinkLocal());
  EXPECT_TRUE(IpAddress::Parse("::ffff:10.0.0.1")->IsV4Mapped());
  EXPECT_FALSE(IpAddress::Parse("::10.0.0.1")->IsV4Mapped());
}

TEST(ValidationTest, ReportsEveryViolation) {
  v1::Tunnel t = MakeTunnel("T", 0);
  t.mutable_spec()->set_local("");
  EXPECT_EQ(ValidateTunnel(t, "tunnels[0]").size(), 3u);
}

TEST(ValidationTest, CollisionsNameTheWrittenSide) {
  DesiredState next;
  next.tunnels["a"] = MakeTunnel("a", 7);
  next.tunnels["b"] = MakeTunnel("b", 7, "192.0.2.1", "192.0.2.3");  // endpoints differ: only the id clashes
  auto v = FindCollisions(next, {{"tunnel/b", "tunnels[0]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "tunnels[0].spec.tunnel_id");
  EXPECT_THAT(v[0].reason, HasSubstr("already used by tunnel \"a\""));
}

TEST(ValidationTest, SessionIdsUniquePerTunnelAndPerHostForIpEncap) {
  DesiredState next;
  next.tunnels["u1"] = MakeTunnel("u1", 1);
  next.tunnels["u2"] = MakeTunnel("u2", 2);
  auto s1 = MakeSession("s1", "u1", 5);
  auto s2 = MakeSession("s2", "u2", 5);
  s1.mutable_spec()->set_interface_name("if1");
  s2.mutable_spec()->set_interface_name("if2");
  next.sessions["s1"] = s1;
  next.sessions["s2"] = s2;
  std::map<std::string, std::string> paths{{"session/s2", "sessions[1]"}};
  EXPECT_TRUE(FindCollisions(next, paths).empty()) << "UDP: same id in two tunnels is fine";

  next.tunnels["u1"].mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  next.tunnels["u2"].mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  auto v = FindCollisions(next, paths);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[1].spec.session_id");

  next.sessions["s3"] = MakeSession("s3", "u1", 5);
  next.sessions["s3"].mutable_spec()->set_interface_name("if3");
  v = FindCollisions(next, {{"session/s3", "sessions[0]"}});
  ASSERT_FALSE(v.empty());
  EXPECT_THAT(v[0].reason, HasSubstr("in tunnel \"u1\""));
}

TEST(ValidationTest, InterfaceNamesMustBeUnique) {
  DesiredState next;
  next.tunnels["t"] = MakeTunnel("t", 1);
  next.sessions["a"] = MakeSession("a", "t", 1);
  next.sessions["b"] = MakeSession("b", "t", 2);
  next.sessions["a"].mutable_spec()->set_interface_name("pw0");
  next.sessions["b"].mutable_spec()->set_interface_name("pw0");
  auto v = FindCollisions(next, {{"session/b", "sessions[3]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[3].spec.interface_name");
}

// Issue 11, item 4: one socket per endpoint pair.
TEST(ValidationTest, TunnelsWithTheSameEndpointsCollide) {
  DesiredState next;
  next.tunnels["a"] = MakeTunnel("a", 1);
  next.tunnels["b"] = MakeTunnel("b", 2);
  auto v = FindCollisions(next, {{"tunnel/b", "tunnels[0]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "tunnels[0].spec.remote");
  EXPECT_THAT(v[0].reason,
              HasSubstr("tunnel \"b\" has the same endpoints as tunnel \"a\" (UDP from 192.0.2.1"));

  next.tunnels["b"].mutable_spec()->set_udp_destination_port(1702);
  EXPECT_TRUE(FindCollisions(next, {{"tunnel/b", "tunnels[0]"}}).empty()) << "another port";
  next.tunnels["b"] = MakeTunnel("b", 2, "192.0.2.1", "192.0.2.3");
  EXPECT_TRUE(FindCollisions(next, {{"tunnel/b", "tunnels[0]"}}).empty())
      << "another remote on one local port";

  next.tunnels["b"] = MakeTunnel("b", 2);
  next.tunnels["b"].mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  EXPECT_TRUE(FindCollisions(next, {{"tunnel/b", "tunnels[0]"}}).empty())
      << "UDP and IP do not share a socket";
  // IP encapsulation has no ports and no tunnel id on the wire: tunnels
  // between the same two addresses are told apart by their sessions' ids.
  next.tunnels["a"].mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  EXPECT_TRUE(FindCollisions(next, {{"tunnel/a", "tunnels[3]"}}).empty())
      << "two IP tunnels, one address pair";
}

// Issue 11, item 9: a huge bad request gives a short error.
TEST(ValidationTest, HugeValuesAndManyProblemsAreCapped) {
  v1::Tunnel t = MakeTunnel("t1", 1);
  t.mutable_spec()->set_local(std::string(4'300'000, 'x') + "\n");
  auto v = ValidateTunnel(t, "tunnels[0]");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_THAT(v[0].reason, HasSubstr("\"" + std::string(kMaxQuotedBytes, 'x') + "...\" (4300001 bytes)"));
  EXPECT_LT(v[0].reason.size(), 200u);

  std::vector<Violation> many;
  for (int i = 0; i < 25; ++i) many.push_back({"tunnels[" + std::to_string(i) + "].name", "bad"});
  auto st = ViolationsToStatus(absl::StatusCode::kInvalidArgument, many);
  EXPECT_THAT(std::string(st.message()), HasSubstr("tunnels[19].name: bad; and 5 more problems"));
  EXPECT_THAT(std::string(st.message()), ::testing::Not(HasSubstr("tunnels[20]")));
}

TEST(ValidationTest, StatusJoinsViolations) {
  auto st = ViolationsToStatus(absl::StatusCode::kInvalidArgument, {{"a.b", "bad"}, {"c", "worse"}});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "a.b: bad; c: worse");
  EXPECT_TRUE(ViolationsToStatus(absl::StatusCode::kInvalidArgument, {}).ok());
}

}  // namespace
}  // namespace l2tp
