#include "agent/reconcile/backoff.h"

#include "gtest/gtest.h"

namespace l2tp {
namespace {

using ms = std::chrono::milliseconds;

TEST(BackoffTest, DoublesUpToTheCap) {
  Backoff b(ms(100), ms(1000));
  EXPECT_EQ(b.Delay(0), ms(0));
  EXPECT_EQ(b.Delay(1), ms(100));
  EXPECT_EQ(b.Delay(2), ms(200));
  EXPECT_EQ(b.Delay(4), ms(800));
  EXPECT_EQ(b.Delay(5), ms(1000));
  EXPECT_EQ(b.Delay(1000), ms(1000));  // no overflow
}

}  // namespace
}  // namespace l2tp
