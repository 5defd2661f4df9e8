// The control protocol's cryptography: the L2TPv2 tunnel authentication
// (RFC 2661 section 5.1.1), hidden AVP values (RFC 2661 section 4.3) and the
// L2TPv3 Control Message Authentication (RFC 3931 sections 4.3 and 5.4.1).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/codec.h"
#include "control/message.h"

namespace l2tp::control {

// MD5(message type ‖ secret ‖ challenge), as CHAP computes it (RFC 1994
// section 4.1). `message_type` is that of the message carrying the response:
// 2 in SCCRP, 3 in SCCCN.
std::array<uint8_t, 16> ChallengeResponse(uint8_t message_type, std::string_view secret,
                                          std::span<const uint8_t> challenge);

// The hidden AVP subformat (original length, value; no padding) encrypted
// with the MD5 chain of RFC 2661 section 4.3: b1 = MD5(attribute type ‖
// secret ‖ random vector), bi = MD5(secret ‖ c(i-1)), ci = pi xor bi.
std::vector<uint8_t> HideValue(uint16_t attribute_type, std::span<const uint8_t> value,
                               std::string_view secret, std::span<const uint8_t> random_vector);
// The inverse; drops the padding. An error when the original length does not
// fit what was hidden (a wrong secret shows up here, or not at all).
absl::StatusOr<std::vector<uint8_t>> UnhideValue(uint16_t attribute_type, std::span<const uint8_t> hidden,
                                                 std::string_view secret,
                                                 std::span<const uint8_t> random_vector);

// L2TPv3 Control Message Authentication, Digest Type 0 (HMAC-MD5), the one
// RFC 3931 section 5.4.1 makes mandatory.
inline constexpr uint8_t kDigestTypeHmacMd5 = 0;
inline constexpr size_t kDigestLength = 16;

// shared_key = HMAC-MD5(secret, 0x02) (RFC 3931 section 5.4.1).
std::array<uint8_t, 16> V3SharedKey(std::string_view secret);

// A Message Digest AVP with its digest zeroed, to put right after Message
// Type before encoding; SignV3Frame fills it in.
Avp EmptyMessageDigestAvp();

// Computes and writes the digest of an encoded v3 frame whose second AVP is
// a Message Digest AVP of type 0. `local_nonce` is ours, `remote_nonce` the
// peer's (their Control Message Authentication Nonce AVPs); both are left
// out for an SCCRQ, which goes before the peer has chosen its nonce.
absl::Status SignV3Frame(std::span<uint8_t> frame, Transport t, std::span<const uint8_t> key,
                         std::span<const uint8_t> local_nonce, std::span<const uint8_t> remote_nonce);

// Checks the digest of a received v3 frame. The nonces are named as in
// SignV3Frame, from our side: `local_nonce` is ours, `remote_nonce` the
// sender's. An error names what is missing or that the digest differs.
absl::Status VerifyV3Frame(std::span<const uint8_t> frame, Transport t, std::span<const uint8_t> key,
                           std::span<const uint8_t> local_nonce, std::span<const uint8_t> remote_nonce);

// What an owner of a v3 control connection with a secret does to each
// message: EncodeAuthenticated puts the Message Digest AVP right after
// Message Type, encodes and signs; VerifyAuthenticated checks a received
// frame, taking the sender's nonce from the message itself when it is an
// SCCRQ or SCCRP (the nonces are exchanged there) and `remote_nonce`
// otherwise.
absl::StatusOr<std::vector<uint8_t>> EncodeAuthenticated(ControlMessage m, Transport t,
                                                         std::string_view secret,
                                                         std::span<const uint8_t> key,
                                                         std::span<const uint8_t> local_nonce,
                                                         std::span<const uint8_t> remote_nonce);
absl::Status VerifyAuthenticated(std::span<const uint8_t> frame, Transport t, const ControlMessage& decoded,
                                 std::span<const uint8_t> key, std::span<const uint8_t> local_nonce,
                                 std::span<const uint8_t> remote_nonce);

}  // namespace l2tp::control
