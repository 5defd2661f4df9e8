#include "control/codec.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "control/auth.h"

namespace l2tp::control {
namespace {

// The first 16 bits of the header (RFC 2661 section 3.1, RFC 3931 section
// 3.2.1). The other bits are reserved: zero on send, ignored on receipt.
constexpr uint16_t kTBit = 0x8000;  // control message
constexpr uint16_t kLBit = 0x4000;  // Length present
constexpr uint16_t kSBit = 0x0800;  // Ns and Nr present
constexpr uint16_t kOBit = 0x0200;  // v2 only: Offset Size present
constexpr uint16_t kPBit = 0x0100;  // v2 only: priority
constexpr uint16_t kVersionMask = 0x000f;

constexpr size_t kSessionIdPrefix = 4;  // over IP, before the control header
constexpr size_t kHeaderLength = 12;    // a control header, either version
constexpr size_t kMaxMessageLength = 0xffff;

// An AVP's first 16 bits (RFC 2661 section 4.1): M, H, 4 reserved bits and a
// 10-bit length that counts the 6-byte AVP header.
constexpr uint16_t kMBit = 0x8000;
constexpr uint16_t kHBit = 0x4000;
constexpr uint16_t kAvpReservedBits = 0x3c00;
constexpr uint16_t kAvpLengthMask = 0x03ff;
constexpr size_t kAvpHeaderLength = 6;
constexpr size_t kMaxAvpValue = kAvpLengthMask - kAvpHeaderLength;  // 1017
constexpr size_t kMessageTypeAvpLength = kAvpHeaderLength + 2;

uint16_t Get16(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
}
uint32_t Get32(std::span<const uint8_t> p, size_t at) {
  return uint32_t{p[at]} << 24 | uint32_t{p[at + 1]} << 16 | uint32_t{p[at + 2]} << 8 | p[at + 3];
}
void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void Put32(std::vector<uint8_t>& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v));
}

template <typename... Args>
absl::Status Invalid(const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(args...));
}

// "AVP 3 (Host Name) at offset 28": its place in the message (from 1) and
// where it starts, counted from the control header.
std::string AvpLabel(size_t index, size_t offset, uint16_t vendor_id, uint16_t type) {
  return absl::StrCat("AVP ", index, " (", AvpName(vendor_id, type), ") at offset ", offset);
}

// Checks the fixed header and returns the message's Length.
absl::StatusOr<size_t> DecodeHeader(std::span<const uint8_t> msg, Transport t, ControlHeader& h) {
  if (msg.size() < 2) return Invalid("frame of ", msg.size(), " bytes is shorter than a control header");
  const uint16_t flags = Get16(msg, 0);
  if ((flags & kTBit) == 0) return Invalid("T bit at offset 0 is 0: a data message");
  h.version = static_cast<uint8_t>(flags & kVersionMask);
  if (h.version != kL2tpV2 && h.version != kL2tpV3) return Invalid("version ", h.version, " is not 2 or 3");
  if (h.version == kL2tpV2 && t == Transport::kIp)
    return Invalid("version 2 over IP: L2TPv2 runs over UDP only");
  if ((flags & kLBit) == 0) return Invalid("L bit at offset 0 is 0: a control message carries its Length");
  if ((flags & kSBit) == 0) return Invalid("S bit at offset 0 is 0: a control message carries Ns and Nr");
  if (h.version == kL2tpV2 && (flags & kOBit) != 0)
    return Invalid("O bit at offset 0 is set in a control message");
  if (h.version == kL2tpV2 && (flags & kPBit) != 0)
    return Invalid("P bit at offset 0 is set in a control message");
  if (msg.size() < kHeaderLength) {
    return Invalid("frame of ", msg.size(), " bytes is shorter than the ", kHeaderLength,
                   "-byte control header");
  }
  const size_t length = Get16(msg, 2);
  if (length < kHeaderLength)
    return Invalid("Length ", length, " at offset 2 is shorter than the header (12 bytes)");
  if (length > msg.size())
    return Invalid("Length ", length, " at offset 2 runs past the frame (", msg.size(), " bytes)");
  if (length < msg.size()) {
    return Invalid(msg.size() - length, " trailing bytes after the message (Length ", length,
                   " at offset 2)");
  }
  if (h.version == kL2tpV2) {
    h.tunnel_id = Get16(msg, 4);
    h.session_id = Get16(msg, 6);
  } else {
    h.tunnel_id = Get32(msg, 4);
    h.session_id = 0;
  }
  h.ns = Get16(msg, 8);
  h.nr = Get16(msg, 10);
  return length;
}

}  // namespace

bool IsControlFrame(std::span<const uint8_t> frame, Transport t) {
  if (t == Transport::kIp) return frame.size() >= kSessionIdPrefix && Get32(frame, 0) == 0;
  return !frame.empty() && (frame[0] & 0x80) != 0;
}

absl::StatusOr<ControlMessage> DecodeControlMessage(std::span<const uint8_t> frame, Transport t,
                                                    std::string_view secret) {
  if (t == Transport::kIp) {
    if (frame.size() < kSessionIdPrefix)
      return Invalid("frame of ", frame.size(), " bytes has no Session ID");
    if (const uint32_t id = Get32(frame, 0); id != 0)
      return Invalid("Session ID ", id, " is not 0: a data message");
    frame = frame.subspan(kSessionIdPrefix);
  }
  ControlMessage m;
  absl::StatusOr<size_t> length = DecodeHeader(frame, t, m.header);
  if (!length.ok()) return length.status();
  const std::span<const uint8_t> msg = frame.first(*length);

  std::span<const uint8_t> random_vector;
  bool have_random_vector = false;
  for (size_t at = kHeaderLength, index = 1; at < msg.size(); ++index) {
    if (msg.size() - at < kAvpHeaderLength) {
      return Invalid("AVP ", index, " at offset ", at, ": ", msg.size() - at,
                     " bytes left, less than an AVP header (6 bytes)");
    }
    const uint16_t flags = Get16(msg, at);
    Avp avp{.mandatory = (flags & kMBit) != 0,
            .hidden = (flags & kHBit) != 0,
            .vendor_id = Get16(msg, at + 2),
            .type = Get16(msg, at + 4),
            .value = {}};
    const std::string label = AvpLabel(index, at, avp.vendor_id, avp.type);
    const size_t avp_length = flags & kAvpLengthMask;
    if ((flags & kAvpReservedBits) != 0) return Invalid(label, ": reserved bits are set");
    if (avp_length < kAvpHeaderLength) return Invalid(label, ": length ", avp_length, " is less than 6");
    if (avp_length > msg.size() - at) {
      return Invalid(label, ": length ", avp_length, " runs past the message (", msg.size(), " bytes)");
    }
    const std::span<const uint8_t> value = msg.subspan(at + kAvpHeaderLength, avp_length - kAvpHeaderLength);
    const bool is_message_type = avp.Is(AvpType::kMessageType);
    if (index == 1 && !is_message_type) return Invalid(label, ": the first AVP must be Message Type");
    if (index == 1 && avp_length != kMessageTypeAvpLength) {
      return Invalid(label, ": length ", avp_length, ", Message Type is 8");
    }
    if (avp.hidden && (is_message_type || avp.Is(AvpType::kRandomVector))) {
      return Invalid(label, " is hidden and cannot be");
    }
    if (avp.Is(AvpType::kRandomVector)) {
      random_vector = value;
      have_random_vector = true;
    }
    if (!avp.hidden) {
      avp.value.assign(value.begin(), value.end());
    } else if (secret.empty()) {
      return Invalid(label, " is hidden and no secret is configured");
    } else if (!have_random_vector) {
      return Invalid(label, " is hidden and no Random Vector AVP comes before it");
    } else {
      absl::StatusOr<std::vector<uint8_t>> plain = UnhideValue(avp.type, value, secret, random_vector);
      if (!plain.ok()) return Invalid(label, ": ", plain.status().message());
      avp.value = *std::move(plain);
    }
    m.avps.push_back(std::move(avp));
    at += avp_length;
  }
  return m;
}

absl::StatusOr<std::vector<uint8_t>> EncodeControlMessage(const ControlMessage& m, Transport t,
                                                          std::string_view secret) {
  const ControlHeader& h = m.header;
  if (h.version != kL2tpV2 && h.version != kL2tpV3) return Invalid("version ", h.version, " is not 2 or 3");
  if (h.version == kL2tpV2 && t == Transport::kIp)
    return Invalid("version 2 over IP: L2TPv2 runs over UDP only");
  if (h.version == kL2tpV2 && h.tunnel_id > 0xffff) {
    return Invalid("tunnel ID ", h.tunnel_id, " does not fit the 16-bit L2TPv2 header");
  }
  std::vector<uint8_t> out;
  if (t == Transport::kIp) out.assign(kSessionIdPrefix, 0);
  const size_t start = out.size();
  Put16(out, kTBit | kLBit | kSBit | h.version);
  Put16(out, 0);  // Length, once known
  if (h.version == kL2tpV2) {
    Put16(out, static_cast<uint16_t>(h.tunnel_id));
    Put16(out, h.session_id);
  } else {
    Put32(out, h.tunnel_id);
  }
  Put16(out, h.ns);
  Put16(out, h.nr);

  std::span<const uint8_t> random_vector;
  bool have_random_vector = false;
  for (size_t i = 0; i < m.avps.size(); ++i) {
    const Avp& avp = m.avps[i];
    const size_t at = out.size() - start;
    const std::string label = AvpLabel(i + 1, at, avp.vendor_id, avp.type);
    const bool is_message_type = avp.Is(AvpType::kMessageType);
    if (i == 0 && !is_message_type) return Invalid(label, ": the first AVP must be Message Type");
    if (i == 0 && avp.value.size() != 2)
      return Invalid(label, ": value of ", avp.value.size(), " bytes, not 2");
    if (avp.hidden && (is_message_type || avp.Is(AvpType::kRandomVector))) {
      return Invalid(label, " is marked hidden and cannot be");
    }
    if (avp.Is(AvpType::kRandomVector)) {
      random_vector = avp.value;
      have_random_vector = true;
    }
    // A hidden value carries its 2-byte original length in front.
    const size_t wire_size = avp.value.size() + (avp.hidden ? 2 : 0);
    if (wire_size > kMaxAvpValue) {
      return Invalid(label, ": value of ", wire_size, " bytes", avp.hidden ? " once hidden" : "",
                     " is over the ", kMaxAvpValue, " an AVP holds");
    }
    if (at + kAvpHeaderLength + wire_size > kMaxMessageLength) {
      return Invalid(label, ": the message grows past ", kMaxMessageLength, " bytes");
    }
    std::vector<uint8_t> hidden;
    if (avp.hidden) {
      if (secret.empty()) return Invalid(label, " is marked hidden and no secret is configured");
      if (!have_random_vector)
        return Invalid(label, " is marked hidden and no Random Vector AVP comes before it");
      hidden = HideValue(avp.type, avp.value, secret, random_vector);
    }
    const std::span<const uint8_t> value = avp.hidden ? std::span<const uint8_t>(hidden) : avp.value;
    Put16(out, static_cast<uint16_t>((avp.mandatory ? kMBit : 0) | (avp.hidden ? kHBit : 0) |
                                     (kAvpHeaderLength + value.size())));
    Put16(out, avp.vendor_id);
    Put16(out, avp.type);
    out.insert(out.end(), value.begin(), value.end());
  }
  const size_t length = out.size() - start;
  out[start + 2] = static_cast<uint8_t>(length >> 8);
  out[start + 3] = static_cast<uint8_t>(length);
  return out;
}

}  // namespace l2tp::control
