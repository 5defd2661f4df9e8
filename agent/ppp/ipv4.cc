#include "agent/ppp/ipv4.h"

#include <arpa/inet.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"

namespace l2tp::ppp {

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  if (text.size() > INET_ADDRSTRLEN - 1) return std::nullopt;
  const std::string copy(text);  // inet_pton wants a terminated string
  in_addr addr{};
  if (inet_pton(AF_INET, copy.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t address) {
  return absl::StrCat(address >> 24, ".", (address >> 16) & 0xff, ".", (address >> 8) & 0xff, ".",
                      address & 0xff);
}

std::string_view UnusableLinkAddress(uint32_t address) {
  const uint32_t first = address >> 24;
  if (first == 0) return "is in 0.0.0.0/8 (this network)";
  if (first == 127) return "is a loopback address";
  if (first >= 224 && first < 240) return "is a multicast address";
  if (first >= 240) return "is in the reserved 240.0.0.0/4";
  return "";
}

absl::Status CheckLinkAddress(std::string_view field, std::string_view text) {
  const std::optional<uint32_t> address = ParseIpv4(text);
  if (!address) {
    return absl::InvalidArgumentError(absl::StrCat(Av(field), ": want an IPv4 address like 10.0.0.1, got \"",
                                                   absl::CHexEscape(Av(text)), "\""));
  }
  const std::string_view why = UnusableLinkAddress(*address);
  if (!why.empty()) return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", Av(text), " ", Av(why)));
  return absl::OkStatus();
}

}  // namespace l2tp::ppp
