#include "agent/state/names.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace l2tp {
namespace {

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Why `c` may not appear in an interface name, or nullptr when it may.
const char* InterfaceCharError(unsigned char c) {
  if (c == '%') return "must not contain '%' (the kernel would expand it as a template such as \"tap%d\")";
  if (IsControl(c)) return "must not contain control characters";
  if (c == '/' || c == ':' || std::isspace(c)) return "must not contain '/', ':' or white space";
  return nullptr;
}

// FNV-1a, 64 bits: stable across versions and machines.
constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// "a1:b2:c3:d4": byte pairs joined by single colons.
bool IsColonPairs(std::string_view s) {
  if (s.size() % 3 != 2) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool colon_slot = i % 3 == 2;
    if (colon_slot ? s[i] != ':' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

std::string Quote(std::string_view value) {
  const std::string_view shown = value.substr(0, kMaxQuotedBytes);
  std::string out = "\"";
  for (char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (IsControl(c) || c >= 0x80) absl::StrAppendFormat(&out, "\\x%02x", c);
        else out.push_back(ch);
    }
  }
  if (shown.size() < value.size()) return absl::StrCat(out, "...\" (", value.size(), " bytes)");
  return out + "\"";
}

std::string DnsLabelError(std::string_view view) {
  const std::string name(view);  // Debian's Abseil has its own string_view
  if (name.empty()) return "must not be empty";
  if (name.size() > 63)
    return absl::StrCat("must be at most 63 characters, got ", name.size(), " (", Quote(name), ")");
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-')) {
      return absl::StrCat("must consist of lower-case letters, digits and '-', got ", Quote(name));
    }
  }
  if (name.front() == '-' || name.back() == '-') {
    return absl::StrCat("must start and end with a letter or digit, got ", Quote(name));
  }
  return "";
}

std::string InterfaceNameError(std::string_view view) {
  const std::string name(view);
  if (name.empty()) return "must not be empty";
  if (name.size() > 15)
    return absl::StrCat("must be at most 15 bytes, got ", name.size(), " (", Quote(name), ")");
  if (name == "." || name == "..") return absl::StrCat("must not be ", Quote(name));
  for (char c : name) {
    if (const char* e = InterfaceCharError(static_cast<unsigned char>(c)))
      return absl::StrCat(e, ", got ", Quote(name));
  }
  if (name == "lo") return "must not be \"lo\": the agent never takes over the loopback device";
  if (name == "all" || name == "default") {
    return absl::StrCat("must not be ", Quote(name), ": the name is reserved (/proc/sys/net/*/conf/", name,
                        ")");
  }
  return "";
}

std::string DefaultInterfaceName(uint32_t tunnel_id, uint32_t session_id) {
  std::string name = absl::StrCat("l2tp", tunnel_id, "-", session_id);
  if (name.size() <= 15) return name;
  // FNV-1a over the two ids.
  uint64_t h = kFnvOffset;
  for (uint32_t v : {tunnel_id, session_id}) {
    for (int i = 0; i < 4; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= kFnvPrime;
    }
  }
  return absl::StrFormat("l2tp%011x", h & 0xfffffffffffull);
}

std::string DefaultInterfaceNameForSession(std::string_view session_name) {
  uint64_t h = kFnvOffset;
  for (char c : session_name) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return absl::StrFormat("l2d%012x", h & 0xffffffffffffull);
}

std::string DefaultPppInterfacePrefix(std::string_view session_name) {
  uint64_t h = kFnvOffset;
  for (char c : session_name) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return absl::StrFormat("l2p%06x-", h & 0xffffffull);
}

std::optional<std::vector<uint8_t>> ParseCookie(std::string_view view, std::string* error) {
  if (view.empty()) return std::vector<uint8_t>{};  // no cookie
  std::string_view s = view;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  // The hex digits, two per byte; colons, when used, must separate every byte.
  std::string hex;
  if (s.find(':') != std::string_view::npos) {
    if (!IsColonPairs(s)) {
      *error = absl::StrCat(
          "colon-separated cookies must be pairs of hex digits (e.g. \"a1:b2:c3:d4\"), got ", Quote(view));
      return std::nullopt;
    }
    for (char c : s) {
      if (c != ':') hex.push_back(c);
    }
  } else if (!IsHex(s)) {
    *error = absl::StrCat("must be hex digits (e.g. \"a1b2c3d4\"), got ", Quote(view));
    return std::nullopt;
  } else {
    hex.assign(s);
  }
  if (hex.empty()) {
    *error = absl::StrCat("must be 4 or 8 bytes of hex, got no digits in ", Quote(view),
                          "; leave it empty for no cookie");
    return std::nullopt;
  }
  if (hex.size() % 2 != 0) {
    *error = absl::StrCat("must be a whole number of bytes (an even number of hex digits), got ",
                          Quote(view));
    return std::nullopt;
  }
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  if (bytes.size() != 4 && bytes.size() != 8) {
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
