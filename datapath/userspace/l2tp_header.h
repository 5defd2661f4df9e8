// Pure encode/decode of L2TPv3 data-message headers (RFC 3931 §4.1, §4.6),
// laid out exactly as Linux's l2tp_core builds and parses them:
//   UDP encap: 00 03 00 00 | session id | cookie (0/4/8) | [sublayer] | frame
//   IP encap:               session id | cookie (0/4/8) | [sublayer] | frame
// The default L2-specific sublayer is |x|S|x x x x x x| 24-bit sequence |.
// Every read is bounds-checked: packets come off the wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "datapath/datapath.h"

namespace l2tp::userspace {

inline constexpr uint32_t kSequenceMask = 0x00ffffff;  // 24-bit sequence space
inline constexpr uint32_t kSublayerSBit = 0x40000000;
inline constexpr size_t kMaxCookieLength = 8;
// UDP flags word + session id + 8-byte cookie + sublayer.
inline constexpr size_t kMaxHeaderLength = 4 + 4 + kMaxCookieLength + 4;

// What a session puts in front of each frame it sends.
struct TxHeaderSpec {
  Encap encap = Encap::kUdp;
  uint32_t peer_session_id = 0;
  std::span<const uint8_t> cookie;  // 0, 4 or 8 bytes
  L2Spec l2spec = L2Spec::kDefault;
};

size_t HeaderLength(Encap encap, size_t cookie_length, L2Spec l2spec);

// Writes the header into `out` (at least HeaderLength() bytes) and returns its
// length. `sequence` set = S bit + 24-bit number; unset = zero sublayer (as
// Linux sends without sequencing). Ignored when there is no sublayer.
size_t EncodeHeader(const TxHeaderSpec& spec, std::optional<uint32_t> sequence, std::span<uint8_t> out);

// First stage of receive: which session a packet is for.
enum class SessionIdResult {
  kData,        // session_id and offset are valid
  kControl,     // T bit (UDP) or session id 0 (IP): a control message
  kShort,       // too short to hold the session header
  kBadVersion,  // UDP flags word does not say version 3
};
struct SessionIdDecode {
  SessionIdResult result = SessionIdResult::kShort;
  uint32_t session_id = 0;
  size_t offset = 0;  // first byte after the session id
};
SessionIdDecode DecodeSessionId(Encap encap, std::span<const uint8_t> packet);

// Second stage, once the session is known: cookie, sublayer, payload.
struct RxSessionSpec {
  std::span<const uint8_t> peer_cookie;  // required value, 0/4/8 bytes
  L2Spec l2spec = L2Spec::kDefault;
};
enum class DataHeaderResult {
  kOk,
  kTruncated,  // cookie or sublayer cut off
  kCookieMismatch,
};
struct DataHeaderDecode {
  DataHeaderResult result = DataHeaderResult::kTruncated;
  bool has_sequence = false;
  uint32_t sequence = 0;
  size_t payload_offset = 0;  // into the packet given to DecodeSessionId
};
DataHeaderDecode DecodeDataHeader(const RxSessionSpec& spec, std::span<const uint8_t> packet, size_t offset);

// IPv4 raw sockets hand us the IP header too (IPv6 ones do not). Returns the
// offset of the L2TP header, or nullopt if the IPv4 header is malformed.
std::optional<size_t> SkipIpv4Header(std::span<const uint8_t> packet);

}  // namespace l2tp::userspace
