// Control messages to bytes and back, both versions: the header (RFC 2661
// section 3.1, RFC 3931 section 3.2.1), the AVPs (RFC 2661 section 4.1) and
// hidden AVPs (RFC 2661 section 4.3). Frames come off the wire, so every
// length is checked against the frame and an error names the field and its
// byte offset. Offsets count from the control header (the T bit), as the
// header's Length does, so over IP they leave out the 4-byte Session ID.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "control/message.h"

namespace l2tp::control {

// Over UDP a control frame starts with the control header (v2 or v3). Over
// IP (L2TPv3 only) it is prefixed by a 32-bit zero Session ID (RFC 3931
// section 4.1.1.2).
enum class Transport { kUdp, kIp };

// Whether `frame` is a control message rather than data: the T bit over UDP
// (both versions), a zero Session ID over IP.
bool IsControlFrame(std::span<const uint8_t> frame, Transport t);

// Decodes one control frame. `secret` unhides hidden AVPs; with an empty
// secret a hidden AVP is an error. Unknown and vendor AVPs are kept as they
// are: what their M bit means is for the state machines to decide.
absl::StatusOr<ControlMessage> DecodeControlMessage(std::span<const uint8_t> frame, Transport t,
                                                    std::string_view secret);

// The inverse: sets Length and the header bits, hides the AVPs marked
// `hidden` with `secret` and the last Random Vector AVP before each. No
// random padding is added, so the bytes depend on the message alone.
absl::StatusOr<std::vector<uint8_t>> EncodeControlMessage(const ControlMessage& m, Transport t,
                                                          std::string_view secret);

}  // namespace l2tp::control
