#include "client/age.h"

#include "absl/time/clock.h"

#include "gtest/gtest.h"

namespace l2tp::cli {
namespace {

TEST(AgeTest, KubectlStyleUnits) {
  EXPECT_EQ(FormatAge(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatAge(absl::Seconds(5)), "5s");
  EXPECT_EQ(FormatAge(absl::Seconds(59) + absl::Milliseconds(999)), "59s");
  EXPECT_EQ(FormatAge(absl::Seconds(60)), "1m");
  EXPECT_EQ(FormatAge(absl::Minutes(3) + absl::Seconds(59)), "3m");
  EXPECT_EQ(FormatAge(absl::Minutes(59)), "59m");
  EXPECT_EQ(FormatAge(absl::Hours(2) + absl::Minutes(30)), "2h");
  EXPECT_EQ(FormatAge(absl::Hours(23)), "23h");
  EXPECT_EQ(FormatAge(absl::Hours(24)), "1d");
  EXPECT_EQ(FormatAge(absl::Hours(24 * 4 + 5)), "4d");
  EXPECT_EQ(FormatAge(absl::Hours(24 * 364)), "364d");
  EXPECT_EQ(FormatAge(absl::Hours(24 * 365 * 2)), "2y");
}

TEST(AgeTest, SmallClockSkewReadsZeroLargeReadsInvalid) {
  EXPECT_EQ(FormatAge(absl::Milliseconds(-500)), "0s");
  EXPECT_EQ(FormatAge(absl::Seconds(-1)), "0s");
  EXPECT_EQ(FormatAge(absl::Seconds(-10)), "<invalid>");
}

TEST(AgeTest, SinceTimestamp) {
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  google::protobuf::Timestamp ts;
  ts.set_seconds(1'000'000 - 125);
  EXPECT_EQ(FormatAgeSince(ts, now), "2m");
  ts.set_seconds(1'000'000 - 3);
  ts.set_nanos(500'000'000);
  EXPECT_EQ(FormatAgeSince(ts, now), "2s");
}

TEST(AgeTest, UnsetTimestampIsUnknown) {
  EXPECT_EQ(FormatAgeSince(google::protobuf::Timestamp(), absl::Now()), "<unknown>");
}

}  // namespace
}  // namespace l2tp::cli
