#include "control/message.h"

#include "absl/strings/str_cat.h"

namespace l2tp::control {
namespace {

struct Named {
  uint16_t value;
  const char* name;
};

const char* Lookup(std::span<const Named> table, uint16_t value) {
  for (const Named& n : table) {
    if (n.value == value) return n.name;
  }
  return nullptr;
}

// RFC 2661 section 3.2 and RFC 3931 section 3.1.
constexpr Named kMessageTypes[] = {
    {1, "SCCRQ"}, {2, "SCCRP"}, {3, "SCCCN"}, {4, "StopCCN"}, {6, "HELLO"},
    {7, "OCRQ"},  {8, "OCRP"},  {9, "OCCN"},  {10, "ICRQ"},   {11, "ICRP"},
    {12, "ICCN"}, {14, "CDN"},  {15, "WEN"},  {16, "SLI"},    {20, "ACK"},
};

// RFC 2661 section 4.4 (0-39) and RFC 3931 sections 5.4.1-5.4.5 (58 and up).
constexpr Named kAvpNames[] = {
    {0, "Message Type"},
    {1, "Result Code"},
    {2, "Protocol Version"},
    {3, "Framing Capabilities"},
    {4, "Bearer Capabilities"},
    {5, "Tie Breaker"},
    {6, "Firmware Revision"},
    {7, "Host Name"},
    {8, "Vendor Name"},
    {9, "Assigned Tunnel ID"},
    {10, "Receive Window Size"},
    {11, "Challenge"},
    {12, "Q.931 Cause Code"},
    {13, "Challenge Response"},
    {14, "Assigned Session ID"},
    {15, "Call Serial Number"},
    {16, "Minimum BPS"},
    {17, "Maximum BPS"},
    {18, "Bearer Type"},
    {19, "Framing Type"},
    {21, "Called Number"},
    {22, "Calling Number"},
    {23, "Sub-Address"},
    {24, "Tx Connect Speed"},
    {25, "Physical Channel ID"},
    {26, "Initial Received LCP CONFREQ"},
    {27, "Last Sent LCP CONFREQ"},
    {28, "Last Received LCP CONFREQ"},
    {29, "Proxy Authen Type"},
    {30, "Proxy Authen Name"},
    {31, "Proxy Authen Challenge"},
    {32, "Proxy Authen ID"},
    {33, "Proxy Authen Response"},
    {34, "Call Errors"},
    {35, "ACCM"},
    {36, "Random Vector"},
    {37, "Private Group ID"},
    {38, "Rx Connect Speed"},
    {39, "Sequencing Required"},
    {58, "Extended Vendor ID"},
    {59, "Message Digest"},
    {60, "Router ID"},
    {61, "Assigned Control Connection ID"},
    {62, "Pseudowire Capabilities List"},
    {63, "Local Session ID"},
    {64, "Remote Session ID"},
    {65, "Assigned Cookie"},
    {66, "Remote End ID"},
    {68, "Pseudowire Type"},
    {69, "L2-Specific Sublayer"},
    {70, "Data Sequencing"},
    {71, "Circuit Status"},
    {72, "Preferred Language"},
    {73, "Control Message Authentication Nonce"},
    {74, "Tx Connect Speed (64-bit)"},
    {75, "Rx Connect Speed (64-bit)"},
};

// The IETF AVPs RFC 3931 keeps from RFC 2661 (section 5.4) or adds. The
// PPP-only ones (framing, bearer, LCP, proxy authentication, ACCM) and the
// v2 tunnel and session ids are not L2TPv3.
bool IsKnownV3Avp(uint16_t type) {
  switch (type) {
    case 0:   // Message Type
    case 1:   // Result Code
    case 5:   // Control Connection / Session Tie Breaker
    case 6:   // Firmware Revision
    case 7:   // Host Name
    case 8:   // Vendor Name
    case 10:  // Receive Window Size
    case 12:  // Q.931 Cause Code
    case 15:  // Serial Number
    case 25:  // Physical Channel ID
    case 34:  // Circuit Errors
    case 36:  // Random Vector
      return true;
    default: return type >= 59 && type <= 75 && type != 67;
  }
}

// RFC 2661 section 4.4.2; 8 from RFC 3308 (DiffServ).
constexpr Named kStopccnResults[] = {
    {0, "reserved"},
    {1, "general request to clear the control connection"},
    {2, "general error"},
    {3, "control connection already exists"},
    {4, "requester is not authorized"},
    {5, "protocol version not supported"},
    {6, "requester is being shut down"},
    {7, "finite state machine error or timeout"},
    {8, "mismatching CCDS value"},
};

// RFC 2661 section 4.4.2 (0-11), RFC 3308 (12), RFC 3931 section 5.4.2 (13-16).
constexpr Named kCdnResults[] = {
    {0, "reserved"},
    {1, "loss of carrier or circuit disconnect"},
    {2, "general error"},
    {3, "administrative disconnect"},
    {4, "facilities unavailable, temporary"},
    {5, "facilities unavailable, permanent"},
    {6, "invalid destination"},
    {7, "no carrier detected"},
    {8, "busy signal"},
    {9, "no dial tone"},
    {10, "not established in the time allotted"},
    {11, "no appropriate framing detected"},
    {12, "mismatching SDS value"},
    {13, "lost the tie breaker"},
    {14, "unsupported pseudowire type"},
    {15, "sequencing required without a valid L2-Specific Sublayer"},
    {16, "finite state machine error or timeout"},
};

// RFC 2661 section 4.4.2 (0-8), RFC 3931 section 5.4.2 (9).
constexpr Named kErrorCodes[] = {
    {0, "no general error"},       {1, "no control connection exists yet"},
    {2, "length is wrong"},        {3, "field value out of range or reserved field not zero"},
    {4, "insufficient resources"}, {5, "invalid session ID"},
    {6, "generic vendor error"},   {7, "try another"},
    {8, "unknown mandatory AVP"},  {9, "try another directed"},
};

std::string Numbered(std::string_view what, uint16_t value, const char* name) {
  if (name == nullptr) return absl::StrCat(std::string(what), " ", value);
  return absl::StrCat(std::string(what), " ", value, " (", name, ")");
}

template <typename T>
std::optional<T> ReadBigEndian(const ControlMessage& m, AvpType type) {
  const Avp* avp = m.Find(type);
  if (avp == nullptr || avp->value.size() != sizeof(T)) return std::nullopt;
  T v = 0;
  for (uint8_t b : avp->value) v = static_cast<T>(v << 8 | b);
  return v;
}

template <typename T>
Avp BigEndianAvp(AvpType type, T v, bool mandatory) {
  Avp avp{.mandatory = mandatory, .type = static_cast<uint16_t>(type), .value = {}};
  for (size_t i = sizeof(T); i > 0; --i) avp.value.push_back(static_cast<uint8_t>(v >> (8 * (i - 1))));
  return avp;
}

}  // namespace

std::string MessageTypeName(uint16_t type) {
  const char* name = Lookup(kMessageTypes, type);
  return name != nullptr ? std::string(name) : absl::StrCat("type ", type);
}

std::string AvpName(uint16_t vendor_id, uint16_t type) {
  if (vendor_id != 0) return absl::StrCat("vendor ", vendor_id, " AVP ", type);
  const char* name = Lookup(kAvpNames, type);
  return name != nullptr ? std::string(name) : absl::StrCat("AVP ", type);
}

bool IsKnownAvp(uint8_t version, uint16_t vendor_id, uint16_t type) {
  if (vendor_id != 0) return false;
  if (version == kL2tpV3) return IsKnownV3Avp(type);
  return type <= 39 && type != 20;  // 20 is reserved in RFC 2661
}

std::optional<uint16_t> ControlMessage::Type() const { return U16(*this, AvpType::kMessageType); }

const Avp* ControlMessage::Find(AvpType type) const {
  for (const Avp& avp : avps) {
    if (avp.Is(type)) return &avp;
  }
  return nullptr;
}

std::optional<uint16_t> U16(const ControlMessage& m, AvpType type) {
  return ReadBigEndian<uint16_t>(m, type);
}
std::optional<uint32_t> U32(const ControlMessage& m, AvpType type) {
  return ReadBigEndian<uint32_t>(m, type);
}
std::optional<uint64_t> U64(const ControlMessage& m, AvpType type) {
  return ReadBigEndian<uint64_t>(m, type);
}

std::optional<std::string> Text(const ControlMessage& m, AvpType type) {
  const Avp* avp = m.Find(type);
  if (avp == nullptr) return std::nullopt;
  return std::string(avp->value.begin(), avp->value.end());
}

std::optional<std::vector<uint8_t>> Bytes(const ControlMessage& m, AvpType type) {
  const Avp* avp = m.Find(type);
  if (avp == nullptr) return std::nullopt;
  return avp->value;
}

Avp U16Avp(AvpType type, uint16_t v, bool mandatory) { return BigEndianAvp(type, v, mandatory); }
Avp U32Avp(AvpType type, uint32_t v, bool mandatory) { return BigEndianAvp(type, v, mandatory); }
Avp U64Avp(AvpType type, uint64_t v, bool mandatory) { return BigEndianAvp(type, v, mandatory); }

Avp BytesAvp(AvpType type, std::span<const uint8_t> v, bool mandatory) {
  return Avp{.mandatory = mandatory, .type = static_cast<uint16_t>(type), .value = {v.begin(), v.end()}};
}

Avp TextAvp(AvpType type, std::string_view v, bool mandatory) {
  return Avp{.mandatory = mandatory, .type = static_cast<uint16_t>(type), .value = {v.begin(), v.end()}};
}

// Result Code, [Error Code, [Error Message]]: a message needs an error code
// in front of it, so a message without one goes out with error 0.
Avp ResultCodeAvp(const ResultCode& r) {
  Avp avp = U16Avp(AvpType::kResultCode, r.result);
  if (!r.error && r.message.empty()) return avp;
  const uint16_t error = r.error.value_or(0);
  avp.value.push_back(static_cast<uint8_t>(error >> 8));
  avp.value.push_back(static_cast<uint8_t>(error));
  avp.value.insert(avp.value.end(), r.message.begin(), r.message.end());
  return avp;
}

std::optional<ResultCode> ReadResultCode(const ControlMessage& m) {
  const Avp* avp = m.Find(AvpType::kResultCode);
  if (avp == nullptr) return std::nullopt;
  const std::vector<uint8_t>& v = avp->value;
  if (v.size() < 2 || v.size() == 3) return std::nullopt;  // RFC 2661 4.4.2: 8, 10 or more bytes
  ResultCode r;
  r.result = static_cast<uint16_t>(v[0] << 8 | v[1]);
  if (v.size() >= 4) r.error = static_cast<uint16_t>(v[2] << 8 | v[3]);
  if (v.size() > 4) r.message.assign(v.begin() + 4, v.end());
  return r;
}

std::string DescribeResultCode(MessageType message_type, const ResultCode& r) {
  const char* result_name = nullptr;
  if (message_type == MessageType::kStopccn) result_name = Lookup(kStopccnResults, r.result);
  if (message_type == MessageType::kCdn) result_name = Lookup(kCdnResults, r.result);
  std::string out = Numbered("result", r.result, result_name);
  if (r.error) absl::StrAppend(&out, ", ", Numbered("error", *r.error, Lookup(kErrorCodes, *r.error)));
  if (!r.message.empty()) absl::StrAppend(&out, ": ", r.message);
  return out;
}

}  // namespace l2tp::control
