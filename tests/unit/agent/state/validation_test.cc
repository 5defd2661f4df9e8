#include "agent/state/validation.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>

#include "agent/state/names.h"
#include "agent/state/spec_defaults.h"
#include "agent/state/state_check.h"
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
        BadSession{"ppp", [](v1::Session* s) { s->mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP); }, "sessions[2].spec.pseudowire", "need a DYNAMIC tunnel"},
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

// ---------------------------------------------------------------- DYNAMIC tunnels (issue 13)

using Control = v1::TunnelControl;

// A valid DYNAMIC L2TPv3 tunnel: ids 0 (picked, learned), an INITIATOR.
v1::Tunnel MakeDynamicTunnel(const std::string& name, const std::string& local = "192.0.2.1",
                             const std::string& remote = "192.0.2.2") {
  v1::Tunnel t = MakeTunnel(name, 0, local, remote);
  t.mutable_spec()->set_peer_tunnel_id(0);
  t.mutable_spec()->mutable_control()->set_mode(Control::MODE_DYNAMIC);
  t.mutable_spec()->mutable_control()->set_role(Control::ROLE_INITIATOR);
  return t;
}

// A valid session of a DYNAMIC L2TPv3 tunnel: ids 0, a Remote End ID.
v1::Session MakeDynamicSession(const std::string& name, const std::string& tunnel,
                               const std::string& remote_end_id) {
  v1::Session s = MakeSession(name, tunnel, 0);
  s.mutable_spec()->set_peer_session_id(0);
  s.mutable_spec()->set_remote_end_id(remote_end_id);
  return s;
}

google::protobuf::Duration Seconds(int64_t seconds, int32_t nanos = 0) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  d.set_nanos(nanos);
  return d;
}

// A STATIC tunnel (control unset, mode UNSPECIFIED or STATIC) takes no other
// control field.
class StaticControlFieldTest : public ::testing::TestWithParam<BadTunnel> {};

TEST_P(StaticControlFieldTest, IsRejectedNamingFieldAndReason) {
  v1::Tunnel t = MakeTunnel("t1", 10);
  GetParam().mutate(&t);
  auto violations = ValidateTunnel(t, "tunnels[0]");
  ASSERT_EQ(violations.size(), 1u) << GetParam().what;
  EXPECT_EQ(violations[0].field, GetParam().field);
  EXPECT_THAT(violations[0].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, StaticControlFieldTest,
    ::testing::Values(
        BadTunnel{"role, mode unset",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->mutable_control()->set_role(Control::ROLE_INITIATOR);
                  },
                  "tunnels[0].spec.control.role",
                  "only for DYNAMIC tunnels; control.mode is unset, which means STATIC"},
        BadTunnel{"role, mode STATIC",
                  [](v1::Tunnel* t) {
                    auto* k = t->mutable_spec()->mutable_control();
                    k->set_mode(Control::MODE_STATIC);
                    k->set_role(Control::ROLE_RESPONDER);
                  },
                  "tunnels[0].spec.control.role", "only for DYNAMIC tunnels; control.mode is STATIC"},
        BadTunnel{"host_name",
                  [](v1::Tunnel* t) { t->mutable_spec()->mutable_control()->set_host_name("lac"); },
                  "tunnels[0].spec.control.host_name", "only for DYNAMIC tunnels"},
        BadTunnel{"secret_file",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->mutable_control()->set_secret_file("/etc/l2tp/secret");
                  },
                  "tunnels[0].spec.control.secret_file", "only for DYNAMIC tunnels"},
        BadTunnel{"hello_interval",
                  [](v1::Tunnel* t) {
                    *t->mutable_spec()->mutable_control()->mutable_hello_interval() = Seconds(60);
                  },
                  "tunnels[0].spec.control.hello_interval", "only for DYNAMIC tunnels"},
        BadTunnel{"hello_interval set to 0",
                  [](v1::Tunnel* t) { t->mutable_spec()->mutable_control()->mutable_hello_interval(); },
                  "tunnels[0].spec.control.hello_interval", "only for DYNAMIC tunnels"},
        BadTunnel{"retransmit_retries",
                  [](v1::Tunnel* t) { t->mutable_spec()->mutable_control()->set_retransmit_retries(5); },
                  "tunnels[0].spec.control.retransmit_retries", "only for DYNAMIC tunnels"},
        BadTunnel{"receive_window",
                  [](v1::Tunnel* t) { t->mutable_spec()->mutable_control()->set_receive_window(4); },
                  "tunnels[0].spec.control.receive_window", "only for DYNAMIC tunnels"},
        BadTunnel{"unknown mode",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->mutable_control()->set_mode(static_cast<Control::Mode>(9));
                  },
                  "tunnels[0].spec.control.mode", "unknown mode 9; use STATIC or DYNAMIC"},
        BadTunnel{"v2, mode STATIC",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->mutable_control()->set_mode(Control::MODE_STATIC);
                    t->mutable_spec()->set_version(2);
                  },
                  "tunnels[0].spec.version", "set control.mode to DYNAMIC, or use 3"},
        BadTunnel{"zero id, mode STATIC",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->mutable_control()->set_mode(Control::MODE_STATIC);
                    t->mutable_spec()->set_tunnel_id(0);
                  },
                  "tunnels[0].spec.tunnel_id", "must be non-zero"},
        BadTunnel{"zero peer id, mode UNSPECIFIED",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->mutable_control();
                    t->mutable_spec()->set_peer_tunnel_id(0);
                  },
                  "tunnels[0].spec.peer_tunnel_id", "must be non-zero"}));

TEST(StaticControlTest, AStaticTunnelWithoutControlIsJudgedAsBefore) {
  v1::Tunnel t = MakeTunnel("t1", 10);
  EXPECT_TRUE(ValidateTunnel(t, "t").empty());
  t.mutable_spec()->mutable_control()->set_mode(Control::MODE_STATIC);
  EXPECT_TRUE(ValidateTunnel(t, "t").empty()) << "explicit STATIC";
  t.mutable_spec()->mutable_control()->set_mode(Control::MODE_UNSPECIFIED);
  EXPECT_TRUE(ValidateTunnel(t, "t").empty()) << "control present, mode unset";

  // The rules of a STATIC tunnel, each as before: zero ids, v2.
  v1::Tunnel bad = MakeTunnel("t1", 0);
  bad.mutable_spec()->set_peer_tunnel_id(0);
  bad.mutable_spec()->set_version(2);
  auto v = ValidateTunnel(bad, "tunnels[0]");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].field, "tunnels[0].spec.version");
  EXPECT_EQ(v[1].field, "tunnels[0].spec.tunnel_id");
  EXPECT_EQ(v[2].field, "tunnels[0].spec.peer_tunnel_id");
  bad.mutable_spec()->mutable_control()->set_mode(Control::MODE_STATIC);
  auto with_control = ValidateTunnel(bad, "tunnels[0]");
  ASSERT_EQ(with_control.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(with_control[i].field, v[i].field);
    EXPECT_EQ(with_control[i].reason, v[i].reason);
  }
}

class BadDynamicTunnelTest : public ::testing::TestWithParam<BadTunnel> {};

TEST_P(BadDynamicTunnelTest, IsRejectedNamingFieldAndReason) {
  v1::Tunnel t = MakeDynamicTunnel("t1");
  ASSERT_TRUE(ValidateTunnel(t, "tunnels[0]").empty());
  GetParam().mutate(&t);
  auto violations = ValidateTunnel(t, "tunnels[0]");
  ASSERT_EQ(violations.size(), 1u) << GetParam().what;
  EXPECT_EQ(violations[0].field, GetParam().field);
  EXPECT_THAT(violations[0].reason, HasSubstr(GetParam().reason));
}

v1::TunnelControl* Ctl(v1::Tunnel* t) { return t->mutable_spec()->mutable_control(); }

INSTANTIATE_TEST_SUITE_P(
    Table, BadDynamicTunnelTest,
    ::testing::Values(
        BadTunnel{"no role", [](v1::Tunnel* t) { Ctl(t)->clear_role(); }, "tunnels[0].spec.control.role",
                  "required for DYNAMIC tunnels: INITIATOR or RESPONDER"},
        BadTunnel{"unknown role", [](v1::Tunnel* t) { Ctl(t)->set_role(static_cast<Control::Role>(5)); },
                  "tunnels[0].spec.control.role", "unknown role 5; use INITIATOR or RESPONDER"},
        BadTunnel{"peer tunnel id", [](v1::Tunnel* t) { t->mutable_spec()->set_peer_tunnel_id(7); },
                  "tunnels[0].spec.peer_tunnel_id",
                  "must be 0: learned from the peer in DYNAMIC tunnels, got 7"},
        BadTunnel{"v2 id over 16 bits",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->set_version(2);
                    t->mutable_spec()->set_tunnel_id(65536);
                  },
                  "tunnels[0].spec.tunnel_id", "must fit in 16 bits for L2TPv2, got 65536"},
        BadTunnel{"v4", [](v1::Tunnel* t) { t->mutable_spec()->set_version(4); }, "tunnels[0].spec.version",
                  "must be 3, or 2 for L2TPv2, got 4"},
        BadTunnel{"v2 over IP",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->set_version(2);
                    t->mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
                  },
                  "tunnels[0].spec.encap", "L2TPv2 runs over UDP only"},
        BadTunnel{"no remote, INITIATOR", [](v1::Tunnel* t) { t->mutable_spec()->set_remote(""); },
                  "tunnels[0].spec.remote",
                  "required: the IPv4 or IPv6 address the INITIATOR sends its SCCRQ to"},
        BadTunnel{"no remote, RESPONDER",
                  [](v1::Tunnel* t) {
                    Ctl(t)->set_role(Control::ROLE_RESPONDER);
                    t->mutable_spec()->set_remote("");
                  },
                  "tunnels[0].spec.remote", "required: an IPv4 or IPv6 address"},
        BadTunnel{"hello interval of 0", [](v1::Tunnel* t) { Ctl(t)->mutable_hello_interval(); },
                  "tunnels[0].spec.control.hello_interval", "must be at least 1s, got 0s"},
        BadTunnel{"hello interval under 1s",
                  [](v1::Tunnel* t) { *Ctl(t)->mutable_hello_interval() = Seconds(0, 999999999); },
                  "tunnels[0].spec.control.hello_interval", "at least 1s"},
        BadTunnel{"hello interval over 1h",
                  [](v1::Tunnel* t) { *Ctl(t)->mutable_hello_interval() = Seconds(3600, 1); },
                  "tunnels[0].spec.control.hello_interval", "must be at most 1h, got 3600.000000001s"},
        BadTunnel{"negative hello interval",
                  [](v1::Tunnel* t) { *Ctl(t)->mutable_hello_interval() = Seconds(-5); },
                  "tunnels[0].spec.control.hello_interval", "must not be negative"},
        BadTunnel{"hello nanos overflow",
                  [](v1::Tunnel* t) { *Ctl(t)->mutable_hello_interval() = Seconds(2, 1000000000); },
                  "tunnels[0].spec.control.hello_interval", "below one second"},
        BadTunnel{"21 retries", [](v1::Tunnel* t) { Ctl(t)->set_retransmit_retries(21); },
                  "tunnels[0].spec.control.retransmit_retries", "must be at most 20 (0 means 5), got 21"},
        BadTunnel{"window 257", [](v1::Tunnel* t) { Ctl(t)->set_receive_window(257); },
                  "tunnels[0].spec.control.receive_window", "must be at most 256 (0 means 4), got 257"},
        BadTunnel{"long host name", [](v1::Tunnel* t) { Ctl(t)->set_host_name(std::string(256, 'h')); },
                  "tunnels[0].spec.control.host_name", "must be at most 255 bytes, got 256"},
        BadTunnel{"host name with a space", [](v1::Tunnel* t) { Ctl(t)->set_host_name("lac one"); },
                  "tunnels[0].spec.control.host_name", "printable ASCII without spaces, got \"lac one\""},
        BadTunnel{"host name with a control char", [](v1::Tunnel* t) { Ctl(t)->set_host_name("lac\x01"); },
                  "tunnels[0].spec.control.host_name", "got \"lac\\x01\""},
        BadTunnel{"host name not ASCII", [](v1::Tunnel* t) { Ctl(t)->set_host_name("caf\xc3\xa9"); },
                  "tunnels[0].spec.control.host_name", "printable ASCII"},
        BadTunnel{"relative secret file",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->set_version(2);
                    Ctl(t)->set_secret_file("etc/secret");
                  },
                  "tunnels[0].spec.control.secret_file", "must be an absolute path, got \"etc/secret\""},
        BadTunnel{"secret file with NUL",
                  [](v1::Tunnel* t) {
                    t->mutable_spec()->set_version(2);
                    Ctl(t)->set_secret_file(std::string("/etc/s\0x", 9));
                  },
                  "tunnels[0].spec.control.secret_file", "NUL"},
        BadTunnel{"static id rule does not apply, but the address rules do",
                  [](v1::Tunnel* t) { t->mutable_spec()->set_local("0.0.0.0"); }, "tunnels[0].spec.local",
                  "concrete"}));

TEST(DynamicTunnelValidationTest, ValidDynamicTunnelsPass) {
  v1::Tunnel t = MakeDynamicTunnel("t1");
  EXPECT_TRUE(ValidateTunnel(t, "t").empty()) << "ids 0: picked and learned";
  t.mutable_spec()->set_tunnel_id(4000000000u);
  EXPECT_TRUE(ValidateTunnel(t, "t").empty()) << "a chosen 32-bit id";
  t.mutable_spec()->set_version(2);
  t.mutable_spec()->set_tunnel_id(65535);
  EXPECT_TRUE(ValidateTunnel(t, "t").empty()) << "L2TPv2, 16-bit id";
  t.mutable_spec()->set_tunnel_id(0);
  EXPECT_TRUE(ValidateTunnel(t, "t").empty()) << "L2TPv2, id picked";

  v1::Tunnel r = MakeDynamicTunnel("t2", "2001:db8::1", "2001:db8::2");
  auto* k = Ctl(&r);
  k->set_role(Control::ROLE_RESPONDER);
  k->set_host_name("lns-1.example");
  *k->mutable_hello_interval() = Seconds(1);
  k->set_retransmit_retries(20);
  k->set_receive_window(256);
  r.mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  EXPECT_TRUE(ValidateTunnel(r, "t").empty());
  *k->mutable_hello_interval() = Seconds(3600);
  EXPECT_TRUE(ValidateTunnel(r, "t").empty()) << "exactly 1h";
  k->set_host_name(std::string(255, 'h'));
  EXPECT_TRUE(ValidateTunnel(r, "t").empty()) << "255 bytes";
}

// ---------------------------------------------------------------- sessions of DYNAMIC tunnels

struct BadDynamicSession {
  const char* what;
  std::function<void(v1::Session*)> mutate;
  const char* field;
  const char* reason;
};

class BadDynamicSessionTest : public ::testing::TestWithParam<BadDynamicSession> {};

TEST_P(BadDynamicSessionTest, IsRejectedNamingFieldAndReason) {
  const v1::Tunnel t = MakeDynamicTunnel("t1");
  v1::Session s = MakeDynamicSession("s1", "t1", "pw-1");
  ASSERT_TRUE(ValidateSessionOfTunnel(s, t.spec(), "sessions[2]").empty());
  GetParam().mutate(&s);
  auto violations = ValidateSessionOfTunnel(s, t.spec(), "sessions[2]");
  ASSERT_EQ(violations.size(), 1u) << GetParam().what;
  EXPECT_EQ(violations[0].field, GetParam().field);
  EXPECT_THAT(violations[0].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadDynamicSessionTest,
    ::testing::Values(
        BadDynamicSession{"peer session id",
                          [](v1::Session* s) { s->mutable_spec()->set_peer_session_id(9); },
                          "sessions[2].spec.peer_session_id",
                          "must be 0: learned from the peer in DYNAMIC tunnels, got 9"},
        BadDynamicSession{
            "cookie", [](v1::Session* s) { s->mutable_spec()->set_cookie("a1b2c3d4"); },
            "sessions[2].spec.cookie",
            "learned from the peer (Assigned Cookie) in DYNAMIC tunnels; set peer_cookie for what this end requires"},
        BadDynamicSession{"malformed cookie: refused once",
                          [](v1::Session* s) { s->mutable_spec()->set_cookie("xyz"); },
                          "sessions[2].spec.cookie", "Assigned Cookie"},
        BadDynamicSession{"malformed peer cookie",
                          [](v1::Session* s) { s->mutable_spec()->set_peer_cookie("abc"); },
                          "sessions[2].spec.peer_cookie", "even number"},
        BadDynamicSession{"no remote end id",
                          [](v1::Session* s) { s->mutable_spec()->clear_remote_end_id(); },
                          "sessions[2].spec.remote_end_id",
                          "required for sessions of DYNAMIC L2TPv3 tunnels"},
        BadDynamicSession{"long remote end id",
                          [](v1::Session* s) { s->mutable_spec()->set_remote_end_id(std::string(256, 'r')); },
                          "sessions[2].spec.remote_end_id", "must be at most 255 bytes, got 256"},
        BadDynamicSession{"unprintable remote end id",
                          [](v1::Session* s) { s->mutable_spec()->set_remote_end_id("pw\n1"); },
                          "sessions[2].spec.remote_end_id", "must be printable ASCII, got \"pw\\n1\""},
        BadDynamicSession{"ppp without pseudowire PPP",
                          [](v1::Session* s) { s->mutable_spec()->mutable_ppp()->set_user("u"); },
                          "sessions[2].spec.ppp",
                          "only for PPP pseudowires; pseudowire is unset, which means ETH: set pseudowire to "
                          "PPP, or leave ppp unset"},
        BadDynamicSession{"bad name", [](v1::Session* s) { s->set_name("S1"); }, "sessions[2].name",
                          "lower-case"}));

TEST(DynamicSessionValidationTest, ValidDynamicSessionsPass) {
  const v1::Tunnel t = MakeDynamicTunnel("t1");
  v1::Session s = MakeDynamicSession("s1", "t1", "pw-1");
  EXPECT_TRUE(ValidateSessionOfTunnel(s, t.spec(), "s").empty()) << "session_id 0: picked";
  s.mutable_spec()->set_session_id(77);
  s.mutable_spec()->set_peer_cookie("0011223344556677");  // what this end requires
  s.mutable_spec()->set_remote_end_id(std::string(255, '~'));
  EXPECT_TRUE(ValidateSessionOfTunnel(s, t.spec(), "s").empty());
  s.mutable_spec()->set_remote_end_id("site b / port 3");  // printable, spaces too
  EXPECT_TRUE(ValidateSessionOfTunnel(s, t.spec(), "s").empty());
}

TEST(DynamicSessionValidationTest, RemoteEndIdOnlyInDynamicL2tpv3Tunnels) {
  v1::Session s = MakeSession("s1", "t1", 5);
  s.mutable_spec()->set_remote_end_id("pw-1");
  for (const auto& v : {ValidateSession(s, "sessions[0]"),
                        ValidateSessionOfTunnel(s, MakeTunnel("t1", 1).spec(), "sessions[0]")}) {
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].field, "sessions[0].spec.remote_end_id");
    EXPECT_THAT(v[0].reason, HasSubstr("only for sessions of DYNAMIC L2TPv3 tunnels"));
  }
  EXPECT_THAT(ValidateSessionOfTunnel(s, MakeTunnel("t1", 1).spec(), "s")[0].reason,
              HasSubstr("tunnel \"t1\" is STATIC"));
}

// L2TPv2 carries PPP only: an Ethernet session there is refused on its
// pseudowire, and nothing else is said about it.
TEST(DynamicSessionValidationTest, SessionsOfDynamicL2tpv2TunnelsMustBePpp) {
  v1::Tunnel t = MakeDynamicTunnel("t1");
  t.mutable_spec()->set_version(2);
  for (v1::Session s : {MakeDynamicSession("s1", "t1", "pw-1"), MakeSession("s1", "t1", 5)}) {
    auto v = ValidateSessionOfTunnel(s, t.spec(), "sessions[0]");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].field, "sessions[0].spec.pseudowire");
    EXPECT_EQ(v[0].reason,
              "must be PPP: tunnel \"t1\" is L2TPv2, which carries PPP only (RFC 2661); got unset, "
              "which means ETH");
  }
}

// Without the tunnel, and in a STATIC one, a session is judged as always.
TEST(DynamicSessionValidationTest, StaticSessionsAreJudgedAsBefore) {
  const v1::Tunnel st = MakeTunnel("t1", 1);
  std::vector<std::function<void(v1::Session*)>> mutations = {
      [](v1::Session*) {},
      [](v1::Session* s) { s->mutable_spec()->set_session_id(0); },
      [](v1::Session* s) {
        s->mutable_spec()->set_peer_session_id(0);
        s->set_name("X");
      },
      [](v1::Session* s) {
        s->mutable_spec()->set_cookie("abc");
        s->mutable_spec()->set_mtu(1);
      },
      [](v1::Session* s) {
        s->mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_NONE);
        s->mutable_spec()->set_send_sequence(true);
        s->mutable_spec()->set_session_id(0);
      },
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    v1::Session s = MakeSession("s1", "t1", 5);
    mutations[i](&s);
    auto a = ValidateSession(s, "sessions[1]");
    auto b = ValidateSessionOfTunnel(s, st.spec(), "sessions[1]");
    ASSERT_EQ(a.size(), b.size()) << i;
    for (size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(a[j].field, b[j].field) << i;
      EXPECT_EQ(a[j].reason, b[j].reason) << i;
    }
  }
}

// The registry's two passes: the rules that hold in any tunnel, then the
// rest once the tunnel is known.
TEST(DynamicSessionValidationTest, AloneThenInTheTunnel) {
  v1::Session s = MakeSession("s1", "t1", 0);
  s.mutable_spec()->set_peer_session_id(5);
  s.mutable_spec()->set_cookie("a1b2c3d4");
  s.mutable_spec()->set_remote_end_id("pw-1");
  EXPECT_TRUE(ValidateSessionAlone(s, "s").empty()) << "every one of these depends on the tunnel";
  s.set_name("S");
  ASSERT_EQ(ValidateSessionAlone(s, "sessions[0]").size(), 1u);
  s.set_name("s1");

  DesiredState next;
  next.tunnels["t1"] = MakeDynamicTunnel("t1");
  next.tunnels["st"] = MakeTunnel("st", 9, "192.0.2.1", "192.0.2.9");
  next.sessions["s1"] = s;
  auto v = ValidateSessionsInTunnels(next, {{"session/s1", "sessions[3]"}});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "sessions[3].spec.peer_session_id");
  EXPECT_EQ(v[1].field, "sessions[3].spec.cookie");
  EXPECT_TRUE(ValidateSessionsInTunnels(next, {}).empty()) << "nothing touched: stored, valid before";

  // A stored session of a tunnel the write makes DYNAMIC: reported on the tunnel.
  next.sessions["s1"] = MakeSession("s1", "t1", 5);
  v = ValidateSessionsInTunnels(next, {{"tunnel/t1", "tunnels[0]"}});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "tunnels[0].spec");
  EXPECT_THAT(v[0].reason, HasSubstr("session \"s1\" of this tunnel does not fit it as changed: "
                                     "spec.peer_session_id: must be 0"));
  EXPECT_THAT(v[1].reason, HasSubstr("spec.remote_end_id: required"));

  // A session of a missing tunnel is the caller's to report.
  next.sessions["s2"] = MakeSession("s2", "gone", 5);
  EXPECT_TRUE(ValidateSessionsInTunnels(next, {{"session/s2", "sessions[0]"}}).empty());
  // In a STATIC tunnel the STATIC rules.
  next.sessions["s3"] = MakeSession("s3", "st", 0);
  v = ValidateSessionsInTunnels(next, {{"session/s3", "sessions[1]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[1].spec.session_id");
}

// ---------------------------------------------------------------- collisions with ids 0

TEST(DynamicCollisionTest, IdZeroCollidesWithNothing) {
  DesiredState next;
  next.tunnels["a"] = MakeDynamicTunnel("a", "192.0.2.1", "192.0.2.2");
  next.tunnels["b"] = MakeDynamicTunnel("b", "192.0.2.1", "192.0.2.3");
  next.tunnels["c"] = MakeDynamicTunnel("c", "192.0.2.1", "192.0.2.4");
  next.tunnels["c"].mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  for (const auto& [tunnel, sessions] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{{"a", {"a1", "a2"}},
                                                                     {"c", {"c1", "c2"}}}) {
    for (const auto& name : sessions) {
      next.sessions[name] = MakeDynamicSession(name, tunnel, "pw-" + name);
      next.sessions[name].mutable_spec()->set_interface_name("if-" + name);
    }
  }
  std::map<std::string, std::string> all;
  for (const auto& key :
       {"tunnel/a", "tunnel/b", "tunnel/c", "session/a1", "session/a2", "session/c1", "session/c2"})
    all.emplace(key, std::string(key) + "-path");
  EXPECT_TRUE(FindCollisions(next, all).empty());

  // Non-zero ids still collide, DYNAMIC or not.
  next.tunnels["a"].mutable_spec()->set_tunnel_id(7);
  next.tunnels["b"].mutable_spec()->set_tunnel_id(7);
  auto v = FindCollisions(next, {{"tunnel/b", "tunnels[1]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "tunnels[1].spec.tunnel_id");
  next.tunnels["b"].mutable_spec()->set_tunnel_id(0);
  next.sessions["a1"].mutable_spec()->set_session_id(5);
  next.sessions["a2"].mutable_spec()->set_session_id(5);
  v = FindCollisions(next, {{"session/a2", "sessions[0]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[0].spec.session_id");
}

TEST(DynamicCollisionTest, RemoteEndIdsAreUniquePerTunnel) {
  DesiredState next;
  next.tunnels["a"] = MakeDynamicTunnel("a", "192.0.2.1", "192.0.2.2");
  next.tunnels["b"] = MakeDynamicTunnel("b", "192.0.2.1", "192.0.2.3");
  next.sessions["s1"] = MakeDynamicSession("s1", "a", "pw-1");
  next.sessions["s2"] = MakeDynamicSession("s2", "a", "pw-1");
  next.sessions["s3"] = MakeDynamicSession("s3", "b", "pw-1");
  for (const char* n : {"s1", "s2", "s3"}) next.sessions[n].mutable_spec()->set_interface_name(n);
  auto v = FindCollisions(next, {{"session/s2", "sessions[4]"}, {"session/s3", "sessions[5]"}});
  ASSERT_EQ(v.size(), 1u) << "the same id in another tunnel is fine";
  EXPECT_EQ(v[0].field, "sessions[4].spec.remote_end_id");
  EXPECT_EQ(v[0].reason, "remote_end_id \"pw-1\" in tunnel \"a\" is already used by session \"s1\"");
}

// One socket per tunnel, bound to local:port and connected to remote:port,
// DYNAMIC or STATIC.
TEST(DynamicCollisionTest, DynamicTunnelsWithTheSameEndpointsCollide) {
  DesiredState next;
  next.tunnels["a"] = MakeTunnel("a", 1);
  next.tunnels["b"] = MakeDynamicTunnel("b");
  auto v = FindCollisions(next, {{"tunnel/b", "tunnels[0]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "tunnels[0].spec.remote");
  next.tunnels["a"] = MakeDynamicTunnel("a");
  v = FindCollisions(next, {{"tunnel/b", "tunnels[0]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_THAT(v[0].reason, HasSubstr("has the same endpoints as tunnel \"a\""));
}

// ---------------------------------------------------------------- DYNAMIC tunnels on one socket tuple

// Two tunnels, "a" stored (version 1) and "b" written (version 2), both
// DYNAMIC INITIATORs from fd50::1 to fd50::2 over `encap` unless `mutate`
// changes them, checked as CheckNextState does: normalised (ports 1701,
// canonical addresses), FindCollisions and FindSharedDynamicEndpoints in one list.
struct EndpointPair {
  const char* what;
  v1::Encapsulation encap;
  std::function<void(v1::Tunnel* a, v1::Tunnel* b)> mutate;
  const char* reason;  // nullptr: accepted
};

class DynamicEndpointsTest : public ::testing::TestWithParam<EndpointPair> {};

TEST_P(DynamicEndpointsTest, OneSocketTupleIsRefusedNamingBothTunnels) {
  v1::Tunnel a = MakeDynamicTunnel("a", "fd50::1", "fd50::2");
  v1::Tunnel b = MakeDynamicTunnel("b", "fd50::1", "fd50::2");
  a.mutable_spec()->set_encap(GetParam().encap);
  b.mutable_spec()->set_encap(GetParam().encap);
  GetParam().mutate(&a, &b);
  DesiredState next;
  for (v1::Tunnel* t : {&a, &b}) {
    ASSERT_TRUE(ValidateTunnel(*t, "tunnels[0]").empty()) << GetParam().what << ": each valid alone";
    NormalizeTunnelSpec(t->mutable_spec());
  }
  a.set_resource_version("1");
  b.set_resource_version("2");
  next.tunnels = {{"a", a}, {"b", b}};
  const std::map<std::string, std::string> paths{{"tunnel/b", "tunnels[1]"}};
  auto v = FindCollisions(next, paths);
  auto shared = FindSharedDynamicEndpoints(next, paths);
  v.insert(v.end(), shared.begin(), shared.end());
  if (GetParam().reason == nullptr) {
    EXPECT_TRUE(v.empty()) << GetParam().what << ": " << (v.empty() ? "" : v[0].reason);
    return;
  }
  ASSERT_EQ(v.size(), 1u) << GetParam().what;
  EXPECT_EQ(v[0].field, "tunnels[1].spec.remote");
  EXPECT_EQ(v[0].reason, GetParam().reason) << GetParam().what;
}

void Responder(v1::Tunnel* t) { Ctl(t)->set_role(Control::ROLE_RESPONDER); }
void Static(v1::Tunnel* t) {
  t->mutable_spec()->clear_control();
  t->mutable_spec()->set_tunnel_id(7);
  t->mutable_spec()->set_peer_tunnel_id(1007);
}
void Ipv4(v1::Tunnel* t) {
  t->mutable_spec()->set_local("192.0.2.1");
  t->mutable_spec()->set_remote("192.0.2.2");
}
void Spell(v1::Tunnel* t, const char* local, const char* remote) {
  t->mutable_spec()->set_local(local);
  t->mutable_spec()->set_remote(remote);
}

constexpr auto kIp = v1::ENCAPSULATION_IP;
constexpr auto kUdp = v1::ENCAPSULATION_UNSPECIFIED;  // UDP by default
constexpr char kIpClash[] =
    "tunnel \"b\" has the same endpoints as tunnel \"a\" (IP from fd50::1 to fd50::2) and both are DYNAMIC: "
    "the peer's SCCRQ, addressed to connection id 0, would reach both control connections, which cannot tell "
    "whose it is; one of them needs another local or remote address";
constexpr char kIpv4Clash[] =
    "tunnel \"b\" has the same endpoints as tunnel \"a\" (IP from 192.0.2.1 to 192.0.2.2) and both are "
    "DYNAMIC: the peer's SCCRQ, addressed to connection id 0, would reach both control connections, which "
    "cannot tell whose it is; one of them needs another local or remote address";
constexpr char kUdpClash[] =
    "tunnel \"b\" has the same endpoints as tunnel \"a\" (UDP from fd50::1 port 1701 to fd50::2 port 1701); "
    "one of them needs another address or port";

// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Table, DynamicEndpointsTest,
    ::testing::Values(
        EndpointPair{"IP, two INITIATORs", kIp, [](v1::Tunnel*, v1::Tunnel*) {}, kIpClash},
        EndpointPair{"IP, two RESPONDERs", kIp, [](v1::Tunnel* a, v1::Tunnel* b) { Responder(a), Responder(b); }, kIpClash},
        EndpointPair{"IP, INITIATOR and RESPONDER", kIp, [](v1::Tunnel*, v1::Tunnel* b) { Responder(b); }, kIpClash},
        EndpointPair{"IP, other spellings", kIp, [](v1::Tunnel*, v1::Tunnel* b) { Spell(b, "fd50:0::1", "FD50:0:0::0:2"); }, kIpClash},
        EndpointPair{"IP over IPv4", kIp, [](v1::Tunnel* a, v1::Tunnel* b) { Ipv4(a), Ipv4(b); }, kIpv4Clash},
        EndpointPair{"IP, another remote", kIp, [](v1::Tunnel*, v1::Tunnel* b) { Spell(b, "fd50::1", "fd50::3"); }, nullptr},
        EndpointPair{"IP, another local", kIp, [](v1::Tunnel*, v1::Tunnel* b) { Spell(b, "fd50::3", "fd50::2"); }, nullptr},
        EndpointPair{"IP, one STATIC", kIp, [](v1::Tunnel*, v1::Tunnel* b) { Static(b); }, nullptr},
        EndpointPair{"IP and UDP", kIp, [](v1::Tunnel* a, v1::Tunnel*) { a->mutable_spec()->set_encap(v1::ENCAPSULATION_UDP); }, nullptr},
        EndpointPair{"UDP, ports unset and 1701", kUdp, [](v1::Tunnel*, v1::Tunnel* b) { b->mutable_spec()->set_udp_source_port(1701); }, kUdpClash},
        EndpointPair{"UDP, other spellings", kUdp, [](v1::Tunnel*, v1::Tunnel* b) { Spell(b, "fd50:0:0::1", "fd50::0:2"); }, kUdpClash},
        EndpointPair{"UDP, two RESPONDERs", kUdp, [](v1::Tunnel* a, v1::Tunnel* b) { Responder(a), Responder(b); }, kUdpClash},
        EndpointPair{"UDP, one STATIC", kUdp, [](v1::Tunnel*, v1::Tunnel* b) { Static(b); }, kUdpClash},
        EndpointPair{"UDP, another local port", kUdp, [](v1::Tunnel*, v1::Tunnel* b) { b->mutable_spec()->set_udp_source_port(1702); }, nullptr},
        EndpointPair{"UDP, another remote port", kUdp, [](v1::Tunnel*, v1::Tunnel* b) { b->mutable_spec()->set_udp_destination_port(1702); }, nullptr},
        EndpointPair{"UDP, another remote", kUdp, [](v1::Tunnel*, v1::Tunnel* b) { Spell(b, "fd50::1", "fd50::3"); }, nullptr}));
// clang-format on

// The older of two (by resource_version, not by name) is kept: the other is
// the one reported, or held back when a state file holds both.
TEST(DynamicEndpointsClashTest, TheOlderIsFirstAndAStoredClashStillLoads) {
  DesiredState state;
  for (const char* name : {"a", "b", "c"}) {
    v1::Tunnel t = MakeDynamicTunnel(name, "192.0.2.1", "192.0.2.2");
    t.mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
    NormalizeTunnelSpec(t.mutable_spec());
    state.tunnels[name] = t;
  }
  state.tunnels["a"].set_resource_version("12");
  state.tunnels["b"].set_resource_version("3");
  state.tunnels["c"].set_resource_version("12");
  auto clashes = FindDynamicEndpointClashes(state);
  ASSERT_EQ(clashes.size(), 2u);
  EXPECT_EQ(clashes[0].first, "b");
  EXPECT_EQ(clashes[0].later, "a");
  EXPECT_EQ(clashes[1].first, "b");
  EXPECT_EQ(clashes[1].later, "c");
  EXPECT_EQ(clashes[0].endpoints, "IP from 192.0.2.1 to 192.0.2.2");

  // Reported on the side the write touched, naming the other.
  auto v = FindSharedDynamicEndpoints(state, {{"tunnel/b", "tunnels[4]"}});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "tunnels[4].spec.remote");
  EXPECT_THAT(v[0].reason, HasSubstr("tunnel \"b\" has the same endpoints as tunnel \"a\""));
  EXPECT_THAT(v[1].reason, HasSubstr("tunnel \"b\" has the same endpoints as tunnel \"c\""));
  EXPECT_TRUE(FindSharedDynamicEndpoints(state, {}).empty()) << "untouched: valid before";

  // A state file from before the rule loads: refusing it would lose the whole state.
  l2tpagent::store::v1::State stored;
  for (const auto& [name, t] : state.tunnels) *stored.add_tunnels() = t;
  EXPECT_TRUE(CheckStoredState(stored).empty());
}

// ---------------------------------------------------------------- secret files

class SecretFileCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-secret-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& f : files_) unlink(f.c_str());
    rmdir((dir_ + "/subdir").c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(SecretFileCheckTest, AcceptsOneToMaxBytesAfterOneNewline) {
  EXPECT_EQ(SecretFileError(Write("a", "s3cret")), "");
  EXPECT_EQ(SecretFileError(Write("b", "s3cret\n")), "");
  EXPECT_EQ(SecretFileError(Write("c", "x")), "");
  EXPECT_EQ(SecretFileError(Write("d", std::string(256, 'k'))), "");
  EXPECT_EQ(SecretFileError(Write("e", std::string(256, 'k') + "\n")), "");
  EXPECT_EQ(SecretFileError(Write("f", std::string(255, 'k') + "\n\n")), "")
      << "only one newline is stripped";
}

TEST_F(SecretFileCheckTest, RefusesWithTheReasonAndNeverTheSecret) {
  EXPECT_EQ(SecretFileError(dir_ + "/missing"), "cannot read the secret file: No such file or directory");
  EXPECT_EQ(SecretFileError(Write("empty", "")), "the secret file is empty");
  EXPECT_EQ(SecretFileError(Write("nl", "\n")), "the secret file is empty");
  EXPECT_EQ(SecretFileError(Write("long", std::string(257, 'k'))),
            "the secret file is longer than 256 bytes");
  EXPECT_THAT(SecretFileError(Write("longer", std::string(256, 'k') + "\n\n")),
              HasSubstr("longer than 256 bytes"));
  EXPECT_THAT(SecretFileError(Write("huge", std::string(5000, 'k'))), HasSubstr("longer than 256 bytes"));
  ASSERT_EQ(mkdir((dir_ + "/subdir").c_str(), 0700), 0);
  EXPECT_EQ(SecretFileError(dir_ + "/subdir"), "the secret file is not a regular file");
  const std::string target = Write("target", "s3cret");
  const std::string link = dir_ + "/link";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  files_.push_back(link);
  EXPECT_EQ(SecretFileError(link), "") << "followed: Kubernetes mounts Secret keys as links";
  if (geteuid() != 0) {  // root reads anything
    const std::string locked = Write("locked", "s3cret");
    ASSERT_EQ(chmod(locked.c_str(), 0), 0);
    EXPECT_EQ(SecretFileError(locked), "cannot read the secret file: Permission denied");
  }
  for (const char* name : {"long", "huge", "target"}) {
    EXPECT_THAT(SecretFileError(dir_ + "/" + name), ::testing::Not(HasSubstr("kkkk")));
    EXPECT_THAT(SecretFileError(dir_ + "/" + name), ::testing::Not(HasSubstr("s3cret")));
  }
}

TEST_F(SecretFileCheckTest, CheckSecretFilesNamesTheFieldOfDynamicTunnelsOnly) {
  v1::ApplyRequest request;
  auto v2 = [](v1::Tunnel t) {
    t.mutable_spec()->set_version(2);
    return t;
  };
  *request.add_tunnels() = v2(MakeDynamicTunnel("ok"));
  Ctl(request.mutable_tunnels(0))->set_secret_file(Write("good", "s3cret\n"));
  *request.add_tunnels() = v2(MakeDynamicTunnel("missing"));
  Ctl(request.mutable_tunnels(1))->set_secret_file(dir_ + "/missing");
  *request.add_tunnels() = MakeDynamicTunnel("none");  // no secret file: fine
  *request.add_tunnels() = MakeDynamicTunnel("relative");
  Ctl(request.mutable_tunnels(3))->set_secret_file("missing");  // ValidateTunnel's to refuse
  *request.add_tunnels() = MakeTunnel("static", 1);
  Ctl(request.mutable_tunnels(4))->set_secret_file(dir_ + "/missing");  // ValidateTunnel's too
  *request.add_tunnels() = v2(MakeDynamicTunnel("empty"));
  Ctl(request.mutable_tunnels(5))->set_secret_file(Write("empty", ""));
  auto v = CheckSecretFiles(request);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "tunnels[1].spec.control.secret_file");
  EXPECT_EQ(v[0].reason, "cannot read the secret file: No such file or directory");
  EXPECT_EQ(v[1].field, "tunnels[5].spec.control.secret_file");
  EXPECT_EQ(v[1].reason, "the secret file is empty");
  auto st = ViolationsToStatus(absl::StatusCode::kFailedPrecondition, v);
  EXPECT_THAT(std::string(st.message()), ::testing::Not(HasSubstr("s3cret")));
}

// The state file the agent reloads at start is judged by the rules of Apply,
// DYNAMIC ones included, but its secret files are not looked at: one missing
// then must not keep the agent from starting.
TEST_F(SecretFileCheckTest, TheStateFileCheckDoesNotReadSecretFiles) {
  l2tpagent::store::v1::State state;
  v1::Tunnel t = MakeDynamicTunnel("dyn-v2", "192.0.2.5", "192.0.2.6");
  t.mutable_spec()->set_version(2);  // where secret files are used
  Ctl(&t)->set_secret_file(dir_ + "/missing");
  t.set_resource_version("1");
  *state.add_tunnels() = t;
  v1::Tunnel v3 = MakeDynamicTunnel("dyn");
  v3.set_resource_version("1");
  *state.add_tunnels() = v3;
  v1::Session s = MakeDynamicSession("pw", "dyn", "pw-1");
  s.mutable_spec()->set_interface_name(DefaultInterfaceNameForSession("pw"));
  s.set_resource_version("1");
  *state.add_sessions() = s;
  EXPECT_TRUE(CheckStoredState(state).empty());

  v1::ApplyRequest request;
  *request.add_tunnels() = t;
  EXPECT_EQ(CheckSecretFiles(request).size(), 1u) << "the same tunnel, applied";

  // A stored session is judged in its tunnel.
  state.mutable_sessions(0)->mutable_spec()->set_peer_session_id(4);
  auto v = CheckStoredState(state);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[0].spec.peer_session_id");
}

}  // namespace
}  // namespace l2tp
