// Rules for resource names, interface names and cookies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace l2tp {

// Resource names are RFC 1123 DNS labels: 1-63 of [a-z0-9-], alphanumeric at
// both ends. Returns the reason when `name` is not one, empty when it is.
std::string DnsLabelError(std::string_view name);

// Linux interface names: 1-15 bytes, not "." or "..", no '/', ':' or
// whitespace (the kernel's dev_valid_name). Empty when valid.
std::string InterfaceNameError(std::string_view name);

// The interface name of a session that names none: "l2tp<tid>-<sid>" when that
// fits in 15 bytes, otherwise "l2tp" and 11 hex digits of a hash of the ids.
std::string DefaultInterfaceName(uint32_t tunnel_id, uint32_t session_id);

// Cookies are written as hex ("a1b2c3d4", "0xa1b2c3d4", "a1:b2:c3:d4").
// Returns the bytes, or nullopt with `error` set.
std::optional<std::vector<uint8_t>> ParseCookie(std::string_view text, std::string* error);
std::string FormatCookie(const std::vector<uint8_t>& bytes);  // lowercase hex, no prefix

}  // namespace l2tp
