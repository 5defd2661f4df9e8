#include "datapath/userspace/l2tp_header.h"

#include <cstring>

namespace l2tp::userspace {
namespace {

constexpr uint16_t kUdpTypeBit = 0x8000;  // T: control message
constexpr uint16_t kVersionMask = 0x000f;
constexpr uint16_t kVersion3 = 3;

void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}
uint32_t GetBe32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

size_t HeaderLength(Encap encap, size_t cookie_length, L2Spec l2spec) {
  return (encap == Encap::kUdp ? 4 : 0) + 4 + cookie_length + (l2spec == L2Spec::kDefault ? 4 : 0);
}

size_t EncodeHeader(const TxHeaderSpec& spec, std::optional<uint32_t> sequence, std::span<uint8_t> out) {
  size_t need = HeaderLength(spec.encap, spec.cookie.size(), spec.l2spec);
  if (out.size() < need || spec.cookie.size() > kMaxCookieLength) return 0;
  uint8_t* p = out.data();
  if (spec.encap == Encap::kUdp) {
    PutBe32(p, kVersion3 << 16);  // T=0, ver=3, 16 reserved zero bits
    p += 4;
  }
  PutBe32(p, spec.peer_session_id);
  p += 4;
  if (!spec.cookie.empty()) std::memcpy(p, spec.cookie.data(), spec.cookie.size());
  p += spec.cookie.size();
  if (spec.l2spec == L2Spec::kDefault) {
    PutBe32(p, sequence ? (kSublayerSBit | (*sequence & kSequenceMask)) : 0);
    p += 4;
  }
  return need;
}

SessionIdDecode DecodeSessionId(Encap encap, std::span<const uint8_t> packet) {
  SessionIdDecode d;
  size_t at = 0;
  if (encap == Encap::kUdp) {
    if (packet.size() < 2) return d;
    uint16_t flags = uint16_t(packet[0] << 8 | packet[1]);
    if ((flags & kVersionMask) != kVersion3) {
      d.result = SessionIdResult::kBadVersion;
      return d;
    }
    if (flags & kUdpTypeBit) {
      d.result = SessionIdResult::kControl;
      return d;
    }
    at = 4;  // flags + reserved
  }
  if (packet.size() < at + 4) return d;
  d.session_id = GetBe32(packet.data() + at);
  d.offset = at + 4;
  d.result = d.session_id == 0 ? SessionIdResult::kControl : SessionIdResult::kData;
  return d;
}

DataHeaderDecode DecodeDataHeader(const RxSessionSpec& spec, std::span<const uint8_t> packet, size_t offset) {
  DataHeaderDecode d;
  size_t cookie_len = spec.peer_cookie.size();
  size_t sublayer_len = spec.l2spec == L2Spec::kDefault ? 4 : 0;
  if (offset > packet.size() || packet.size() - offset < cookie_len + sublayer_len) return d;
  const uint8_t* p = packet.data() + offset;
  if (cookie_len && std::memcmp(p, spec.peer_cookie.data(), cookie_len) != 0) {
    d.result = DataHeaderResult::kCookieMismatch;
    return d;
  }
  p += cookie_len;
  if (sublayer_len) {
    uint32_t word = GetBe32(p);
    d.has_sequence = (word & kSublayerSBit) != 0;
    d.sequence = d.has_sequence ? (word & kSequenceMask) : 0;
  }
  d.payload_offset = offset + cookie_len + sublayer_len;
  d.result = DataHeaderResult::kOk;
  return d;
}

std::optional<size_t> SkipIpv4Header(std::span<const uint8_t> packet) {
  if (packet.empty() || (packet[0] >> 4) != 4) return std::nullopt;
  size_t ihl = size_t(packet[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > packet.size()) return std::nullopt;
  return ihl;
}

}  // namespace l2tp::userspace
