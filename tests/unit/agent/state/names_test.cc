#include "agent/state/names.h"

#include "agent/state/spec_defaults.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

TEST(NamesTest, DefaultInterfaceNameIsDeterministicAndFits) {
  EXPECT_EQ(DefaultInterfaceName(1000, 2000), "l2tp1000-2000");
  std::string long_ids = DefaultInterfaceName(4294967295u, 4294967294u);
  EXPECT_EQ(long_ids.size(), 15u);
  EXPECT_EQ(long_ids, DefaultInterfaceName(4294967295u, 4294967294u));
  EXPECT_NE(long_ids, DefaultInterfaceName(4294967295u, 4294967293u));
  EXPECT_EQ(InterfaceNameError(long_ids), "");
}

TEST(NamesTest, CookiesParseInEveryAcceptedSpelling) {
  std::string err;
  auto a = ParseCookie("0xA1B2C3D4", &err);
  ASSERT_TRUE(a);
  EXPECT_EQ(FormatCookie(*a), "a1b2c3d4");
  auto b = ParseCookie("00:11:22:33:44:55:66:77", &err);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 8u);
  EXPECT_TRUE(ParseCookie("", &err)->empty());
  EXPECT_FALSE(ParseCookie("001122", &err));
  EXPECT_EQ(err, "must be 0, 4 or 8 bytes, got 3");
}

// Issue 11, item 8: no spelling of "no cookie" but the empty string.
TEST(NamesTest, CookiesAreFourOrEightBytesOrEmpty) {
  std::string err;
  for (const char* bad : {":::", ":", "0x", "0X", "a1:b2:c3:d4:", ":a1:b2:c3:d4", "a1::b2:c3:d4", "a1b2:c3d4",
                          "a:1b:2c:3d", "0x:a1:b2:c3:d4"}) {
    err.clear();
    EXPECT_FALSE(ParseCookie(bad, &err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
  EXPECT_FALSE(ParseCookie("a1:b2:c3", &err));
  EXPECT_EQ(err, "must be 0, 4 or 8 bytes, got 3");
  ASSERT_TRUE(ParseCookie("0xa1:b2:c3:d4", &err));
  EXPECT_EQ(FormatCookie(*ParseCookie("0xa1:b2:c3:d4", &err)), "a1b2c3d4");
  EXPECT_FALSE(ParseCookie(std::string("a1b2c3d4\0", 9), &err));
}

// Issue 11, item 3: names the kernel would take differently, or that are not ours to take.
TEST(NamesTest, InterfaceNamesAreCheckedAsTheKernelDoesAndStricter) {
  for (const char* bad : {"tap%d", "%", "a/b", "a:b", "a b", "a\tb", "a\nb", "a\x01", "a\x7f", ".", "..",
                          "all", "default", "lo"}) {
    EXPECT_NE(InterfaceNameError(bad), "") << bad;
  }
  EXPECT_NE(InterfaceNameError(std::string("pw\0x", 4)), "");
  EXPECT_EQ(
      InterfaceNameError("tap%d"),
      "must not contain '%' (the kernel would expand it as a template such as \"tap%d\"), got \"tap%d\"");
  EXPECT_THAT(InterfaceNameError("all"), ::testing::HasSubstr("reserved"));
  for (const char* good : {"pw0", "eth0", "lo0", "all1", "l2tp-a.b_c", "abcdefghijklmno"}) {
    EXPECT_EQ(InterfaceNameError(good), "") << good;
  }
}

// Issue 11, item 9: one quoting function, cut and escaped.
TEST(NamesTest, QuoteCutsAndEscapes) {
  EXPECT_EQ(Quote("pw0"), "\"pw0\"");
  EXPECT_EQ(Quote(""), "\"\"");
  EXPECT_EQ(Quote(std::string("a\"b\\c\n\r\t\0\x1b\x7f\xc3", 12)),
            "\"a\\\"b\\\\c\\n\\r\\t\\x00\\x1b\\x7f\\xc3\"");
  const std::string exact(kMaxQuotedBytes, 'a');
  EXPECT_EQ(Quote(exact), "\"" + exact + "\"");
  EXPECT_EQ(Quote(exact + "b"), "\"" + exact + "...\" (65 bytes)");
  const std::string huge = Quote(std::string(4'300'000, 'z'));
  EXPECT_EQ(huge, "\"" + std::string(kMaxQuotedBytes, 'z') + "...\" (4300000 bytes)");
  // Error messages that quote go through it.
  EXPECT_EQ(DnsLabelError(std::string(100, 'A')),
            "must be at most 63 characters, got 100 (\"" + std::string(64, 'A') + "...\" (100 bytes))");
  EXPECT_LT(InterfaceNameError(std::string(1'000'000, 'x')).size(), 200u);
  std::string err;
  ParseCookie(std::string(1'000'000, 'g'), &err);
  EXPECT_LT(err.size(), 200u);
}

TEST(SpecDefaultsTest, NormalisationFillsDefaults) {
  auto t = testing::MakeTunnel("t", 1, "2001:db8:0::0001", "2001:db8::2");
  NormalizeTunnelSpec(t.mutable_spec());
  EXPECT_EQ(t.spec().version(), 3u);
  EXPECT_EQ(t.spec().encap(), v1::ENCAPSULATION_UDP);
  EXPECT_EQ(t.spec().udp_source_port(), 1701u);
  EXPECT_EQ(t.spec().local(), "2001:db8::1");
  auto s = testing::MakeSession("s", "t", 9);
  s.mutable_spec()->set_cookie("0xAABBCCDD");
  s.mutable_spec()->mutable_reorder_timeout();  // explicit zero
  NormalizeSessionSpec(t.spec(), s.mutable_spec());
  EXPECT_EQ(s.spec().interface_name(), "l2tp1-9");
  EXPECT_EQ(s.spec().cookie(), "aabbccdd");
  EXPECT_EQ(s.spec().l2_specific_sublayer(), v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
  EXPECT_FALSE(s.spec().has_reorder_timeout());
}

// Issue 13: a DYNAMIC tunnel's ids are picked at run time (0 in the spec),
// so the default interface name comes from the session's name.
TEST(NamesTest, DefaultInterfaceNameForSessionIsDeterministicAndFits) {
  const std::string a = DefaultInterfaceNameForSession("pw-site-b");
  EXPECT_EQ(a.size(), 15u);
  EXPECT_EQ(a.substr(0, 3), "l2d");
  EXPECT_EQ(a, DefaultInterfaceNameForSession("pw-site-b"));
  EXPECT_NE(a, DefaultInterfaceNameForSession("pw-site-c"));
  EXPECT_EQ(InterfaceNameError(a), "");
  // Pinned: a name must not change between versions (the interface would be
  // replaced on upgrade). FNV-1a 64 of "a" is af63dc4c8601ec8c.
  EXPECT_EQ(DefaultInterfaceNameForSession("a"), "l2ddc4c8601ec8c");
  EXPECT_EQ(DefaultInterfaceNameForSession(std::string(63, 'z')).size(), 15u);
}

v1::Tunnel DynamicTunnel(uint32_t tunnel_id) {
  auto t = testing::MakeTunnel("t", tunnel_id);
  t.mutable_spec()->set_peer_tunnel_id(0);
  t.mutable_spec()->mutable_control()->set_mode(v1::TunnelControl::MODE_DYNAMIC);
  t.mutable_spec()->mutable_control()->set_role(v1::TunnelControl::ROLE_RESPONDER);
  return t;
}

TEST(SpecDefaultsTest, DynamicSessionsWithPickedIdsAreNamedAfterTheSession) {
  struct Case {
    uint32_t tunnel_id, session_id;
    bool dynamic;
    std::string want;
  };
  const std::string by_name = DefaultInterfaceNameForSession("pw-b");
  for (const Case& c : {Case{0, 0, true, by_name}, Case{7, 0, true, by_name}, Case{0, 9, true, by_name},
                        Case{7, 9, true, "l2tp7-9"}, Case{7, 9, false, "l2tp7-9"}}) {
    v1::Tunnel t = c.dynamic ? DynamicTunnel(c.tunnel_id) : testing::MakeTunnel("t", c.tunnel_id);
    NormalizeTunnelSpec(t.mutable_spec());
    auto s = testing::MakeSession("pw-b", "t", c.session_id);
    NormalizeSessionSpec(t.spec(), s.name(), s.mutable_spec());
    EXPECT_EQ(s.spec().interface_name(), c.want) << c.tunnel_id << "/" << c.session_id << " " << c.dynamic;
  }
  // A name given is kept.
  auto t = DynamicTunnel(0);
  auto s = testing::MakeSession("pw-b", "t", 0);
  s.mutable_spec()->set_interface_name("pw0");
  NormalizeSessionSpec(t.spec(), s.name(), s.mutable_spec());
  EXPECT_EQ(s.spec().interface_name(), "pw0");
  // Without the name (the older call) the ids decide, as before.
  auto plain = testing::MakeSession("pw-b", "t", 9);
  NormalizeSessionSpec(testing::MakeTunnel("t", 1).spec(), plain.mutable_spec());
  EXPECT_EQ(plain.spec().interface_name(), "l2tp1-9");
}

TEST(SpecDefaultsTest, ControlDefaultsStayUnsetAndStaticMeansUnset) {
  // A control that says no more than STATIC is the same as none.
  for (auto mode : {v1::TunnelControl::MODE_UNSPECIFIED, v1::TunnelControl::MODE_STATIC}) {
    auto t = testing::MakeTunnel("t", 1);
    t.mutable_spec()->mutable_control()->set_mode(mode);
    NormalizeTunnelSpec(t.mutable_spec());
    EXPECT_FALSE(t.spec().has_control()) << mode;
    EXPECT_FALSE(IsDynamic(t.spec()));
  }
  auto none = testing::MakeTunnel("t", 1);
  NormalizeTunnelSpec(none.mutable_spec());
  EXPECT_FALSE(none.spec().has_control());

  // DYNAMIC: nothing filled in; unset means the default at run time.
  auto t = DynamicTunnel(0);
  NormalizeTunnelSpec(t.mutable_spec());
  ASSERT_TRUE(t.spec().has_control());
  EXPECT_TRUE(IsDynamic(t.spec()));
  EXPECT_EQ(t.spec().control().mode(), v1::TunnelControl::MODE_DYNAMIC);
  EXPECT_EQ(t.spec().control().host_name(), "");
  EXPECT_FALSE(t.spec().control().has_hello_interval());
  EXPECT_EQ(t.spec().control().retransmit_retries(), 0u);
  EXPECT_EQ(t.spec().control().receive_window(), 0u);
  EXPECT_EQ(t.spec().tunnel_id(), 0u);
  EXPECT_EQ(t.spec().version(), 3u);
}

}  // namespace
}  // namespace l2tp
