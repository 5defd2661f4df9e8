#include "agent/names.h"

#include "agent/spec_defaults.h"
#include "gtest/gtest.h"
#include "test_resources.h"

namespace l2tp {
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

// The kernel's l2tp_eth figures (ip-l2tp(8), l2tp_eth_adjust_mtu).
TEST(SpecDefaultsTest, MtuMatchesLinux) {
  auto t = testing::MakeTunnel("t", 1);
  NormalizeTunnelSpec(t.mutable_spec());
  auto s = testing::MakeSession("s", "t", 1);
  NormalizeSessionSpec(t.spec(), s.mutable_spec());
  EXPECT_EQ(EffectiveMtu(t.spec(), s.spec()), 1446u);
  s.mutable_spec()->set_cookie("0011223344556677");
  EXPECT_EQ(EffectiveMtu(t.spec(), s.spec()), 1438u);
  s.mutable_spec()->set_cookie("");
  t.mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  EXPECT_EQ(EffectiveMtu(t.spec(), s.spec()), 1458u);
  s.mutable_spec()->set_mtu(1300);
  EXPECT_EQ(EffectiveMtu(t.spec(), s.spec()), 1300u);
}

}  // namespace
}  // namespace l2tp
