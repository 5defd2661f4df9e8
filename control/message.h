// L2TP control messages, both versions, as values: the header (RFC 2661
// section 3.1, RFC 3931 section 3.2.1), the AVPs (RFC 2661 section 4.1,
// RFC 3931 section 5.1) and the message types. codec.h turns them into bytes
// and back; messages.h builds each message the protocol sends.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace l2tp::control {

// The version field of the header: 2 (RFC 2661) or 3 (RFC 3931).
inline constexpr uint8_t kL2tpV2 = 2;
inline constexpr uint8_t kL2tpV3 = 3;

enum class MessageType : uint16_t {
  kSccrq = 1,
  kSccrp = 2,
  kScccn = 3,
  kStopccn = 4,
  kHello = 6,
  kOcrq = 7,
  kOcrp = 8,
  kOccn = 9,
  kIcrq = 10,
  kIcrp = 11,
  kIccn = 12,
  kCdn = 14,
  kWen = 15,
  kSli = 16,
  kAck = 20,  // RFC 3931 only: an explicit acknowledgement
};

// "SCCRQ", "HELLO", ...; "type 99" for an unknown one.
std::string MessageTypeName(uint16_t type);

// IETF AVP attribute types (vendor id 0). L2TPv3 reuses the L2TPv2 numbers
// it keeps (Message Type, Result Code, Host Name, ...) and adds 58 and up.
enum class AvpType : uint16_t {
  kMessageType = 0,
  kResultCode = 1,
  kProtocolVersion = 2,
  kFramingCapabilities = 3,
  kBearerCapabilities = 4,
  kTieBreaker = 5,
  kFirmwareRevision = 6,
  kHostName = 7,
  kVendorName = 8,
  kAssignedTunnelId = 9,
  kReceiveWindowSize = 10,
  kChallenge = 11,
  kQ931CauseCode = 12,
  kChallengeResponse = 13,
  kAssignedSessionId = 14,
  kCallSerialNumber = 15,  // "Serial Number" in RFC 3931
  kMinimumBps = 16,
  kMaximumBps = 17,
  kBearerType = 18,
  kFramingType = 19,
  kCalledNumber = 21,
  kCallingNumber = 22,
  kSubAddress = 23,
  kTxConnectSpeed = 24,
  kPhysicalChannelId = 25,
  kInitialReceivedLcpConfreq = 26,
  kLastSentLcpConfreq = 27,
  kLastReceivedLcpConfreq = 28,
  kProxyAuthenType = 29,
  kProxyAuthenName = 30,
  kProxyAuthenChallenge = 31,
  kProxyAuthenId = 32,
  kProxyAuthenResponse = 33,
  kCallErrors = 34,
  kAccm = 35,
  kRandomVector = 36,
  kPrivateGroupId = 37,
  kRxConnectSpeed = 38,
  kSequencingRequired = 39,
  // RFC 3931
  kMessageDigest = 59,
  kRouterId = 60,
  kAssignedControlConnectionId = 61,
  kPseudowireCapabilitiesList = 62,
  kLocalSessionId = 63,
  kRemoteSessionId = 64,
  kAssignedCookie = 65,
  kRemoteEndId = 66,
  kPseudowireType = 68,
  kL2SpecificSublayer = 69,
  kDataSequencing = 70,
  kCircuitStatus = 71,
  kPreferredLanguage = 72,
  kControlMessageAuthenticationNonce = 73,
  kTxConnectSpeedBps = 74,
  kRxConnectSpeedBps = 75,
};

// "Host Name", ...; "AVP 99" (or "vendor 9 AVP 1") when unknown.
std::string AvpName(uint16_t vendor_id, uint16_t type);

// True for the IETF AVPs this implementation understands in `version`: an
// unknown AVP with the M bit set ends the tunnel or session.
bool IsKnownAvp(uint8_t version, uint16_t vendor_id, uint16_t type);

struct Avp {
  bool mandatory = false;  // M bit
  bool hidden = false;     // H bit: `value` is the plain value; hidden on the wire
  uint16_t vendor_id = 0;
  uint16_t type = 0;
  std::vector<uint8_t> value;

  bool Is(AvpType t) const { return vendor_id == 0 && type == static_cast<uint16_t>(t); }
  friend bool operator==(const Avp&, const Avp&) = default;
};

// The control header. In v2 `tunnel_id` is 16 bits and `session_id` is the
// header's Session ID; in v3 `tunnel_id` is the 32-bit Control Connection ID
// and `session_id` is unused (always 0).
struct ControlHeader {
  uint8_t version = kL2tpV2;
  uint32_t tunnel_id = 0;
  uint16_t session_id = 0;
  uint16_t ns = 0;
  uint16_t nr = 0;
  friend bool operator==(const ControlHeader&, const ControlHeader&) = default;
};

struct ControlMessage {
  ControlHeader header;
  std::vector<Avp> avps;  // in wire order; empty for a ZLB

  bool IsZlb() const { return avps.empty(); }
  // The Message Type AVP's value; nullopt for a ZLB.
  std::optional<uint16_t> Type() const;
  const Avp* Find(AvpType type) const;  // first IETF AVP of that type
  friend bool operator==(const ControlMessage&, const ControlMessage&) = default;
};

// Typed reads of IETF AVP values; nullopt when absent or of the wrong size.
std::optional<uint16_t> U16(const ControlMessage& m, AvpType type);
std::optional<uint32_t> U32(const ControlMessage& m, AvpType type);
std::optional<uint64_t> U64(const ControlMessage& m, AvpType type);
std::optional<std::string> Text(const ControlMessage& m, AvpType type);
std::optional<std::vector<uint8_t>> Bytes(const ControlMessage& m, AvpType type);

// AVP values to add.
Avp U16Avp(AvpType type, uint16_t v, bool mandatory = true);
Avp U32Avp(AvpType type, uint32_t v, bool mandatory = true);
Avp U64Avp(AvpType type, uint64_t v, bool mandatory = true);
Avp BytesAvp(AvpType type, std::span<const uint8_t> v, bool mandatory = true);
Avp TextAvp(AvpType type, std::string_view v, bool mandatory = true);

// The Result Code AVP (RFC 2661 section 4.4.2, RFC 3931 section 5.4.2): a
// result, an optional error code and an optional message. The message rides
// behind the error code, so ResultCodeAvp writes error 0 for a message
// without one; ReadResultCode returns nullopt for a malformed value.
struct ResultCode {
  uint16_t result = 0;
  std::optional<uint16_t> error;
  std::string message;
};
Avp ResultCodeAvp(const ResultCode& r);
std::optional<ResultCode> ReadResultCode(const ControlMessage& m);

// Into words, as status and events show them: "result 2 (general error),
// error 6 (generic vendor error): text". `message_type` selects the StopCCN
// or the CDN table of result codes.
std::string DescribeResultCode(MessageType message_type, const ResultCode& r);

}  // namespace l2tp::control
