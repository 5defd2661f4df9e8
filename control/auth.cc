#include "control/auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace l2tp::control {
namespace {

using Digest16 = std::array<uint8_t, 16>;

// MD5 and HMAC-MD5 come from libcrypto's default provider; without it the
// process cannot speak the protocol at all, so a failure here is fatal.
void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "l2tp control: OpenSSL %s failed\n", what);
  std::abort();
}

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class Md5 {
 public:
  Md5() : ctx_(EVP_MD_CTX_new()) {
    Require(ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr) == 1, "MD5 init");
  }
  ~Md5() { EVP_MD_CTX_free(ctx_); }
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  Md5& Add(std::span<const uint8_t> data) {
    Require(EVP_DigestUpdate(ctx_, data.data(), data.size()) == 1, "MD5 update");
    return *this;
  }
  Digest16 Finish() {
    Digest16 out;
    unsigned int n = 0;
    Require(EVP_DigestFinal_ex(ctx_, out.data(), &n) == 1 && n == out.size(), "MD5 final");
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

class HmacMd5 {
 public:
  explicit HmacMd5(std::span<const uint8_t> key) {
    mac_ = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    ctx_ = mac_ != nullptr ? EVP_MAC_CTX_new(mac_) : nullptr;
    char digest[] = "MD5";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    // An empty key is valid HMAC (RFC 2104); libcrypto wants a pointer all the same.
    static const uint8_t kNoKey = 0;
    Require(ctx_ != nullptr &&
                EVP_MAC_init(ctx_, key.empty() ? &kNoKey : key.data(), key.size(), params) == 1,
            "HMAC-MD5 init");
  }
  ~HmacMd5() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }
  HmacMd5(const HmacMd5&) = delete;
  HmacMd5& operator=(const HmacMd5&) = delete;

  HmacMd5& Add(std::span<const uint8_t> data) {
    Require(EVP_MAC_update(ctx_, data.data(), data.size()) == 1, "HMAC-MD5 update");
    return *this;
  }
  Digest16 Finish() {
    Digest16 out;
    size_t n = 0;
    Require(EVP_MAC_final(ctx_, out.data(), &n, out.size()) == 1 && n == out.size(), "HMAC-MD5 final");
    return out;
  }

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
};

// XORs `in` with the RFC 2661 section 4.3 chain into a buffer of the same
// size. The chain runs on the ciphertext, which is `out` when hiding and
// `in` when unhiding. The last block may be short: nothing pads it.
std::vector<uint8_t> XorChain(uint16_t attribute_type, std::span<const uint8_t> in, std::string_view secret,
                              std::span<const uint8_t> random_vector, bool hiding) {
  std::vector<uint8_t> out(in.size());
  const uint8_t type_bytes[2] = {static_cast<uint8_t>(attribute_type >> 8),
                                 static_cast<uint8_t>(attribute_type)};
  Digest16 b = Md5().Add(type_bytes).Add(AsBytes(secret)).Add(random_vector).Finish();
  for (size_t at = 0; at < in.size(); at += b.size()) {
    const size_t n = std::min(b.size(), in.size() - at);
    for (size_t i = 0; i < n; ++i) out[at + i] = in[at + i] ^ b[i];
    if (at + n < in.size()) {
      const std::span<const uint8_t> cipher = hiding ? std::span<const uint8_t>(out) : in;
      b = Md5().Add(AsBytes(secret)).Add(cipher.subspan(at, n)).Finish();
    }
  }
  return out;
}

// Where the digest sits in an encoded v3 frame (offsets into the frame).
struct DigestPlace {
  size_t message = 0;  // start of the control header
  size_t length = 0;   // the header's Length
  size_t digest = 0;   // the 16 digest bytes
  uint16_t message_type = 0;
};

uint16_t Get16(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
}

constexpr size_t kHeaderLength = 12;
constexpr size_t kMessageTypeAvpLength = 8;
// Message Digest AVP: 6-byte header, Digest Type, 16 bytes of HMAC-MD5.
constexpr size_t kDigestAvpLength = 6 + 1 + kDigestLength;

absl::StatusOr<DigestPlace> FindDigest(std::span<const uint8_t> frame, Transport t) {
  DigestPlace p;
  if (t == Transport::kIp) {
    if (frame.size() < 4 || frame[0] != 0 || frame[1] != 0 || frame[2] != 0 || frame[3] != 0) {
      return absl::InvalidArgumentError("not a control frame: the Session ID is not 0");
    }
    p.message = 4;
  }
  const std::span<const uint8_t> m = frame.subspan(p.message);
  if (m.size() < kHeaderLength) {
    return absl::InvalidArgumentError(absl::StrCat("frame of ", m.size(), " bytes is shorter than a header"));
  }
  if ((m[0] & 0x80) == 0 || (m[1] & 0x0f) != kL2tpV3) {
    return absl::InvalidArgumentError("not an L2TPv3 control message");
  }
  p.length = Get16(m, 2);
  if (p.length != m.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("header length ", p.length, " differs from the frame's ", m.size(), " bytes"));
  }
  const size_t type_at = kHeaderLength, digest_at = kHeaderLength + kMessageTypeAvpLength;
  if (m.size() < digest_at || Get16(m, type_at + 2) != 0 || Get16(m, type_at + 4) != 0 ||
      (Get16(m, type_at) & 0x3ff) != kMessageTypeAvpLength) {
    return absl::InvalidArgumentError("no Message Type AVP at offset 12");
  }
  p.message_type = Get16(m, type_at + 6);
  if (m.size() < digest_at + 7 || Get16(m, digest_at + 2) != 0 ||
      Get16(m, digest_at + 4) != static_cast<uint16_t>(AvpType::kMessageDigest)) {
    return absl::InvalidArgumentError(
        "no Message Digest AVP right after Message Type (RFC 3931 section 5.4.1)");
  }
  if (m[digest_at + 6] != kDigestTypeHmacMd5) {
    return absl::InvalidArgumentError(
        absl::StrCat("Message Digest type ", m[digest_at + 6], " is not supported (only 0, HMAC-MD5)"));
  }
  const uint16_t flags_length = Get16(m, digest_at);
  if ((flags_length & 0x4000) != 0 || (flags_length & 0x3ff) != kDigestAvpLength ||
      m.size() < digest_at + kDigestAvpLength) {
    return absl::InvalidArgumentError(absl::StrCat("Message Digest AVP at offset ", digest_at,
                                                   " is hidden or not ", kDigestAvpLength, " bytes long"));
  }
  p.digest = p.message + digest_at + 7;
  return p;
}

// RFC 3931 section 5.4.1 (and 4.3):
//   digest = HMAC-MD5(shared_key, local_nonce ‖ remote_nonce ‖ control_message)
// where local_nonce is the nonce of the LCCE sending the message, so the
// sender hashes its own nonce first and the receiver the sender's nonce
// first. An SCCRQ is hashed without nonces (the peer has not chosen one
// yet). The message is hashed with the digest field zeroed and the Digest
// Type in place. "control_message" starts at the control header: the zero
// Session ID in front of it over IP is encapsulation (section 4.1.1.2), not
// part of the message, so the same message has the same digest over UDP and
// IP. Wireshark's L2TP dissector checks digests the same way.
Digest16 ComputeDigest(std::span<const uint8_t> frame, const DigestPlace& p, std::span<const uint8_t> key,
                       std::span<const uint8_t> first_nonce, std::span<const uint8_t> second_nonce) {
  static const uint8_t kZeros[kDigestLength] = {};
  HmacMd5 h(key);
  if (p.message_type != static_cast<uint16_t>(MessageType::kSccrq)) h.Add(first_nonce).Add(second_nonce);
  h.Add(frame.subspan(p.message, p.digest - p.message));
  h.Add(kZeros);
  h.Add(frame.subspan(p.digest + kDigestLength, p.message + p.length - p.digest - kDigestLength));
  return h.Finish();
}

}  // namespace

std::array<uint8_t, 16> ChallengeResponse(uint8_t message_type, std::string_view secret,
                                          std::span<const uint8_t> challenge) {
  const uint8_t id[1] = {message_type};
  return Md5().Add(id).Add(AsBytes(secret)).Add(challenge).Finish();
}

std::vector<uint8_t> HideValue(uint16_t attribute_type, std::span<const uint8_t> value,
                               std::string_view secret, std::span<const uint8_t> random_vector) {
  std::vector<uint8_t> plain;
  plain.reserve(value.size() + 2);
  plain.push_back(static_cast<uint8_t>(value.size() >> 8));
  plain.push_back(static_cast<uint8_t>(value.size()));
  plain.insert(plain.end(), value.begin(), value.end());
  return XorChain(attribute_type, plain, secret, random_vector, /*hiding=*/true);
}

absl::StatusOr<std::vector<uint8_t>> UnhideValue(uint16_t attribute_type, std::span<const uint8_t> hidden,
                                                 std::string_view secret,
                                                 std::span<const uint8_t> random_vector) {
  if (hidden.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("hidden value of ", hidden.size(), " bytes has no room for its original length"));
  }
  std::vector<uint8_t> plain = XorChain(attribute_type, hidden, secret, random_vector, /*hiding=*/false);
  const size_t length = Get16(plain, 0);
  if (length > plain.size() - 2) {
    return absl::InvalidArgumentError(absl::StrCat("hidden original length ", length, " exceeds the ",
                                                   plain.size() - 2, " bytes hidden (wrong secret?)"));
  }
  plain.erase(plain.begin(), plain.begin() + 2);
  plain.resize(length);  // drops the padding
  return plain;
}

std::array<uint8_t, 16> V3SharedKey(std::string_view secret) {
  const uint8_t two[1] = {2};
  return HmacMd5(AsBytes(secret)).Add(two).Finish();
}

Avp EmptyMessageDigestAvp() {
  Avp avp{.mandatory = true, .type = static_cast<uint16_t>(AvpType::kMessageDigest), .value = {}};
  avp.value.assign(1 + kDigestLength, 0);
  avp.value[0] = kDigestTypeHmacMd5;
  return avp;
}

absl::Status SignV3Frame(std::span<uint8_t> frame, Transport t, std::span<const uint8_t> key,
                         std::span<const uint8_t> local_nonce, std::span<const uint8_t> remote_nonce) {
  absl::StatusOr<DigestPlace> p = FindDigest(frame, t);
  if (!p.ok()) return p.status();
  const Digest16 d = ComputeDigest(frame, *p, key, local_nonce, remote_nonce);
  std::copy(d.begin(), d.end(), frame.begin() + p->digest);
  return absl::OkStatus();
}

absl::Status VerifyV3Frame(std::span<const uint8_t> frame, Transport t, std::span<const uint8_t> key,
                           std::span<const uint8_t> local_nonce, std::span<const uint8_t> remote_nonce) {
  absl::StatusOr<DigestPlace> p = FindDigest(frame, t);
  if (!p.ok()) return p.status();
  // The sender's nonce (ours is the remote one to it) goes first.
  const Digest16 want = ComputeDigest(frame, *p, key, remote_nonce, local_nonce);
  if (CRYPTO_memcmp(want.data(), frame.data() + p->digest, want.size()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(MessageTypeName(p->message_type),
                     ": Message Digest does not match (a different secret or nonce, or "
                     "the message was changed on the way)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> EncodeAuthenticated(ControlMessage m, Transport t,
                                                         std::string_view secret,
                                                         std::span<const uint8_t> key,
                                                         std::span<const uint8_t> local_nonce,
                                                         std::span<const uint8_t> remote_nonce) {
  if (m.avps.empty()) return absl::InvalidArgumentError("a v3 message has at least a Message Type AVP");
  m.avps.insert(m.avps.begin() + 1, EmptyMessageDigestAvp());
  absl::StatusOr<std::vector<uint8_t>> frame = EncodeControlMessage(m, t, secret);
  if (!frame.ok()) return frame.status();
  if (absl::Status st = SignV3Frame(*frame, t, key, local_nonce, remote_nonce); !st.ok()) return st;
  return frame;
}

absl::Status VerifyAuthenticated(std::span<const uint8_t> frame, Transport t, const ControlMessage& decoded,
                                 std::span<const uint8_t> key, std::span<const uint8_t> local_nonce,
                                 std::span<const uint8_t> remote_nonce) {
  const uint16_t type = decoded.Type().value_or(0);
  if (type == static_cast<uint16_t>(MessageType::kSccrq) ||
      type == static_cast<uint16_t>(MessageType::kSccrp)) {
    const Avp* nonce = decoded.Find(AvpType::kControlMessageAuthenticationNonce);
    if (nonce == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(MessageTypeName(type),
                       ": no Control Message Authentication Nonce and a secret is configured"));
    }
    return VerifyV3Frame(frame, t, key, local_nonce, nonce->value);
  }
  return VerifyV3Frame(frame, t, key, local_nonce, remote_nonce);
}

}  // namespace l2tp::control
