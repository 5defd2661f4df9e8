// The KIND argument of get, stats and delete: "tunnel(s)", "session(s)", "all".
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::cli {

// "tunnel"/"tunnels" -> TUNNEL, "session"/"sessions" -> SESSION and, when
// `allow_all`, "all" -> UNSPECIFIED. Anything else is an error listing the choices.
absl::StatusOr<::l2tpagent::v1::ResourceKind> ParseKindArg(const std::string& text, bool allow_all);

}  // namespace l2tp::cli
