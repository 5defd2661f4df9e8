#include "agent/names.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace l2tp {

std::string DnsLabelError(std::string_view view) {
  const std::string name(view);  // Debian's Abseil has its own string_view
  if (name.empty()) return "must not be empty";
  if (name.size() > 63) return absl::StrCat("must be at most 63 characters, got ", name.size());
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return absl::StrCat("must consist of lower-case letters, digits and '-', got \"", name, "\"");
    }
  }
  if (name.front() == '-' || name.back() == '-') {
    return absl::StrCat("must start and end with a letter or digit, got \"", name, "\"");
  }
  return "";
}

std::string InterfaceNameError(std::string_view view) {
  const std::string name(view);
  if (name.empty()) return "must not be empty";
  if (name.size() > 15) {
    return absl::StrCat("must be at most 15 bytes, got ", name.size(), " (\"", name, "\")");
  }
  if (name == "." || name == "..") return absl::StrCat("must not be \"", name, "\"");
  for (char c : name) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0') {
      return absl::StrCat("must not contain '/', ':' or white space, got \"", name, "\"");
    }
  }
  return "";
}

std::string DefaultInterfaceName(uint32_t tunnel_id, uint32_t session_id) {
  std::string name = absl::StrCat("l2tp", tunnel_id, "-", session_id);
  if (name.size() <= 15) return name;
  // FNV-1a over the two ids: stable across versions and machines.
  uint64_t h = 14695981039346656037ull;
  for (uint32_t v : {tunnel_id, session_id}) {
    for (int i = 0; i < 4; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  return absl::StrFormat("l2tp%011x", h & 0xfffffffffffull);
}

std::optional<std::vector<uint8_t>> ParseCookie(std::string_view view, std::string* error) {
  const std::string text(view);
  std::string hex;
  std::string_view s = view;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  for (char c : s) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      *error = absl::StrCat("must be hex digits (e.g. \"a1b2c3d4\"), got \"", text, "\"");
      return std::nullopt;
    }
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() % 2 != 0) {
    *error = absl::StrCat("must be a whole number of bytes (an even number of hex digits), got \"",
                          text, "\"");
    return std::nullopt;
  }
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  if (bytes.size() != 0 && bytes.size() != 4 && bytes.size() != 8) {
    *error = absl::StrCat("must be 0, 4 or 8 bytes, got ", bytes.size());
    return std::nullopt;
  }
  return bytes;
}

std::string FormatCookie(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (uint8_t b : bytes) absl::StrAppendFormat(&out, "%02x", b);
  return out;
}

}  // namespace l2tp
