#include "agent/ppp/address_pool.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace l2tp::ppp {
namespace {

AddressPool Pool(std::string_view cidr, std::string_view local = "") {
  absl::StatusOr<AddressPool> pool = AddressPool::Create(cidr, local);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return *std::move(pool);
}

TEST(AddressPool, LowestFreeFirstWithoutNetworkBroadcastOrLocal) {
  AddressPool pool = Pool("10.0.0.0/29", "10.0.0.1");
  EXPECT_EQ(pool.size(), 5u);  // .2 .. .6
  EXPECT_EQ(*pool.Allocate("a"), "10.0.0.2");
  EXPECT_EQ(*pool.Allocate("b"), "10.0.0.3");
  EXPECT_EQ(*pool.Allocate("a"), "10.0.0.2");  // the call's own, again
  EXPECT_EQ(pool.in_use(), 2u);
  EXPECT_EQ(pool.AddressOf("b"), "10.0.0.3");
  EXPECT_EQ(pool.AddressOf("c"), std::nullopt);
}

TEST(AddressPool, ExhaustionAndReuseAfterRelease) {
  AddressPool pool = Pool("10.0.0.0/30", "10.0.0.1");
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(*pool.Allocate("a"), "10.0.0.2");
  absl::StatusOr<std::string> none = pool.Allocate("b");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(none.status().message(), "remote_address_pool 10.0.0.0/30: all 1 addresses in use");
  EXPECT_TRUE(pool.Release("a"));
  EXPECT_FALSE(pool.Release("a"));
  EXPECT_EQ(*pool.Allocate("b"), "10.0.0.2");
}

TEST(AddressPool, ReleasedGapIsFilledFirst) {
  AddressPool pool = Pool("192.168.5.0/24");
  for (const char* call : {"a", "b", "c", "d"}) ASSERT_TRUE(pool.Allocate(call).ok());
  EXPECT_TRUE(pool.Release("b"));  // 192.168.5.2
  EXPECT_EQ(*pool.Allocate("e"), "192.168.5.2");
  EXPECT_EQ(*pool.Allocate("f"), "192.168.5.5");
}

TEST(AddressPool, LocalAddressOutsideTheRangeTakesNothing) {
  AddressPool pool = Pool("10.0.1.0/30", "10.0.0.1");
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(*pool.Allocate("a"), "10.0.1.1");
}

TEST(AddressPool, SlashThirtyOneAndThirtyTwo) {
  AddressPool p31 = Pool("10.0.0.4/31");  // RFC 3021: both ends usable
  EXPECT_EQ(p31.size(), 2u);
  EXPECT_EQ(*p31.Allocate("a"), "10.0.0.4");
  EXPECT_EQ(*p31.Allocate("b"), "10.0.0.5");
  EXPECT_EQ(p31.Allocate("c").status().message(), "remote_address_pool 10.0.0.4/31: all 2 addresses in use");

  AddressPool p31_local = Pool("10.0.0.4/31", "10.0.0.4");
  EXPECT_EQ(*p31_local.Allocate("a"), "10.0.0.5");

  AddressPool p32 = Pool("10.9.9.9/32");
  EXPECT_EQ(*p32.Allocate("a"), "10.9.9.9");
  EXPECT_FALSE(p32.Allocate("b").ok());

  EXPECT_EQ(AddressPool::Create("10.9.9.9/32", "10.9.9.9").status().message(),
            "remote_address_pool 10.9.9.9/32: has no address left to give a call");
  EXPECT_EQ(AddressPool::Create("10.0.0.0/30", "10.0.0.1").value().size(), 1u);
}

TEST(AddressPool, BadCidrsNameTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {"10.0.0.0", "remote_address_pool: want an IPv4 CIDR like 10.0.0.0/24, got \"10.0.0.0\""},
      {"pool/24", "remote_address_pool: want an IPv4 CIDR like 10.0.0.0/24, got \"pool/24\""},
      {"10.0.0.0/33", "remote_address_pool 10.0.0.0/33: the prefix length must be 0..32"},
      {"10.0.0.0/", "remote_address_pool 10.0.0.0/: the prefix length must be 0..32"},
      {"10.0.0.0/+8", "remote_address_pool 10.0.0.0/+8: the prefix length must be 0..32"},
      {"10.0.0.1/24", "remote_address_pool 10.0.0.1/24: host bits are set (the network is 10.0.0.0/24)"},
      {"127.0.0.0/24", "remote_address_pool 127.0.0.0/24: holds 127.0.0.0, which is a loopback address"},
      {"224.0.0.0/24", "remote_address_pool 224.0.0.0/24: holds 224.0.0.0, which is a multicast address"},
      {"0.0.0.0/0", "remote_address_pool 0.0.0.0/0: holds 0.0.0.0, which is in 0.0.0.0/8 (this network)"},
      {"64.0.0.0/2", "remote_address_pool 64.0.0.0/2: holds 127.255.255.255, which is a loopback address"},
      {"fd00::/64",
       "remote_address_pool fd00::/64: IPv6 pools are not supported (pppd assigns IPv4 addresses; IPv6 uses "
       "IPV6CP)"},
  };
  for (const auto& [cidr, error] : cases) {
    absl::StatusOr<AddressPool> pool = AddressPool::Create(cidr, "");
    EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument) << cidr;
    EXPECT_EQ(pool.status().message(), error) << cidr;
  }
  EXPECT_EQ(AddressPool::Create("10.0.0.0/24", "", "sessions[2].ppp.remote_address_pool").status().code(),
            absl::StatusCode::kOk);
  EXPECT_EQ(AddressPool::Create("10.0.0.0/33", "", "sessions[2].ppp.remote_address_pool").status().message(),
            "sessions[2].ppp.remote_address_pool 10.0.0.0/33: the prefix length must be 0..32");
}

TEST(AddressPool, NeverHandsOutADuplicate) {
  AddressPool pool = Pool("10.1.0.0/26", "10.1.0.17");
  std::mt19937 random(7);
  std::map<std::string, std::string> held;
  for (int i = 0; i < 5000; ++i) {
    const std::string call = std::to_string(random() % 80);
    if (random() % 3 == 0) {
      EXPECT_EQ(pool.Release(call), held.erase(call) == 1);
      continue;
    }
    absl::StatusOr<std::string> address = pool.Allocate(call);
    if (!address.ok()) {
      EXPECT_EQ(held.size(), pool.size());
      continue;
    }
    if (held.count(call)) {
      EXPECT_EQ(held[call], *address);
    }
    held[call] = *address;
    std::set<std::string> distinct;
    for (const auto& [c, a] : held) distinct.insert(a);
    ASSERT_EQ(distinct.size(), held.size()) << "a duplicate after " << i << " steps";
    ASSERT_FALSE(distinct.count("10.1.0.17"));
    ASSERT_FALSE(distinct.count("10.1.0.0"));
    ASSERT_FALSE(distinct.count("10.1.0.63"));
  }
}

}  // namespace
}  // namespace l2tp::ppp
