// Resource ages the way kubectl prints them: 5s, 3m, 2h, 4d, 1y.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace l2tp::cli {

// Whole units, truncated; negative clock skew of up to a second reads "0s".
std::string FormatAge(absl::Duration age);

// Age of `since` at `now`; "<unknown>" when the timestamp is unset.
std::string FormatAgeSince(const google::protobuf::Timestamp& since, absl::Time now);

}  // namespace l2tp::cli
