// PPP pseudowires (issue 14, docs/api.md "PPP pseudowires"): the rules of
// SessionSpec.ppp per side, the L2TPv2 rules, the LNS interface prefix,
// defaults, collisions and the files CheckSecretFiles reads.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "absl/strings/str_cat.h"
#include "agent/state/names.h"
#include "agent/state/spec_defaults.h"
#include "agent/state/state_check.h"
#include "agent/state/validation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {
namespace {
namespace v1 = ::l2tpagent::v1;
using Control = v1::TunnelControl;
using ::testing::HasSubstr;
using ::testing::Not;

// The four tunnels a PPP session can be in: the side is the role.
enum class Side { kLac3, kLns3, kLac2, kLns2 };

v1::Tunnel PppTunnel(Side side, const std::string& name = "t1") {
  v1::Tunnel t = testing::MakeTunnel(name, 0);
  t.mutable_spec()->set_peer_tunnel_id(0);
  auto* k = t.mutable_spec()->mutable_control();
  k->set_mode(Control::MODE_DYNAMIC);
  k->set_role(side == Side::kLac3 || side == Side::kLac2 ? Control::ROLE_INITIATOR : Control::ROLE_RESPONDER);
  if (side == Side::kLac2 || side == Side::kLns2) t.mutable_spec()->set_version(2);
  return t;
}

bool IsV2(Side side) { return side == Side::kLac2 || side == Side::kLns2; }
bool IsLns(Side side) { return side == Side::kLns3 || side == Side::kLns2; }

// A valid PPP session for `side`, every field of its side set.
v1::Session PppSession(Side side, const std::string& name = "s1", const std::string& tunnel = "t1") {
  v1::Session s = testing::MakeSession(name, tunnel, 0);
  auto* spec = s.mutable_spec();
  spec->set_peer_session_id(0);
  spec->set_pseudowire(v1::PSEUDOWIRE_PPP);
  if (!IsV2(side)) spec->set_remote_end_id("pw-1");
  auto* p = spec->mutable_ppp();
  if (IsLns(side)) {
    spec->set_interface_name("ppp-");
    p->set_max_sessions(8);
    p->set_local_address("10.8.0.1");
    p->set_remote_address_pool("10.8.1.0/24");
    p->set_authentication(v1::PPP_AUTHENTICATION_CHAP);
    p->set_secrets_file("/etc/l2tp/chap-secrets");
    p->add_dns("10.8.0.53");
    p->add_dns("9.9.9.9");
  } else {
    spec->set_interface_name("ppp-lac");
    p->set_user("alice@isp");
    p->set_password_file("/etc/l2tp/alice.password");
    p->set_default_route(true);
    p->set_use_peer_dns(true);
  }
  p->set_mtu(1400);
  p->set_mru(1400);
  p->mutable_lcp_echo_interval()->set_seconds(10);
  p->set_lcp_echo_failure(3);
  return s;
}

google::protobuf::Duration Seconds(int64_t seconds, int32_t nanos = 0) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  d.set_nanos(nanos);
  return d;
}

v1::PppSpec* Ppp(v1::Session* s) { return s->mutable_spec()->mutable_ppp(); }

TEST(PppValidationTest, ValidSpecsOfEachSidePass) {
  for (Side side : {Side::kLac3, Side::kLns3, Side::kLac2, Side::kLns2}) {
    const v1::Tunnel t = PppTunnel(side);
    ASSERT_TRUE(ValidateTunnel(t, "tunnels[0]").empty());
    v1::Session s = PppSession(side);
    EXPECT_TRUE(ValidateSessionAlone(s, "sessions[0]").empty());
    auto v = ValidateSessionOfTunnel(s, t.spec(), "sessions[0]");
    EXPECT_TRUE(v.empty()) << static_cast<int>(side) << ": " << v[0].field << ": " << v[0].reason;
    // ...and with nothing but the pseudowire (LAC: every default).
    if (!IsLns(side)) {
      s.mutable_spec()->clear_ppp();
      EXPECT_TRUE(ValidateSessionOfTunnel(s, t.spec(), "sessions[0]").empty());
    }
  }
}

TEST(PppValidationTest, BoundaryValuesPass) {
  const v1::Tunnel lns = PppTunnel(Side::kLns3);
  const v1::Tunnel lac = PppTunnel(Side::kLac3);
  auto ok = [](const v1::Session& s, const v1::Tunnel& t, const char* what) {
    auto v = ValidateSessionOfTunnel(s, t.spec(), "sessions[0]");
    EXPECT_TRUE(v.empty()) << what << ": " << (v.empty() ? "" : v[0].field + ": " + v[0].reason);
  };
  v1::Session s = PppSession(Side::kLac3);
  Ppp(&s)->set_mtu(128);
  Ppp(&s)->set_mru(16384);
  *Ppp(&s)->mutable_lcp_echo_interval() = Seconds(0);
  Ppp(&s)->set_lcp_echo_failure(100);
  Ppp(&s)->set_user(std::string(255, 'u'));
  ok(s, lac, "mtu 128, mru 16384, echo off, 100 failures, 255-byte user");
  *Ppp(&s)->mutable_lcp_echo_interval() = Seconds(3600);
  ok(s, lac, "echo every hour");
  Ppp(&s)->clear_password_file();
  Ppp(&s)->clear_user();
  ok(s, lac, "no authentication at all");

  s = PppSession(Side::kLns3);
  Ppp(&s)->set_authentication(v1::PPP_AUTHENTICATION_NONE);
  Ppp(&s)->clear_secrets_file();
  ok(s, lns, "NONE without a secrets file");
  s = PppSession(Side::kLns3);
  Ppp(&s)->set_authentication(v1::PPP_AUTHENTICATION_PAP);
  ok(s, lns, "PAP with a secrets file");
  Ppp(&s)->set_remote_address_pool("10.8.1.0/31");
  Ppp(&s)->set_max_sessions(2);
  ok(s, lns, "a /31 gives both addresses");
  Ppp(&s)->set_remote_address_pool("10.8.1.7/32");
  Ppp(&s)->set_max_sessions(0);
  ok(s, lns, "a /32 gives its one address; max_sessions 0 means 1");
  Ppp(&s)->set_remote_address_pool("10.8.0.0/29");
  Ppp(&s)->set_local_address("10.8.0.8");
  Ppp(&s)->set_max_sessions(6);
  ok(s, lns, "local_address right after the pool; 6 addresses for 6 calls");
  Ppp(&s)->set_remote_address_pool("10.0.0.0/8");
  Ppp(&s)->set_local_address("192.0.2.1");
  Ppp(&s)->set_max_sessions(10000);
  s.mutable_spec()->set_interface_name("ppp-lns-a-");  // 10 bytes + 5 digits
  ok(s, lns, "10000 calls");
  s.mutable_spec()->set_interface_name(DefaultPppInterfacePrefix("s1"));
  ok(s, lns, "the default prefix leaves room for 10000 calls");
  s.mutable_spec()->set_interface_name("ppp-abcdefghij");
  Ppp(&s)->set_max_sessions(9);
  ok(s, lns, "14 bytes and one digit");
  Ppp(&s)->clear_dns();
  ok(s, lns, "no DNS");
}

struct BadPpp {
  const char* what;
  Side side;
  std::function<void(v1::Session*)> mutate;
  const char* field;
  const char* reason;  // the whole reason
};

class BadPppTest : public ::testing::TestWithParam<BadPpp> {};

TEST_P(BadPppTest, IsRefusedNamingFieldAndReason) {
  const BadPpp& c = GetParam();
  const v1::Tunnel t = PppTunnel(c.side);
  v1::Session s = PppSession(c.side);
  ASSERT_TRUE(ValidateSessionOfTunnel(s, t.spec(), "sessions[0]").empty());
  c.mutate(&s);
  auto v = ValidateSessionOfTunnel(s, t.spec(), "sessions[0]");
  ASSERT_EQ(v.size(), 1u) << c.what << (v.size() > 1 ? ": " + v[0].field + ", " + v[1].field : "");
  EXPECT_EQ(v[0].field, c.field) << c.what;
  EXPECT_EQ(v[0].reason, c.reason) << c.what;
  // The first pass (no tunnel) says nothing about what depends on it, and
  // the registry's second pass (normalised) says the same as here.
  auto alone = ValidateSessionAlone(s, "sessions[0]");
  if (std::string(c.field).find(".spec.ppp.") != std::string::npos) {
    EXPECT_TRUE(alone.empty()) << c.what;
  }
}

constexpr char kLnsFieldOnLac[] =
    "an LNS (server) field; this session's tunnel is an INITIATOR, the LAC (client) side";
constexpr char kLacFieldOnLns[] =
    "an LAC (client) field; this session's tunnel is a RESPONDER, the LNS (server) side";

INSTANTIATE_TEST_SUITE_P(
    Sides, BadPppTest,
    ::testing::Values(
        // ---- a field of the other side
        BadPpp{"pool on a LAC", Side::kLac3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("10.8.1.0/24"); },
               "sessions[0].spec.ppp.remote_address_pool", kLnsFieldOnLac},
        BadPpp{"max_sessions on a LAC", Side::kLac3, [](v1::Session* s) { Ppp(s)->set_max_sessions(2); },
               "sessions[0].spec.ppp.max_sessions", kLnsFieldOnLac},
        BadPpp{"local_address on a LAC", Side::kLac2,
               [](v1::Session* s) { Ppp(s)->set_local_address("10.8.0.1"); },
               "sessions[0].spec.ppp.local_address", kLnsFieldOnLac},
        BadPpp{"authentication on a LAC", Side::kLac3,
               [](v1::Session* s) { Ppp(s)->set_authentication(v1::PPP_AUTHENTICATION_PAP); },
               "sessions[0].spec.ppp.authentication", kLnsFieldOnLac},
        BadPpp{"secrets_file on a LAC", Side::kLac3,
               [](v1::Session* s) { Ppp(s)->set_secrets_file("/etc/x"); },
               "sessions[0].spec.ppp.secrets_file", kLnsFieldOnLac},
        BadPpp{"dns on a LAC", Side::kLac3, [](v1::Session* s) { Ppp(s)->add_dns("10.0.0.53"); },
               "sessions[0].spec.ppp.dns", kLnsFieldOnLac},
        BadPpp{"user on an LNS", Side::kLns3, [](v1::Session* s) { Ppp(s)->set_user("bob"); },
               "sessions[0].spec.ppp.user", kLacFieldOnLns},
        BadPpp{"password_file on an LNS", Side::kLns2,
               [](v1::Session* s) { Ppp(s)->set_password_file("/etc/p"); },
               "sessions[0].spec.ppp.password_file", kLacFieldOnLns},
        BadPpp{"default_route on an LNS", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_default_route(true); }, "sessions[0].spec.ppp.default_route",
               kLacFieldOnLns},
        BadPpp{"use_peer_dns on an LNS", Side::kLns3, [](v1::Session* s) { Ppp(s)->set_use_peer_dns(true); },
               "sessions[0].spec.ppp.use_peer_dns", kLacFieldOnLns},

        // ---- LAC
        BadPpp{
            "long user", Side::kLac3, [](v1::Session* s) { Ppp(s)->set_user(std::string(256, 'u')); },
            "sessions[0].spec.ppp.user",
            "must be at most 255 bytes, got 256 (\"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu...\""
            " (256 bytes))"},
        BadPpp{
            "newline in user", Side::kLac3, [](v1::Session* s) { Ppp(s)->set_user("alice\nbob"); },
            "sessions[0].spec.ppp.user",
            "must not contain NUL, carriage return or newline bytes (pppd reads its secrets line by line), got "
            "\"alice\\nbob\""},
        BadPpp{"wildcard user", Side::kLac2, [](v1::Session* s) { Ppp(s)->set_user("*"); },
               "sessions[0].spec.ppp.user",
               "must not be \"*\", the secrets files' wildcard: give the name to authenticate as"},
        BadPpp{"password_file without user", Side::kLac3, [](v1::Session* s) { Ppp(s)->clear_user(); },
               "sessions[0].spec.ppp.user",
               "required with password_file: the name this end authenticates as"},
        BadPpp{"relative password_file", Side::kLac3, [](v1::Session* s) { Ppp(s)->set_password_file("pw"); },
               "sessions[0].spec.ppp.password_file", "must be an absolute path, got \"pw\""},
        BadPpp{"NUL in password_file", Side::kLac3,
               [](v1::Session* s) { Ppp(s)->set_password_file(std::string("/etc/p\0w", 8)); },
               "sessions[0].spec.ppp.password_file", "must not contain NUL bytes, got \"/etc/p\\x00w\""},

        // ---- LNS
        BadPpp{"10001 calls", Side::kLns3, [](v1::Session* s) { Ppp(s)->set_max_sessions(10001); },
               "sessions[0].spec.ppp.max_sessions", "must be at most 10000 (0 means 1), got 10001"},
        BadPpp{"no local_address", Side::kLns3, [](v1::Session* s) { Ppp(s)->clear_local_address(); },
               "sessions[0].spec.ppp.local_address",
               "required for an LNS: this end's IPv4 address on every call's link"},
        BadPpp{"IPv6 local_address", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_local_address("2001:db8::1"); },
               "sessions[0].spec.ppp.local_address",
               "must be an IPv4 address (pppd's IPCP assigns IPv4 addresses), got \"2001:db8::1\""},
        BadPpp{"loopback local_address", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_local_address("127.0.0.1"); },
               "sessions[0].spec.ppp.local_address",
               "\"127.0.0.1\" is a loopback address: not usable as one end of a PPP link"},
        BadPpp{
            "local_address in the pool", Side::kLns3,
            [](v1::Session* s) { Ppp(s)->set_local_address("10.8.1.0"); },
            "sessions[0].spec.ppp.local_address",
            "must be outside remote_address_pool \"10.8.1.0/24\", got \"10.8.1.0\": the pool's addresses go to "
            "the peers"},
        BadPpp{"no pool", Side::kLns2, [](v1::Session* s) { Ppp(s)->clear_remote_address_pool(); },
               "sessions[0].spec.ppp.remote_address_pool",
               "required for an LNS: the IPv4 CIDR the peers' addresses come from, e.g. \"10.8.0.0/24\""},
        BadPpp{"pool without a length", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("10.8.1.0"); },
               "sessions[0].spec.ppp.remote_address_pool",
               "must be an IPv4 CIDR such as \"10.8.0.0/24\", got \"10.8.1.0\""},
        BadPpp{"IPv6 pool", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("2001:db8::/64"); },
               "sessions[0].spec.ppp.remote_address_pool",
               "must be an IPv4 CIDR (pppd's IPCP assigns IPv4 addresses; IPv6 over PPP uses interface "
               "identifiers), got \"2001:db8::/64\""},
        BadPpp{"prefix length 33", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("10.8.1.0/33"); },
               "sessions[0].spec.ppp.remote_address_pool",
               "the prefix length must be 0 to 32, got \"10.8.1.0/33\""},
        BadPpp{"signed prefix length", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("10.8.1.0/+8"); },
               "sessions[0].spec.ppp.remote_address_pool",
               "the prefix length must be 0 to 32, got \"10.8.1.0/+8\""},
        BadPpp{"host bits", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("10.8.1.1/24"); },
               "sessions[0].spec.ppp.remote_address_pool",
               "must have no host bits set (the network is 10.8.1.0/24), got \"10.8.1.1/24\""},
        BadPpp{"multicast pool", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("239.0.0.0/24"); },
               "sessions[0].spec.ppp.remote_address_pool",
               "\"239.0.0.0/24\" holds 239.0.0.0, which is a multicast address: not usable for the peers' "
               "addresses"},
        BadPpp{"the whole space", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("0.0.0.0/0"); },
               "sessions[0].spec.ppp.remote_address_pool",
               "\"0.0.0.0/0\" holds 0.0.0.0, which is in 0.0.0.0/8 (this network): not usable for the peers' "
               "addresses"},
        BadPpp{"pool smaller than max_sessions", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_remote_address_pool("10.8.1.0/30"); },
               "sessions[0].spec.ppp.remote_address_pool",
               "\"10.8.1.0/30\" has 2 addresses for calls, fewer than max_sessions (8); widen it or lower "
               "max_sessions"},
        BadPpp{"a /32 for 2 calls", Side::kLns3,
               [](v1::Session* s) {
                 Ppp(s)->set_remote_address_pool("10.8.1.1/32");
                 Ppp(s)->set_max_sessions(2);
               },
               "sessions[0].spec.ppp.remote_address_pool",
               "\"10.8.1.1/32\" has 1 address for calls, fewer than max_sessions (2); widen it or lower "
               "max_sessions"},
        BadPpp{"unknown authentication", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_authentication(static_cast<v1::PppAuthentication>(9)); },
               "sessions[0].spec.ppp.authentication", "unknown authentication 9; use PAP, CHAP or NONE"},
        BadPpp{
            "CHAP (unset) without secrets", Side::kLns3,
            [](v1::Session* s) {
              Ppp(s)->clear_authentication();
              Ppp(s)->clear_secrets_file();
            },
            "sessions[0].spec.ppp.secrets_file",
            "required with authentication CHAP (unset means CHAP): the file, in pppd's chap-secrets format, the "
            "peers authenticate against; or set authentication to NONE"},
        BadPpp{
            "PAP without secrets", Side::kLns2,
            [](v1::Session* s) {
              Ppp(s)->set_authentication(v1::PPP_AUTHENTICATION_PAP);
              Ppp(s)->clear_secrets_file();
            },
            "sessions[0].spec.ppp.secrets_file",
            "required with authentication PAP: the file, in pppd's pap-secrets format, the peers authenticate "
            "against; or set authentication to NONE"},
        BadPpp{
            "NONE with secrets", Side::kLns3,
            [](v1::Session* s) { Ppp(s)->set_authentication(v1::PPP_AUTHENTICATION_NONE); },
            "sessions[0].spec.ppp.secrets_file",
            "must be unset with authentication NONE, which authenticates no peer; set authentication to PAP or "
            "CHAP to use it"},
        BadPpp{"relative secrets_file", Side::kLns3,
               [](v1::Session* s) { Ppp(s)->set_secrets_file("chap-secrets"); },
               "sessions[0].spec.ppp.secrets_file", "must be an absolute path, got \"chap-secrets\""},
        BadPpp{"three DNS servers", Side::kLns3, [](v1::Session* s) { Ppp(s)->add_dns("10.8.0.54"); },
               "sessions[0].spec.ppp.dns",
               "at most 2 addresses (pppd offers a primary and a secondary DNS server), got 3"},
        BadPpp{"DNS by name", Side::kLns3, [](v1::Session* s) { Ppp(s)->set_dns(1, "dns.example"); },
               "sessions[0].spec.ppp.dns[1]",
               "must be an IPv4 address (pppd's IPCP assigns IPv4 addresses), got \"dns.example\""},
        BadPpp{"DNS 0.0.0.0", Side::kLns3, [](v1::Session* s) { Ppp(s)->set_dns(0, "0.0.0.0"); },
               "sessions[0].spec.ppp.dns[0]",
               "\"0.0.0.0\" is in 0.0.0.0/8 (this network): not usable as a DNS server"},
        BadPpp{
            "prefix ending in a digit", Side::kLns3,
            [](v1::Session* s) { s->mutable_spec()->set_interface_name("ppp1"); },
            "sessions[0].spec.interface_name",
            "must not end in a digit: an LNS session's interface_name is a prefix each call's number follows (1 "
            "to 8), and \"pw1\" with call 1 would read as \"pw\" with call 11; got \"ppp1\""},
        BadPpp{
            "no room for the digits", Side::kLns3,
            [](v1::Session* s) {
              s->mutable_spec()->set_interface_name("ppp-abcdefghi-");  // 14 bytes
              Ppp(s)->set_max_sessions(100);
            },
            "sessions[0].spec.interface_name",
            "must be at most 12 bytes: an LNS session's interface_name is a prefix each call's number follows (1 "
            "to 100), which needs room for 3 digits within 15 bytes; got 14 (\"ppp-abcdefghi-\")"},

        // ---- both sides
        BadPpp{"mtu 127", Side::kLac3, [](v1::Session* s) { Ppp(s)->set_mtu(127); },
               "sessions[0].spec.ppp.mtu", "must be 0 (pppd's default, 1500) or from 128 to 16384, got 127"},
        BadPpp{"mru 16385", Side::kLns3, [](v1::Session* s) { Ppp(s)->set_mru(16385); },
               "sessions[0].spec.ppp.mru",
               "must be 0 (pppd's default, 1500) or from 128 to 16384, got 16385"},
        BadPpp{"negative echo", Side::kLac3,
               [](v1::Session* s) { *Ppp(s)->mutable_lcp_echo_interval() = Seconds(-1); },
               "sessions[0].spec.ppp.lcp_echo_interval", "must not be negative"},
        BadPpp{"echo in part seconds", Side::kLns2,
               [](v1::Session* s) { *Ppp(s)->mutable_lcp_echo_interval() = Seconds(1, 500000000); },
               "sessions[0].spec.ppp.lcp_echo_interval",
               "must be whole seconds (pppd counts in seconds), got 1.500s"},
        BadPpp{"echo nanos overflow", Side::kLac3,
               [](v1::Session* s) { *Ppp(s)->mutable_lcp_echo_interval() = Seconds(1, 1000000000); },
               "sessions[0].spec.ppp.lcp_echo_interval", "nanos must be below one second, got 1000000000"},
        BadPpp{"echo over 1h", Side::kLac3,
               [](v1::Session* s) { *Ppp(s)->mutable_lcp_echo_interval() = Seconds(3601); },
               "sessions[0].spec.ppp.lcp_echo_interval", "must be at most 1h, got 3601s"},
        BadPpp{"101 echo failures", Side::kLns3, [](v1::Session* s) { Ppp(s)->set_lcp_echo_failure(101); },
               "sessions[0].spec.ppp.lcp_echo_failure", "must be at most 100 (0 means 4), got 101"},
        BadPpp{
            "session mtu", Side::kLac3, [](v1::Session* s) { s->mutable_spec()->set_mtu(1400); },
            "sessions[0].spec.mtu",
            "not for PPP sessions, whose interface is pppd's: set ppp.mtu (and ppp.mru) instead; got 1400"},
        // In L2TPv3 the sequence number rides in the sublayer, for PPP too.
        BadPpp{
            "v3: sequencing without a sublayer", Side::kLac3,
            [](v1::Session* s) {
              s->mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_NONE);
              s->mutable_spec()->set_send_sequence(true);
            },
            "sessions[0].spec.send_sequence",
            "needs the L2-specific sublayer, which carries the sequence number, and l2_specific_sublayer is "
            "NONE: no frame could carry a sequence number, and a peer that requires sequencing would discard "
            "every frame; set l2_specific_sublayer to DEFAULT (or leave it unset), or turn send_sequence off"},
        BadPpp{
            "v3: the Remote End ID names the pseudowire", Side::kLns3,
            [](v1::Session* s) { s->mutable_spec()->clear_remote_end_id(); },
            "sessions[0].spec.remote_end_id",
            "required for sessions of DYNAMIC L2TPv3 tunnels: the Remote End ID that names this pseudowire on "
            "both ends (RFC 3931 section 5.4.4)"},

        // ---- L2TPv2: no cookies, no sublayer, no Remote End ID, 16-bit ids
        BadPpp{"v2 cookie", Side::kLac2, [](v1::Session* s) { s->mutable_spec()->set_cookie("a1b2c3d4"); },
               "sessions[0].spec.cookie", "L2TPv2 has no cookies (RFC 2661): leave it empty"},
        BadPpp{"v2 peer cookie, malformed", Side::kLns2,
               [](v1::Session* s) { s->mutable_spec()->set_peer_cookie("xyz"); },
               "sessions[0].spec.peer_cookie", "L2TPv2 has no cookies (RFC 2661): leave it empty"},
        BadPpp{"v2 sublayer", Side::kLac2,
               [](v1::Session* s) {
                 s->mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
               },
               "sessions[0].spec.l2_specific_sublayer",
               "L2TPv2 has no L2-specific sublayer (RFC 2661): leave it unset or NONE, got DEFAULT"},
        BadPpp{"v2 remote end id", Side::kLns2,
               [](v1::Session* s) { s->mutable_spec()->set_remote_end_id("pw-1"); },
               "sessions[0].spec.remote_end_id",
               "only for sessions of DYNAMIC L2TPv3 tunnels; tunnel \"t1\" is L2TPv2: leave it unset"},
        BadPpp{"v2 session id over 16 bits", Side::kLac2,
               [](v1::Session* s) { s->mutable_spec()->set_session_id(65536); },
               "sessions[0].spec.session_id",
               "must fit in 16 bits for L2TPv2, got 65536 (0 lets the agent pick)"},
        BadPpp{"v2 ETH", Side::kLac2,
               [](v1::Session* s) {
                 s->mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_ETH);
                 s->mutable_spec()->clear_ppp();
               },
               "sessions[0].spec.pseudowire",
               "must be PPP: tunnel \"t1\" is L2TPv2, which carries PPP only (RFC 2661); got ETH"},
        BadPpp{"ppp on an ETH session", Side::kLac3,
               [](v1::Session* s) { s->mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_ETH); },
               "sessions[0].spec.ppp",
               "only for PPP pseudowires; pseudowire is ETH: set pseudowire to PPP, or leave ppp unset"},
        BadPpp{"unknown pseudowire", Side::kLac3,
               [](v1::Session* s) {
                 s->mutable_spec()->set_pseudowire(static_cast<v1::Pseudowire>(7));
                 s->mutable_spec()->clear_ppp();
               },
               "sessions[0].spec.pseudowire", "unknown pseudowire type 7; use ETH or PPP"}));

TEST(PppValidationTest, PppNeedsADynamicTunnel) {
  v1::Session s = testing::MakeSession("s1", "t1", 5);
  s.mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP);
  auto v = ValidateSessionOfTunnel(s, testing::MakeTunnel("t1", 1).spec(), "sessions[3]");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[3].spec.pseudowire");
  EXPECT_EQ(
      v[0].reason,
      "PPP pseudowires need a DYNAMIC tunnel, whose control protocol places their calls; tunnel \"t1\" is "
      "STATIC");
  EXPECT_TRUE(ValidateSessionAlone(s, "sessions[3]").empty()) << "the tunnel is not known yet";
}

// Sequencing in L2TPv2 rides in its own header: a sublayer of NONE (its
// only one) does not stop it.
TEST(PppValidationTest, L2tpv2SequencesWithoutASublayer) {
  v1::Session s = PppSession(Side::kLac2);
  s.mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_NONE);
  s.mutable_spec()->set_send_sequence(true);
  s.mutable_spec()->set_require_sequence(true);
  s.mutable_spec()->set_lns_mode(true);
  *s.mutable_spec()->mutable_reorder_timeout() = Seconds(1);
  EXPECT_TRUE(ValidateSessionAlone(s, "sessions[0]").empty());
  EXPECT_TRUE(ValidateSessionOfTunnel(s, PppTunnel(Side::kLac2).spec(), "sessions[0]").empty());
}

// Cookies and the sublayer are L2TPv3 data-plane features, for PPP too.
TEST(PppValidationTest, L2tpv3PppTakesPeerCookieAndSublayer) {
  v1::Session s = PppSession(Side::kLns3);
  s.mutable_spec()->set_peer_cookie("0011223344556677");
  s.mutable_spec()->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
  s.mutable_spec()->set_send_sequence(true);
  EXPECT_TRUE(ValidateSessionOfTunnel(s, PppTunnel(Side::kLns3).spec(), "sessions[0]").empty());
}

TEST(PppValidationTest, ATunnelChangingSidesRefusesItsSessionsFieldsOfTheOtherSide) {
  DesiredState next;
  v1::Tunnel t = PppTunnel(Side::kLns3);
  next.tunnels["t1"] = t;
  v1::Session s = PppSession(Side::kLac3);
  NormalizeSessionSpec(t.spec(), "s1", s.mutable_spec());
  next.sessions["s1"] = s;
  auto v = ValidateSessionsInTunnels(next, {{"tunnel/t1", "tunnels[0]"}});
  // user, password_file, default_route, use_peer_dns; no local_address,
  // remote_address_pool or secrets_file.
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v[0].field, "tunnels[0].spec");
  EXPECT_EQ(v[0].reason,
            absl::StrCat("session \"s1\" of this tunnel does not fit it as changed: spec.ppp.user: ",
                         kLacFieldOnLns,
                         "; apply the session changed to fit in the same request, or delete it"));
}

// ---------------------------------------------------------------- defaults

TEST(PppDefaultsTest, AnLnsSessionGetsChapAndAnInterfacePrefix) {
  const v1::Tunnel lns = PppTunnel(Side::kLns3);
  v1::Session s = PppSession(Side::kLns3);
  Ppp(&s)->clear_authentication();
  Ppp(&s)->clear_lcp_echo_interval();
  s.mutable_spec()->clear_interface_name();
  NormalizeSessionSpec(lns.spec(), "dialin", s.mutable_spec());
  EXPECT_EQ(s.spec().ppp().authentication(), v1::PPP_AUTHENTICATION_CHAP);
  EXPECT_EQ(s.spec().interface_name(), DefaultPppInterfacePrefix("dialin"));
  EXPECT_THAT(s.spec().interface_name(), ::testing::MatchesRegex("l2p[0-9a-f]{6}-"));
  EXPECT_NE(DefaultPppInterfacePrefix("dialin"), DefaultPppInterfacePrefix("dialin2"));
  EXPECT_TRUE(ValidateSessionOfTunnel(s, lns.spec(), "s").empty());
  EXPECT_FALSE(s.spec().ppp().has_lcp_echo_interval()) << "unset means 30s at run time";
  EXPECT_EQ(s.spec().l2_specific_sublayer(), v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
}

TEST(PppDefaultsTest, ALacSessionKeepsItsSpec) {
  const v1::Tunnel lac = PppTunnel(Side::kLac2);
  v1::Session s = PppSession(Side::kLac2);
  s.mutable_spec()->clear_interface_name();
  s.mutable_spec()->clear_ppp();
  NormalizeSessionSpec(lac.spec(), "dialout", s.mutable_spec());
  EXPECT_FALSE(s.spec().has_ppp()) << "no LNS field may appear on a LAC";
  EXPECT_EQ(s.spec().interface_name(), DefaultInterfaceNameForSession("dialout"));
  EXPECT_EQ(s.spec().l2_specific_sublayer(), v1::L2_SPECIFIC_SUBLAYER_NONE) << "L2TPv2 has no sublayer";
  EXPECT_TRUE(ValidateSessionOfTunnel(s, lac.spec(), "s").empty());
}

// ---------------------------------------------------------------- collisions

DesiredState StateWith(std::initializer_list<std::pair<Side, std::string>> tunnels) {
  DesiredState state;
  int i = 0;
  for (const auto& [side, name] : tunnels) {
    state.tunnels[name] = PppTunnel(side, name);
    state.tunnels[name].mutable_spec()->set_local(absl::StrCat("192.0.2.", 10 + i++));
  }
  return state;
}

void Add(DesiredState* state, v1::Session s) {
  NormalizeSessionSpec(state->tunnels.at(s.spec().tunnel()).spec(), s.name(), s.mutable_spec());
  state->sessions[s.name()] = s;
}

TEST(PppCollisionTest, AnLnsPrefixTakesTheNamesOfItsCalls) {
  DesiredState state = StateWith({{Side::kLns3, "lns"}, {Side::kLac3, "lac"}});
  v1::Session lns = PppSession(Side::kLns3, "dialin", "lns");  // "ppp-", 8 calls
  Add(&state, lns);
  v1::Session lac = PppSession(Side::kLac3, "dialout", "lac");
  lac.mutable_spec()->set_interface_name("ppp-8");
  Add(&state, lac);
  auto v = FindCollisions(state, {{"session/dialout", "sessions[1]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[1].spec.interface_name");
  EXPECT_EQ(
      v[0].reason,
      "interface \"ppp-8\" is call 8's of LNS session \"dialin\", whose interface_name \"ppp-\" is a prefix "
      "for its calls (1 to 8)");
  v = FindCollisions(state, {{"session/dialin", "sessions[0]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[0].spec.interface_name");
  EXPECT_EQ(v[0].reason,
            "the prefix \"ppp-\" would give call 8 the interface \"ppp-8\", which session \"dialout\" uses");
  EXPECT_TRUE(FindCollisions(state, {}).empty()) << "untouched: valid before";

  // Outside the calls' numbers, nothing clashes.
  for (const char* name : {"ppp-9", "ppp-0", "ppp-08", "ppp-", "ppp-x1", "ppp"}) {
    state.sessions["dialout"].mutable_spec()->set_interface_name(name);
    auto clash = FindCollisions(state, {{"session/dialout", "sessions[1]"}});
    if (std::string(name) == "ppp-") {
      ASSERT_EQ(clash.size(), 1u) << "the prefix itself is an interface name like any other";
      EXPECT_THAT(clash[0].reason, HasSubstr("interface \"ppp-\" is already used by session"));
    } else {
      EXPECT_TRUE(clash.empty()) << name;
    }
  }
  // The state file is judged by the same rule.
  state.sessions["dialout"].mutable_spec()->set_interface_name("ppp-1");
  l2tpagent::store::v1::State stored;
  for (auto& [name, t] : state.tunnels) {
    t.set_resource_version("1");
    *stored.add_tunnels() = t;
  }
  for (auto& [name, s] : state.sessions) {
    s.set_resource_version("1");
    *stored.add_sessions() = s;
  }
  auto problems = CheckStoredState(stored);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].reason, HasSubstr("is call 1's of LNS session \"dialin\""));
}

TEST(PppCollisionTest, AnL2tpv2ResponderHoldsOneLnsSession) {
  DesiredState state = StateWith({{Side::kLns2, "v2"}, {Side::kLns3, "v3"}});
  v1::Session a = PppSession(Side::kLns2, "a", "v2");
  Add(&state, a);
  v1::Session b = PppSession(Side::kLns2, "b", "v2");
  b.mutable_spec()->set_interface_name("ppp-b-");
  Ppp(&b)->set_local_address("10.9.0.1");
  Add(&state, b);
  auto v = FindCollisions(state, {{"session/b", "sessions[1]"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "sessions[1].spec.tunnel");
  EXPECT_EQ(
      v[0].reason,
      "L2TPv2 RESPONDER tunnel \"v2\" (its calls name no pseudowire, so one LNS session answers them all; "
      "raise its ppp.max_sessions instead) is already used by session \"a\"");

  // In L2TPv3 the Remote End ID tells them apart.
  DesiredState v3 = StateWith({{Side::kLns3, "v3"}});
  Add(&v3, PppSession(Side::kLns3, "a", "v3"));
  v1::Session c = PppSession(Side::kLns3, "c", "v3");
  c.mutable_spec()->set_interface_name("ppp-c-");
  c.mutable_spec()->set_remote_end_id("pw-2");
  Add(&v3, c);
  EXPECT_TRUE(FindCollisions(v3, {{"session/c", "sessions[1]"}}).empty());
}

// ---------------------------------------------------------------- files

class PppFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-ppp-files-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string dir_;
};

TEST_F(PppFileTest, SecretsFileIsReadableNotEmptyAndBounded) {
  const std::string secrets = "# client server secret addresses\nalice * s3cret *\n";
  EXPECT_EQ(PppSecretsFileError(Write("ok", secrets)), "");
  EXPECT_EQ(PppSecretsFileError(Write("max", std::string(kMaxPppSecretsFileBytes, 'k'))), "");
  EXPECT_EQ(PppSecretsFileError(dir_ + "/missing"),
            "cannot read the secrets file: No such file or directory");
  EXPECT_EQ(PppSecretsFileError(Write("empty", "")), "the secrets file is empty");
  EXPECT_EQ(PppSecretsFileError(Write("big", std::string(kMaxPppSecretsFileBytes + 1, 'k'))),
            "the secrets file is longer than 1048576 bytes (1 MiB)");
  EXPECT_EQ(PppSecretsFileError(dir_), "the secrets file is not a regular file");
  if (geteuid() != 0) {  // root reads anything
    const std::string locked = Write("locked", secrets);
    ASSERT_EQ(chmod(locked.c_str(), 0), 0);
    EXPECT_EQ(PppSecretsFileError(locked), "cannot read the secrets file: Permission denied");
  }
}

TEST_F(PppFileTest, CheckSecretFilesReadsPppFilesOfTheirSideOnly) {
  v1::ApplyRequest request;
  *request.add_tunnels() = PppTunnel(Side::kLac3, "lac");
  *request.add_tunnels() = PppTunnel(Side::kLns3, "lns");
  auto add = [&](Side side, const std::string& name, const std::string& tunnel) {
    *request.add_sessions() = PppSession(side, name, tunnel);
    return Ppp(request.mutable_sessions(request.sessions_size() - 1));
  };
  add(Side::kLac3, "good-lac", "lac")->set_password_file(Write("pw", "s3cret\n"));
  add(Side::kLac3, "missing-pw", "lac")->set_password_file(dir_ + "/missing");
  add(Side::kLns3, "good-lns", "lns")->set_secrets_file(Write("secrets", "alice * s3cret *\n"));
  add(Side::kLns3, "empty-secrets", "lns")->set_secrets_file(Write("empty", ""));
  add(Side::kLac3, "long-pw", "stored")->set_password_file(Write("long", std::string(300, 'k')));
  add(Side::kLns3, "stored-lns", "stored")->set_secrets_file(dir_ + "/missing");
  // Refused by the validation, not looked at here: a file of the other
  // side, a relative path, a session that is not PPP.
  auto* other_side = add(Side::kLac3, "lns-field", "lac");
  other_side->clear_password_file();
  other_side->set_secrets_file(dir_ + "/missing");
  add(Side::kLac3, "relative", "lac")->set_password_file("missing");
  add(Side::kLac3, "eth", "lac")->set_password_file(dir_ + "/missing");
  request.mutable_sessions(request.sessions_size() - 1)->mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_ETH);

  auto v = CheckSecretFiles(request);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].field, "sessions[1].spec.ppp.password_file");
  EXPECT_EQ(v[0].reason, "cannot read the secret file: No such file or directory");
  EXPECT_EQ(v[1].field, "sessions[3].spec.ppp.secrets_file");
  EXPECT_EQ(v[1].reason, "the secrets file is empty");
  EXPECT_EQ(v[2].field, "sessions[4].spec.ppp.password_file");
  EXPECT_EQ(v[2].reason, "the secret file is longer than 256 bytes");
  EXPECT_EQ(v[3].field, "sessions[5].spec.ppp.secrets_file");
  EXPECT_EQ(v[3].reason, "cannot read the secrets file: No such file or directory");
  auto st = ViolationsToStatus(absl::StatusCode::kFailedPrecondition, v);
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr("s3cret")));
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr("kkkk")));
}

// Only paths are stored: the state file reloads with its files missing.
TEST_F(PppFileTest, TheStateFileCheckDoesNotReadPppFiles) {
  l2tpagent::store::v1::State state;
  for (Side side : {Side::kLac3, Side::kLns3}) {
    const std::string n = side == Side::kLac3 ? "lac" : "lns";
    v1::Tunnel t = PppTunnel(side, n);
    t.mutable_spec()->set_local(side == Side::kLac3 ? "192.0.2.1" : "192.0.2.5");
    v1::Session s = PppSession(side, n + "-pw", n);
    if (side == Side::kLac3) Ppp(&s)->set_password_file(dir_ + "/missing");
    else Ppp(&s)->set_secrets_file(dir_ + "/missing");
    NormalizeTunnelSpec(t.mutable_spec());
    NormalizeSessionSpec(t.spec(), s.name(), s.mutable_spec());
    t.set_resource_version("1");
    s.set_resource_version("1");
    *state.add_tunnels() = t;
    *state.add_sessions() = s;
  }
  auto v = CheckStoredState(state);
  EXPECT_TRUE(v.empty()) << v[0].field << ": " << v[0].reason;
}

}  // namespace
}  // namespace l2tp
