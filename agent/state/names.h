// Rules for resource names, interface names and cookies, and how validation
// messages quote the values they reject.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace l2tp {

// How much of a rejected value an error message quotes: a 4 MB bad value must
// not become a 4 MB status and log line.
inline constexpr size_t kMaxQuotedBytes = 64;

// `value` in double quotes, for error messages and logs. Quotes, backslashes,
// control characters and non-ASCII bytes are escaped (\n, \t, \", \\, \xNN),
// so the result is printable ASCII; a value longer than kMaxQuotedBytes is
// cut and marked: "aaaa..." (4300000 bytes). Every validation message quotes
// through this function.
std::string Quote(std::string_view value);

// Resource names are RFC 1123 DNS labels: 1-63 of [a-z0-9-], alphanumeric at
// both ends. Returns the reason when `name` is not one, empty when it is.
std::string DnsLabelError(std::string_view name);

// Linux interface names as the kernel's dev_valid_name accepts them (1-15
// bytes, not "." or "..", no '/', ':' or white space) and stricter: no '%'
// (the kernel would expand "tap%d" into another name), no control characters,
// and not a name the agent must never take over ("lo") or that /proc and
// sysctl reserve ("all", "default"). Empty when valid.
std::string InterfaceNameError(std::string_view name);

// The interface name of a session that names none: "l2tp<tid>-<sid>" when that
// fits in 15 bytes, otherwise "l2tp" and 11 hex digits of a hash of the ids.
std::string DefaultInterfaceName(uint32_t tunnel_id, uint32_t session_id);

// The interface name of a session of a DYNAMIC tunnel whose ids are picked at
// run time (0 in the spec): "l2d" and 12 hex digits of a hash (FNV-1a, 64
// bits, cut to 48) of the session's name, 15 bytes. Session names are unique
// and never change, so the name is stable whatever ids the control protocol
// picks; 48 bits keep an accidental clash unlikely even at a million
// sessions (one would be refused as an interface collision).
std::string DefaultInterfaceNameForSession(std::string_view session_name);

// The interface_name of an LNS (server) PPP session that names none: a
// prefix each call's number follows (1 to ppp.max_sessions, at most 10000),
// "l2p", 6 hex digits of the FNV-1a hash of the session's name, and "-"
// (10 bytes: "l2p3fa9c1-10000" still fits in 15). Ending in '-', never in a
// digit, so the calls' names of two prefixes cannot meet.
std::string DefaultPppInterfacePrefix(std::string_view session_name);

// Cookies are 4 or 8 bytes written as hex ("a1b2c3d4", "0xa1b2c3d4") or as
// colon-separated byte pairs ("a1:b2:c3:d4"); the empty string means no
// cookie. Returns the bytes, or nullopt with `error` set.
std::optional<std::vector<uint8_t>> ParseCookie(std::string_view text, std::string* error);
std::string FormatCookie(const std::vector<uint8_t>& bytes);  // lowercase hex, no prefix

}  // namespace l2tp
