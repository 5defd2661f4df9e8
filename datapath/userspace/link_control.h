// Network devices through rtnetlink (messages from link_messages.h): look one
// up, list them, set an alias, delete one. Each call opens its own socket, so
// any thread may call; they are control-path calls, not per-packet ones.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datapath/userspace/link_messages.h"

namespace l2tp::userspace {

// The device `name`, or nullopt when there is none.
absl::StatusOr<std::optional<LinkInfo>> FindLink(std::string_view name);
// Every device of this network namespace.
absl::StatusOr<std::vector<LinkInfo>> ListLinks();
absl::Status SetLinkAlias(int ifindex, std::string_view alias);
absl::Status DeleteLink(int ifindex);

}  // namespace l2tp::userspace
