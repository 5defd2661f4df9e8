#include "client/kind_arg.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace l2tp::cli {

absl::StatusOr<::l2tpagent::v1::ResourceKind> ParseKindArg(const std::string& text, bool allow_all) {
  namespace v1 = ::l2tpagent::v1;
  if (text == "tunnel" || text == "tunnels") return v1::RESOURCE_KIND_TUNNEL;
  if (text == "session" || text == "sessions") return v1::RESOURCE_KIND_SESSION;
  if (allow_all && text == "all") return v1::RESOURCE_KIND_UNSPECIFIED;
  return absl::InvalidArgumentError(absl::StrCat("unknown resource kind \"", text,
                                                 "\" (want tunnels, sessions", allow_all ? " or all)" : ")"));
}

}  // namespace l2tp::cli
