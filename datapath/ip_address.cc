#include "datapath/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace l2tp {

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton reads up to the first NUL; "10.0.1.1\0junk" is not an address.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  std::string s(text);  // inet_pton needs a NUL-terminated string
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family != AF_INET && family != AF_INET6) return "";
  inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::IsUnspecified() const {
  size_t n = is_v4() ? 4 : 16;
  return std::all_of(bytes.begin(), bytes.begin() + n, [](uint8_t b) { return b == 0; });
}

bool IpAddress::IsMulticast() const { return is_v4() ? (bytes[0] & 0xf0) == 0xe0 : bytes[0] == 0xff; }

bool IpAddress::IsLimitedBroadcast() const {
  return is_v4() && std::all_of(bytes.begin(), bytes.begin() + 4, [](uint8_t b) { return b == 0xff; });
}

bool IpAddress::IsLinkLocal() const { return is_v6() && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80; }

bool IpAddress::IsV4Mapped() const {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return is_v6() && std::equal(bytes.begin(), bytes.begin() + 12, kPrefix);
}

socklen_t IpAddress::ToSockaddr(uint16_t port, sockaddr_storage* out) const {
  std::memset(out, 0, sizeof *out);
  if (is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, bytes.data(), 4);
    return sizeof *sin;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, bytes.data(), 16);
  return sizeof *sin6;
}

}  // namespace l2tp
