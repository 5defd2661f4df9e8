// An IPv4 or IPv6 address, as the datapaths need it: no names, no ports.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace l2tp {

struct IpAddress {
  int family = AF_UNSPEC;           // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  // The whole of `text` must be the address: a trailing byte, even after an
  // embedded NUL, makes it fail.
  static std::optional<IpAddress> Parse(std::string_view text);
  std::string ToString() const;
  bool is_v4() const { return family == AF_INET; }
  bool is_v6() const { return family == AF_INET6; }
  bool IsUnspecified() const;
  bool IsMulticast() const;
  bool IsLimitedBroadcast() const;  // 255.255.255.255
  bool IsLinkLocal() const;         // fe80::/10 (IPv6 only: it needs a scope)
  bool IsV4Mapped() const;          // ::ffff:a.b.c.d
  // Fills a sockaddr_in/sockaddr_in6 with this address and `port` (host order).
  socklen_t ToSockaddr(uint16_t port, sockaddr_storage* out) const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

}  // namespace l2tp
