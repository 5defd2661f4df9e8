#include "client/age.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace l2tp::cli {

std::string FormatAge(absl::Duration age) {
  int64_t seconds = absl::ToInt64Seconds(age);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60) return absl::StrCat(seconds, "s");
  int64_t minutes = seconds / 60;
  if (minutes < 60) return absl::StrCat(minutes, "m");
  int64_t hours = minutes / 60;
  if (hours < 24) return absl::StrCat(hours, "h");
  if (hours < 24 * 365) return absl::StrCat(hours / 24, "d");
  return absl::StrCat(hours / (24 * 365), "y");
}

std::string FormatAgeSince(const google::protobuf::Timestamp& since, absl::Time now) {
  if (since.seconds() == 0 && since.nanos() == 0) return "<unknown>";
  absl::Time t = absl::FromUnixSeconds(since.seconds()) + absl::Nanoseconds(since.nanos());
  return FormatAge(now - t);
}

}  // namespace l2tp::cli
