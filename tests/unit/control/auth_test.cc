// Known answers for the control protocol's cryptography. The expected hex
// was computed outside this code (openssl md5 / openssl dgst -hmac, and
// Python's hashlib and hmac) from the RFC definitions.
#include "control/auth.h"

#include <string>

#include "control/codec.h"
#include "control/messages.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp::control {
namespace {

using ::testing::HasSubstr;

std::string Hex(std::span<const uint8_t> b) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t x : b) out += {kDigits[x >> 4], kDigits[x & 0xf]};
  return out;
}

std::vector<uint8_t> Range(uint8_t first, size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}

// RFC 2661 section 5.1.1 / RFC 1994: MD5(ID ‖ secret ‖ challenge), ID = 2
// for SCCRP. printf '\x02secret\x00\x01...\x0f' | openssl md5
TEST(AuthTest, ChallengeResponseKnownAnswer) {
  EXPECT_EQ(Hex(ChallengeResponse(2, "secret", Range(0, 16))), "dd4186e2196f00124a9d588f02701259");
  // The message type is part of it: SCCCN's response differs.
  EXPECT_NE(ChallengeResponse(3, "secret", Range(0, 16)), ChallengeResponse(2, "secret", Range(0, 16)));
}

// RFC 3931 section 5.4.1: shared_key = HMAC-MD5(secret, 0x02).
// printf '\x02' | openssl dgst -md5 -mac HMAC -macopt key:secret
TEST(AuthTest, V3SharedKeyKnownAnswer) {
  EXPECT_EQ(Hex(V3SharedKey("secret")), "21dc457145ad58f4b1497ae27d2a87b4");
  // The empty secret (digest as a bare integrity check) gives a valid key too;
  // the same 16 bytes appear as a hard-coded key in other L2TPv3 code.
  EXPECT_EQ(Hex(V3SharedKey("")), "7b6085fbf45933670abcb07a27fcea5e");
}

TEST(AuthTest, HideUnhideRoundTripsEverySize) {
  const std::vector<uint8_t> rv = Range(0x40, 16);
  for (size_t n = 0; n <= 40; ++n) {
    const std::vector<uint8_t> value = Range(static_cast<uint8_t>(n), n);
    const std::vector<uint8_t> hidden = HideValue(9, value, "secret", rv);
    ASSERT_EQ(hidden.size(), n + 2) << n;  // no padding
    auto plain = UnhideValue(9, hidden, "secret", rv);
    ASSERT_TRUE(plain.ok()) << n << ": " << plain.status();
    EXPECT_EQ(*plain, value) << n;
  }
  EXPECT_THAT(std::string(UnhideValue(9, std::vector<uint8_t>{1}, "secret", rv).status().message()),
              HasSubstr("no room for its original length"));
}

// A v3 HELLO carrying an empty Message Digest AVP: Control Connection ID 7,
// Ns 3, Nr 4.
std::vector<uint8_t> EncodedHello(Transport t, MessageType type = MessageType::kHello) {
  ControlMessage m;
  m.header = {.version = kL2tpV3, .tunnel_id = 7, .ns = 3, .nr = 4};
  m.avps = {U16Avp(AvpType::kMessageType, static_cast<uint16_t>(type)), EmptyMessageDigestAvp()};
  auto bytes = EncodeControlMessage(m, t, "");
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return *bytes;
}

const std::vector<uint8_t> kNonceA = Range(0xa0, 16);  // the sender's
const std::vector<uint8_t> kNonceB = Range(0xb0, 16);  // the receiver's

// hmac.new(key, A + B + frame_with_zero_digest, 'md5') over the 43 bytes
// c803002b 00000007 00030004 8008000000000006 80170000003b00 00*16.
TEST(AuthTest, V3DigestKnownAnswer) {
  const auto key = V3SharedKey("secret");
  std::vector<uint8_t> frame = EncodedHello(Transport::kUdp);
  ASSERT_EQ(frame.size(), 43u);
  ASSERT_TRUE(SignV3Frame(frame, Transport::kUdp, key, kNonceA, kNonceB).ok());
  EXPECT_EQ(Hex(std::span(frame).subspan(27)), "84e132ca61e0207c6e0dc4bcbb116b33");
  EXPECT_EQ(frame[26], kDigestTypeHmacMd5);
}

TEST(AuthTest, V3SignThenVerify) {
  const auto key = V3SharedKey("secret");
  for (Transport t : {Transport::kUdp, Transport::kIp}) {
    std::vector<uint8_t> frame = EncodedHello(t);
    ASSERT_TRUE(SignV3Frame(frame, t, key, kNonceA, kNonceB).ok());
    // The receiver names the nonces from its side: its own is local.
    EXPECT_TRUE(VerifyV3Frame(frame, t, key, kNonceB, kNonceA).ok());
    // And the codec still reads the message.
    EXPECT_TRUE(DecodeControlMessage(frame, t, "").ok());
  }
}

// The zero Session ID over IP is not hashed: same digest both ways.
TEST(AuthTest, V3DigestLeavesOutTheIpSessionId) {
  const auto key = V3SharedKey("secret");
  std::vector<uint8_t> udp = EncodedHello(Transport::kUdp);
  std::vector<uint8_t> ip = EncodedHello(Transport::kIp);
  ASSERT_TRUE(SignV3Frame(udp, Transport::kUdp, key, kNonceA, kNonceB).ok());
  ASSERT_TRUE(SignV3Frame(ip, Transport::kIp, key, kNonceA, kNonceB).ok());
  EXPECT_EQ(std::vector<uint8_t>(ip.begin() + 4, ip.end()), udp);
}

TEST(AuthTest, V3VerifyFailsOnChangeKeyOrNonces) {
  const auto key = V3SharedKey("secret");
  std::vector<uint8_t> frame = EncodedHello(Transport::kUdp);
  ASSERT_TRUE(SignV3Frame(frame, Transport::kUdp, key, kNonceA, kNonceB).ok());

  for (size_t i : {size_t{9}, size_t{19}, size_t{30}, frame.size() - 1}) {  // Ns, type, digest, last
    std::vector<uint8_t> flipped = frame;
    flipped[i] ^= 0x01;
    const absl::Status st = VerifyV3Frame(flipped, Transport::kUdp, key, kNonceB, kNonceA);
    EXPECT_FALSE(st.ok()) << "byte " << i;
  }
  const absl::Status wrong_key = VerifyV3Frame(frame, Transport::kUdp, V3SharedKey("other"), kNonceB,
                                               kNonceA);
  EXPECT_THAT(std::string(wrong_key.message()), HasSubstr("HELLO: Message Digest does not match"));
  // The sender's nonce goes first: the sender's view of the nonces fails.
  EXPECT_FALSE(VerifyV3Frame(frame, Transport::kUdp, key, kNonceA, kNonceB).ok());
}

// RFC 3931 section 5.4.1: an SCCRQ is hashed without nonces.
// hmac.new(key, c803002b 00000000 00000000 8008000000000001 80170000003b00 00*16, 'md5')
TEST(AuthTest, V3SccrqDigestHasNoNonces) {
  const auto key = V3SharedKey("secret");
  ControlMessage m;
  m.header.version = kL2tpV3;
  m.avps = {U16Avp(AvpType::kMessageType, 1), EmptyMessageDigestAvp()};
  auto frame = EncodeControlMessage(m, Transport::kUdp, "");
  ASSERT_TRUE(frame.ok());
  ASSERT_TRUE(SignV3Frame(*frame, Transport::kUdp, key, kNonceA, kNonceB).ok());
  EXPECT_EQ(Hex(std::span(*frame).subspan(27)), "483ebddff431654f733c5ed89dd8febe");
  EXPECT_TRUE(VerifyV3Frame(*frame, Transport::kUdp, key, {}, {}).ok());
}

TEST(AuthTest, V3DigestNeedsTheDigestAvpSecond) {
  const auto key = V3SharedKey("secret");
  ControlMessage m;
  m.header.version = kL2tpV3;
  m.avps = {U16Avp(AvpType::kMessageType, 6), TextAvp(AvpType::kHostName, "a-host-name-of-17b")};
  auto frame = EncodeControlMessage(m, Transport::kUdp, "");
  ASSERT_TRUE(frame.ok());
  EXPECT_THAT(std::string(SignV3Frame(*frame, Transport::kUdp, key, {}, {}).message()),
              HasSubstr("no Message Digest AVP right after Message Type"));

  std::vector<uint8_t> sha1 = EncodedHello(Transport::kUdp);
  sha1[26] = 1;  // Digest Type 1, HMAC-SHA-1
  EXPECT_THAT(std::string(VerifyV3Frame(sha1, Transport::kUdp, key, {}, {}).message()),
              HasSubstr("Message Digest type 1 is not supported"));

  std::vector<uint8_t> v2 = EncodedHello(Transport::kUdp);
  v2[1] = 0x02;
  EXPECT_THAT(std::string(VerifyV3Frame(v2, Transport::kUdp, key, {}, {}).message()),
              HasSubstr("not an L2TPv3 control message"));

  std::vector<uint8_t> longer = EncodedHello(Transport::kUdp);
  longer.push_back(0);
  EXPECT_THAT(std::string(VerifyV3Frame(longer, Transport::kUdp, key, {}, {}).message()),
              HasSubstr("header length 43 differs from the frame's 44 bytes"));
}

// What a connection's owner does: the digest goes in second and signs; the
// receiver takes the sender's nonce from an SCCRP itself.
TEST(AuthTest, EncodeAuthenticatedThenVerifyAuthenticated) {
  const auto key = V3SharedKey("s3cret");
  LocalTunnel responder;
  responder.tunnel_id = 42;
  responder.host_name = "lns";
  responder.pseudowire_types = {kPseudowireEth};
  responder.nonce.assign(kNonceB.begin(), kNonceB.end());
  for (Transport t : {Transport::kUdp, Transport::kIp}) {
    ControlMessage sccrp_message = BuildSccrp(responder, std::nullopt);
    sccrp_message.header.version = kL2tpV3;  // the reliable channel sets the header
    auto sccrp = EncodeAuthenticated(sccrp_message, t, "s3cret", key, kNonceB, kNonceA);
    ASSERT_TRUE(sccrp.ok()) << sccrp.status();
    auto decoded = DecodeControlMessage(*sccrp, t, "s3cret");
    ASSERT_TRUE(decoded.ok());
    EXPECT_TRUE(decoded->avps[1].Is(AvpType::kMessageDigest));
    // The initiator knows only its own nonce yet: the SCCRP brings the other.
    EXPECT_TRUE(VerifyAuthenticated(*sccrp, t, *decoded, key, kNonceA, {}).ok());
    EXPECT_FALSE(VerifyAuthenticated(*sccrp, t, *decoded, V3SharedKey("other"), kNonceA, {}).ok());

    ControlMessage hello_message = BuildHello();
    hello_message.header.version = kL2tpV3;
    auto hello = EncodeAuthenticated(hello_message, t, "s3cret", key, kNonceA, kNonceB);
    ASSERT_TRUE(hello.ok());
    auto hello_decoded = DecodeControlMessage(*hello, t, "");
    ASSERT_TRUE(hello_decoded.ok());
    EXPECT_TRUE(VerifyAuthenticated(*hello, t, *hello_decoded, key, kNonceB, kNonceA).ok());
    EXPECT_FALSE(VerifyAuthenticated(*hello, t, *hello_decoded, key, kNonceA, kNonceB).ok())
        << "the nonces in the wrong order";
  }
  // Unsigned: refused.
  ControlMessage plain_hello = BuildHello();
  plain_hello.header.version = kL2tpV3;
  const std::vector<uint8_t> plain = *EncodeControlMessage(plain_hello, Transport::kUdp, "");
  EXPECT_FALSE(VerifyAuthenticated(plain, Transport::kUdp, *DecodeControlMessage(plain, Transport::kUdp, ""),
                                   key, kNonceA, kNonceB)
                   .ok());
  // An SCCRP without its nonce: refused, saying so.
  responder.nonce.clear();
  ControlMessage bare_sccrp = BuildSccrp(responder, std::nullopt);
  bare_sccrp.header.version = kL2tpV3;
  auto bare = EncodeAuthenticated(bare_sccrp, Transport::kUdp, "s3cret", key, {}, {});
  ASSERT_TRUE(bare.ok());
  absl::Status st = VerifyAuthenticated(*bare, Transport::kUdp,
                                        *DecodeControlMessage(*bare, Transport::kUdp, ""), key, kNonceA, {});
  EXPECT_THAT(std::string(st.message()), HasSubstr("no Control Message Authentication Nonce"));
}

}  // namespace
}  // namespace l2tp::control
