#include "agent/control/id_picker.h"

#include <gtest/gtest.h>

namespace l2tp {
namespace {

TEST(IdPicker, NeverPicksZeroOrAnIdInUse) {
  std::mt19937_64 random(1);
  std::set<uint32_t> used = {1, 2, 3};
  for (int i = 0; i < 1000; ++i) {
    const uint32_t id = PickFreeId(random, 10, used);
    ASSERT_GE(id, 1u);
    ASSERT_LE(id, 10u);
    ASSERT_FALSE(used.count(id)) << id;
  }
}

TEST(IdPicker, FindsTheLastFreeIdOfAFullSpace) {
  std::mt19937_64 random(2);
  std::set<uint32_t> used;
  for (uint32_t i = 1; i <= 0xffff; ++i) {
    if (i != 4242) used.insert(i);
  }
  EXPECT_EQ(PickFreeId(random, 0xffff, used), 4242u);
  used.insert(4242);
  EXPECT_EQ(PickFreeId(random, 0xffff, used), 0u);
}

TEST(IdPicker, IdsInUseGathersOnceAndNeverPicksTheSameIdTwice) {
  std::mt19937_64 random(3);
  int gathered = 0;
  IdsInUse ids([&] {
    ++gathered;
    return std::set<uint32_t>{1, 2};
  });
  std::set<uint32_t> picked;
  for (int i = 0; i < 8; ++i) {
    const uint32_t id = ids.Pick(random, 10);
    ASSERT_GE(id, 3u);
    ASSERT_TRUE(picked.insert(id).second) << id << " picked twice";
  }
  EXPECT_EQ(ids.Pick(random, 10), 0u);  // 1..10 all in use now
  EXPECT_EQ(gathered, 1);
}

}  // namespace
}  // namespace l2tp
