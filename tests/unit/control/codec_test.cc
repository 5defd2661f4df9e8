#include "control/codec.h"

#include <openssl/evp.h>

#include <array>
#include <string>

#include "control/auth.h"
#include "gmock/gmock.h"
#include "tests/unit/control/golden_frames.h"
#include "gtest/gtest.h"

namespace l2tp::control {
namespace {

using ::testing::HasSubstr;

// "c8 02 00 0c ..." to bytes; spaces are for reading.
std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ') continue;
    const int nibble = c <= '9' ? c - '0' : c - 'a' + 10;
    if (high < 0) {
      high = nibble;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  return out;
}

std::vector<uint8_t> Bytes(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

ControlMessage Message(ControlHeader h, std::vector<Avp> avps) {
  ControlMessage m;
  m.header = h;
  m.avps = std::move(avps);
  return m;
}

struct Golden {
  const char* name;
  Transport transport;
  std::span<const uint8_t> bytes;
  ControlMessage message;
};

std::vector<Golden> Goldens() {
  const ControlMessage v3_sccrq = Message(
      {.version = kL2tpV3},
      {U16Avp(AvpType::kMessageType, 1), TextAvp(AvpType::kHostName, "lcce-a"),
       U32Avp(AvpType::kRouterId, 0x0a000001), U32Avp(AvpType::kAssignedControlConnectionId, 0x12345678),
       BytesAvp(AvpType::kPseudowireCapabilitiesList, std::vector<uint8_t>{0x00, 0x05})});
  return {
      {"v2 SCCRQ", Transport::kUdp, golden::kV2Sccrq,
       Message({.version = kL2tpV2},
               {U16Avp(AvpType::kMessageType, 1), U16Avp(AvpType::kProtocolVersion, 0x0100),
                TextAvp(AvpType::kHostName, "lac"), U32Avp(AvpType::kFramingCapabilities, 3),
                U16Avp(AvpType::kAssignedTunnelId, 1), U16Avp(AvpType::kReceiveWindowSize, 4)})},
      {"v2 ZLB", Transport::kUdp, golden::kV2Zlb,
       Message({.version = kL2tpV2, .tunnel_id = 1, .ns = 1, .nr = 1}, {})},
      {"v2 HELLO", Transport::kUdp, golden::kV2Hello,
       Message({.version = kL2tpV2, .tunnel_id = 5, .ns = 2, .nr = 3}, {U16Avp(AvpType::kMessageType, 6)})},
      {"v3 SCCRQ UDP", Transport::kUdp, golden::kV3SccrqUdp, v3_sccrq},
      {"v3 SCCRQ IP", Transport::kIp, golden::kV3SccrqIp, v3_sccrq},
      {"v3 ICRQ", Transport::kUdp, golden::kV3Icrq,
       Message({.version = kL2tpV3, .tunnel_id = 0x87654321, .ns = 1, .nr = 1},
               {U16Avp(AvpType::kMessageType, 10), U32Avp(AvpType::kLocalSessionId, 0x1001),
                U32Avp(AvpType::kRemoteSessionId, 0), U32Avp(AvpType::kCallSerialNumber, 1),
                U16Avp(AvpType::kPseudowireType, 5), TextAvp(AvpType::kRemoteEndId, "pw-1"),
                U16Avp(AvpType::kCircuitStatus, 3)})},
      {"v3 ACK", Transport::kUdp, golden::kV3Ack,
       Message({.version = kL2tpV3, .tunnel_id = 0x87654321, .ns = 2, .nr = 2},
               {U16Avp(AvpType::kMessageType, 20)})},
  };
}

TEST(CodecTest, GoldenFramesEncodeAndDecode) {
  const std::vector<Golden> goldens = Goldens();
  ASSERT_EQ(goldens.size(), std::size(golden::kFrames));
  for (const Golden& g : goldens) {
    SCOPED_TRACE(g.name);
    auto encoded = EncodeControlMessage(g.message, g.transport, "");
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    EXPECT_EQ(*encoded, Bytes(g.bytes));
    auto decoded = DecodeControlMessage(g.bytes, g.transport, "");
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, g.message);
    EXPECT_TRUE(IsControlFrame(g.bytes, g.transport));
  }
}

TEST(CodecTest, ReadsTheGoldenValuesBack) {
  auto icrq = DecodeControlMessage(golden::kV3Icrq, Transport::kUdp, "");
  ASSERT_TRUE(icrq.ok());
  EXPECT_EQ(icrq->Type(), 10);
  EXPECT_EQ(icrq->header.tunnel_id, 0x87654321u);
  EXPECT_EQ(U32(*icrq, AvpType::kLocalSessionId), 0x1001u);
  EXPECT_EQ(U16(*icrq, AvpType::kPseudowireType), 5);
  EXPECT_EQ(Text(*icrq, AvpType::kRemoteEndId), "pw-1");
  auto zlb = DecodeControlMessage(golden::kV2Zlb, Transport::kUdp, "");
  ASSERT_TRUE(zlb.ok());
  EXPECT_TRUE(zlb->IsZlb());
  EXPECT_EQ(zlb->Type(), std::nullopt);
}

TEST(CodecTest, IsControlFrame) {
  EXPECT_FALSE(IsControlFrame(FromHex("00 03 00 00 00 00 10 01"), Transport::kUdp));  // v3 data
  EXPECT_FALSE(IsControlFrame(FromHex("00 00 10 01 45"), Transport::kIp));            // session 0x1001
  EXPECT_FALSE(IsControlFrame(FromHex("00 00 00"), Transport::kIp));
  EXPECT_FALSE(IsControlFrame({}, Transport::kUdp));
  EXPECT_TRUE(IsControlFrame(FromHex("c8 02"), Transport::kUdp));
}

struct BadFrame {
  const char* name;
  Transport transport;
  std::string_view hex;
  std::string_view secret;
  std::string_view error;
};

// Header: flags, Length, ids, Ns/Nr; "8008000000000001" is Message Type SCCRQ.
constexpr BadFrame kBadFrames[] = {
    {"IP frame without a Session ID", Transport::kIp, "0000", "", "frame of 2 bytes has no Session ID"},
    {"IP data frame", Transport::kIp, "00000042 c803000c 00000000 00000000", "",
     "Session ID 66 is not 0: a data message"},
    {"UDP data frame", Transport::kUdp, "00030000 00001001", "", "T bit at offset 0 is 0: a data message"},
    {"version 1", Transport::kUdp, "c801000c 00000000 00000000", "", "version 1 is not 2 or 3"},
    {"v2 over IP", Transport::kIp, "00000000 c802000c 00000000 00000000", "",
     "version 2 over IP: L2TPv2 runs over UDP only"},
    {"no L bit", Transport::kUdp, "8802000c 00000000 00000000", "",
     "L bit at offset 0 is 0: a control message carries its Length"},
    {"no S bit", Transport::kUdp, "c002000c 00000000 00000000", "",
     "S bit at offset 0 is 0: a control message carries Ns and Nr"},
    {"O bit", Transport::kUdp, "ca02000c 00000000 00000000", "",
     "O bit at offset 0 is set in a control message"},
    {"P bit", Transport::kUdp, "c902000c 00000000 00000000", "",
     "P bit at offset 0 is set in a control message"},
    {"short header", Transport::kUdp, "c802000c 00000000", "",
     "frame of 8 bytes is shorter than the 12-byte control header"},
    {"Length under the header", Transport::kUdp, "c802000b 00000000 00000000", "",
     "Length 11 at offset 2 is shorter than the header (12 bytes)"},
    {"Length past the frame", Transport::kUdp, "c8020028 00000000 00000000 8008000000000001", "",
     "Length 40 at offset 2 runs past the frame (20 bytes)"},
    {"trailing bytes", Transport::kUdp, "c8020014 00050000 00020003 8008000000000006 00000000", "",
     "4 trailing bytes after the message (Length 20 at offset 2)"},
    {"AVP header cut", Transport::kUdp, "c8020017 00000000 00000000 8008000000000001 800900", "",
     "AVP 2 at offset 20: 3 bytes left, less than an AVP header (6 bytes)"},
    {"AVP length under 6", Transport::kUdp, "c802001a 00000000 00000000 8008000000000001 800500000007", "",
     "AVP 2 (Host Name) at offset 20: length 5 is less than 6"},
    {"AVP past the message", Transport::kUdp,
     "c8020024 00000000 00000000 8008000000000001 8008000000020100 802800000007 6c61", "",
     "AVP 3 (Host Name) at offset 28: length 40 runs past the message (36 bytes)"},
    {"AVP past the message over IP", Transport::kIp,
     "00000000 c803001a 00000001 00000000 8008000000000006 802800000007", "",
     "AVP 2 (Host Name) at offset 20: length 40 runs past the message (26 bytes)"},
    {"AVP reserved bits", Transport::kUdp, "c802001a 00000000 00000000 8008000000000001 840600000007", "",
     "AVP 2 (Host Name) at offset 20: reserved bits are set"},
    {"first AVP not Message Type", Transport::kUdp, "c8020015 00000000 00000000 800900000007 6c6163", "",
     "AVP 1 (Host Name) at offset 12: the first AVP must be Message Type"},
    {"Message Type of 4 bytes", Transport::kUdp, "c8020016 00000000 00000000 800a00000000 00000001", "",
     "AVP 1 (Message Type) at offset 12: length 10, Message Type is 8"},
    {"hidden Message Type", Transport::kUdp, "c8020014 00000000 00000000 c008000000000001", "s",
     "AVP 1 (Message Type) at offset 12 is hidden and cannot be"},
    {"hidden Random Vector", Transport::kUdp,
     "c802001e 00000000 00000000 8008000000000001 c00a00000024 01020304", "s",
     "AVP 2 (Random Vector) at offset 20 is hidden and cannot be"},
    {"hidden without a secret", Transport::kUdp,
     "c802001c 00000000 00000000 8008000000000001 c00800000009 1234", "",
     "AVP 2 (Assigned Tunnel ID) at offset 20 is hidden and no secret is configured"},
    {"hidden without a Random Vector", Transport::kUdp,
     "c802001c 00000000 00000000 8008000000000001 c00800000009 1234", "s",
     "AVP 2 (Assigned Tunnel ID) at offset 20 is hidden and no Random Vector AVP comes before it"},
    {"hidden value of one byte", Transport::kUdp,
     "c8020023 00000000 00000000 8008000000000001 800800000024 aabb c00700000009 12", "s",
     "AVP 3 (Assigned Tunnel ID) at offset 28: hidden value of 1 bytes has no room for its original length"},
};

TEST(CodecTest, DecodeErrorsNameTheFieldAndOffset) {
  for (const BadFrame& b : kBadFrames) {
    SCOPED_TRACE(b.name);
    auto m = DecodeControlMessage(FromHex(b.hex), b.transport, b.secret);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(m.status().message()), b.error);
  }
}

// Unknown and vendor AVPs pass through with their M bit: the state machines
// decide what an unknown mandatory AVP means.
TEST(CodecTest, KeepsUnknownAndVendorAvps) {
  const std::vector<uint8_t> frame = FromHex(
      "c8030026 00000007 00000000 8008000000000006"
      "8008000000fa 0102"        // M=1, IETF AVP 250
      "000a00090001 deadbeef");  // M=0, vendor 9 (Cisco) AVP 1
  auto m = DecodeControlMessage(frame, Transport::kUdp, "");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->avps.size(), 3u);
  EXPECT_EQ(m->avps[1], (Avp{.mandatory = true, .vendor_id = 0, .type = 250, .value = {1, 2}}));
  EXPECT_EQ(m->avps[2],
            (Avp{.mandatory = false, .vendor_id = 9, .type = 1, .value = {0xde, 0xad, 0xbe, 0xef}}));
  EXPECT_FALSE(IsKnownAvp(kL2tpV3, 0, 250));
  auto again = EncodeControlMessage(*m, Transport::kUdp, "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, frame);
}

std::array<uint8_t, 16> Md5(std::span<const uint8_t> data) {
  std::array<uint8_t, 16> out;
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_md5(), nullptr), 1);
  return out;
}

std::vector<uint8_t> Concat(std::initializer_list<std::span<const uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::span<const uint8_t> Str(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The bytes of the n-th AVP (from 0) of an encoded UDP frame.
std::vector<uint8_t> AvpBytes(std::span<const uint8_t> frame, size_t n) {
  size_t at = 12;
  for (size_t i = 0; i < n; ++i) at += (frame[at] << 8 | frame[at + 1]) & 0x3ff;
  const size_t length = (frame[at] << 8 | frame[at + 1]) & 0x3ff;
  return Bytes(frame.subspan(at, length));
}

constexpr std::string_view kSecret = "tunnel-secret";
const std::vector<uint8_t> kRandomVector = FromHex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");

// RFC 2661 section 4.3, worked by hand: Assigned Tunnel ID 0x0001 hidden.
// The subformat is original length 2, value 00 01 (no padding); b1 =
// MD5(attribute type 00 09 ‖ secret ‖ RV); c1 = p1 xor b1.
TEST(CodecTest, HiddenAvpByHand) {
  const ControlMessage m =
      Message({.version = kL2tpV2, .tunnel_id = 3},
              {U16Avp(AvpType::kMessageType, 2), BytesAvp(AvpType::kRandomVector, kRandomVector),
               Avp{.mandatory = true, .hidden = true, .vendor_id = 0, .type = 9, .value = {0x00, 0x01}}});
  auto frame = EncodeControlMessage(m, Transport::kUdp, kSecret);
  ASSERT_TRUE(frame.ok()) << frame.status();

  const std::array<uint8_t, 16> b1 = Md5(Concat({FromHex("0009"), Str(kSecret), kRandomVector}));
  const std::vector<uint8_t> p1 = FromHex("0002 0001");
  std::vector<uint8_t> want = FromHex("c00a 0000 0009");  // M, H, length 10; IETF; type 9
  for (size_t i = 0; i < p1.size(); ++i) want.push_back(p1[i] ^ b1[i]);
  EXPECT_EQ(AvpBytes(*frame, 2), want);

  auto back = DecodeControlMessage(*frame, Transport::kUdp, kSecret);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  EXPECT_TRUE(back->avps[2].hidden);
  EXPECT_EQ(U16(*back, AvpType::kAssignedTunnelId), 1);
}

// Past 16 bytes the chain goes on from the ciphertext: b2 = MD5(secret ‖ c1).
TEST(CodecTest, HiddenAvpOverTwoBlocksByHand) {
  const std::string host = "host-name-of-20-byte";
  ASSERT_EQ(host.size(), 20u);
  const ControlMessage m = Message({.version = kL2tpV2, .tunnel_id = 3},
                                   {U16Avp(AvpType::kMessageType, 1),
                                    BytesAvp(AvpType::kRandomVector, kRandomVector),
                                    Avp{.mandatory = true,
                                        .hidden = true,
                                        .vendor_id = 0,
                                        .type = 7,
                                        .value = {host.begin(), host.end()}}});
  auto frame = EncodeControlMessage(m, Transport::kUdp, kSecret);
  ASSERT_TRUE(frame.ok()) << frame.status();

  const std::vector<uint8_t> p = Concat({FromHex("0014"), Str(host)});  // 22 bytes
  const std::array<uint8_t, 16> b1 = Md5(Concat({FromHex("0007"), Str(kSecret), kRandomVector}));
  std::vector<uint8_t> c(p.size());
  for (size_t i = 0; i < 16; ++i) c[i] = p[i] ^ b1[i];
  const std::array<uint8_t, 16> b2 = Md5(Concat({Str(kSecret), std::span(c).first(16)}));
  for (size_t i = 16; i < p.size(); ++i) c[i] = p[i] ^ b2[i - 16];
  EXPECT_EQ(AvpBytes(*frame, 2), Concat({FromHex("c01c 0000 0007"), c}));  // length 6 + 22

  auto back = DecodeControlMessage(*frame, Transport::kUdp, kSecret);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(Text(*back, AvpType::kHostName), host);
}

// A peer may pad the hidden value with random bytes (xl2tpd's hider does);
// the original length says where the value ends. Here the padding is built
// by hand with the same chain.
TEST(CodecTest, HiddenAvpPaddingIsStripped) {
  const std::vector<uint8_t> p = FromHex("0002 abcd 11223344");  // value ab cd, 4 bytes of padding
  const std::array<uint8_t, 16> b1 = Md5(Concat({FromHex("000e"), Str(kSecret), kRandomVector}));
  std::vector<uint8_t> c(p.size());
  for (size_t i = 0; i < p.size(); ++i) c[i] = p[i] ^ b1[i];
  const std::vector<uint8_t> frame = Concat({FromHex("c8020038 00030000 00000000 800800000000000a"),
                                             FromHex("801600000024"), kRandomVector, FromHex("c00e0000000e"),
                                             c});  // Assigned Session ID
  auto m = DecodeControlMessage(frame, Transport::kUdp, kSecret);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(U16(*m, AvpType::kAssignedSessionId), 0xabcd);
}

// Each hidden AVP uses the last Random Vector before it.
TEST(CodecTest, HiddenAvpUsesTheLastRandomVector) {
  const std::vector<uint8_t> rv2 = FromHex("00112233");
  const ControlMessage m =
      Message({.version = kL2tpV2, .tunnel_id = 3},
              {U16Avp(AvpType::kMessageType, 2), BytesAvp(AvpType::kRandomVector, kRandomVector),
               Avp{.mandatory = true, .hidden = true, .vendor_id = 0, .type = 9, .value = {0x00, 0x01}},
               BytesAvp(AvpType::kRandomVector, rv2),
               Avp{.mandatory = true, .hidden = true, .vendor_id = 0, .type = 9, .value = {0x00, 0x01}}});
  auto frame = EncodeControlMessage(m, Transport::kUdp, kSecret);
  ASSERT_TRUE(frame.ok()) << frame.status();
  const std::array<uint8_t, 16> b1 = Md5(Concat({FromHex("0009"), Str(kSecret), rv2}));
  const std::vector<uint8_t> last = AvpBytes(*frame, 4);
  EXPECT_EQ(last[6], 0x00 ^ b1[0]);
  EXPECT_EQ(last[9], 0x01 ^ b1[3]);
  EXPECT_NE(AvpBytes(*frame, 2), last);
  auto back = DecodeControlMessage(*frame, Transport::kUdp, kSecret);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(CodecTest, HiddenAvpWithAnotherSecret) {
  const ControlMessage m =
      Message({.version = kL2tpV2},
              {U16Avp(AvpType::kMessageType, 2), BytesAvp(AvpType::kRandomVector, kRandomVector),
               Avp{.mandatory = true, .hidden = true, .vendor_id = 0, .type = 9, .value = {0x00, 0x01}}});
  auto frame = EncodeControlMessage(m, Transport::kUdp, kSecret);
  ASSERT_TRUE(frame.ok());
  auto other = DecodeControlMessage(*frame, Transport::kUdp, "not-the-secret");
  ASSERT_FALSE(other.ok());  // original length 0x.... does not fit 2 bytes
  EXPECT_THAT(std::string(other.status().message()), HasSubstr("(wrong secret?)"));
}

TEST(CodecTest, EncodeErrorsNameTheAvp) {
  const Avp hidden{.mandatory = true, .hidden = true, .vendor_id = 0, .type = 9, .value = {0, 1}};
  const Avp type = U16Avp(AvpType::kMessageType, 1);
  const Avp rv = BytesAvp(AvpType::kRandomVector, kRandomVector);
  auto error = [](const ControlMessage& m, Transport t, std::string_view secret) {
    auto bytes = EncodeControlMessage(m, t, secret);
    return bytes.ok() ? std::string("ok") : std::string(bytes.status().message());
  };
  EXPECT_EQ(error(Message({.version = kL2tpV2}, {type, hidden}), Transport::kUdp, ""),
            "AVP 2 (Assigned Tunnel ID) at offset 20 is marked hidden and no secret is configured");
  EXPECT_EQ(
      error(Message({.version = kL2tpV2}, {type, hidden}), Transport::kUdp, "s"),
      "AVP 2 (Assigned Tunnel ID) at offset 20 is marked hidden and no Random Vector AVP comes before it");
  EXPECT_EQ(error(Message({.version = kL2tpV2}, {hidden}), Transport::kUdp, "s"),
            "AVP 1 (Assigned Tunnel ID) at offset 12: the first AVP must be Message Type");
  EXPECT_EQ(error(Message({.version = kL2tpV2}, {type}), Transport::kIp, ""),
            "version 2 over IP: L2TPv2 runs over UDP only");
  EXPECT_EQ(error(Message({.version = kL2tpV2, .tunnel_id = 70000}, {type}), Transport::kUdp, ""),
            "tunnel ID 70000 does not fit the 16-bit L2TPv2 header");
  EXPECT_EQ(error(Message({.version = 4}, {type}), Transport::kUdp, ""), "version 4 is not 2 or 3");

  // 1023 - 6 = 1017 value bytes fit an AVP; a hidden value also carries its length.
  Avp host = TextAvp(AvpType::kHostName, std::string(1017, 'h'));
  EXPECT_EQ(error(Message({.version = kL2tpV3}, {type, host}), Transport::kUdp, ""), "ok");
  host.value.push_back('h');
  EXPECT_EQ(error(Message({.version = kL2tpV3}, {type, host}), Transport::kUdp, ""),
            "AVP 2 (Host Name) at offset 20: value of 1018 bytes is over the 1017 an AVP holds");
  host.value.resize(1016);
  host.hidden = true;
  EXPECT_EQ(error(Message({.version = kL2tpV3}, {type, rv, host}), Transport::kUdp, "s"),
            "AVP 3 (Host Name) at offset 42: value of 1018 bytes once hidden is over the 1017 an AVP holds");

  // 66 AVPs of 1006 bytes: past 65535.
  ControlMessage big = Message({.version = kL2tpV3}, {type});
  for (int i = 0; i < 66; ++i) big.avps.push_back(TextAvp(AvpType::kVendorName, std::string(1000, 'v')));
  EXPECT_EQ(error(big, Transport::kUdp, ""),
            "AVP 67 (Vendor Name) at offset 65410: the message grows past 65535 bytes");
}

// A message of exactly 65535 bytes still encodes and decodes.
TEST(CodecTest, LargestMessage) {
  ControlMessage m = Message({.version = kL2tpV3}, {U16Avp(AvpType::kMessageType, 6)});
  size_t length = 12 + 8;
  while (length + 1023 <= 65535) {
    m.avps.push_back(BytesAvp(AvpType::kVendorName, std::vector<uint8_t>(1017, 'v'), false));
    length += 1023;
  }
  m.avps.push_back(BytesAvp(AvpType::kVendorName, std::vector<uint8_t>(65535 - length - 6, 'v'), false));
  auto frame = EncodeControlMessage(m, Transport::kIp, "");
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->size(), 4u + 65535u);
  auto back = DecodeControlMessage(*frame, Transport::kIp, "");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

}  // namespace
}  // namespace l2tp::control
