#include "datapath/userspace/device_mark.h"

#include <string>

namespace l2tp::userspace {
namespace {
constexpr std::string_view kPrefix = "l2tp-agent ";

std::string MarkPrefix(std::string_view owner) {
  return std::string(kPrefix).append(owner).append(" session ");
}
}  // namespace

std::string FormatDeviceMark(std::string_view owner, uint32_t tunnel_id, uint32_t session_id) {
  return MarkPrefix(owner) + std::to_string(tunnel_id) + "/" + std::to_string(session_id);
}

bool IsMarkedBy(std::string_view alias, std::string_view owner) {
  return !owner.empty() && alias.starts_with(MarkPrefix(owner));
}

}  // namespace l2tp::userspace
