// Golden bytes for every L2TPv3 data header variant, written from the
// RFC 3931 layouts (§4.1.1.1 over IP, §4.1.2.1 over UDP, §4.6 sublayer), and
// decode of malformed input.
#include "datapath/userspace/l2tp_header.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace l2tp::userspace {
namespace {

std::vector<uint8_t> Hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

const std::vector<uint8_t>& Cookie(size_t len) {
  static const std::vector<uint8_t> none, four = Hex("deadbeef"), eight = Hex("0102030405060708");
  return len == 0 ? none : len == 4 ? four : eight;
}

struct Golden {
  Encap encap;
  size_t cookie_length;
  L2Spec l2spec;
  bool sequenced;
  const char* header_hex;  // peer session 0x12345, sequence 0xabcdef
};

// Linux sends an all-zero sublayer when not sequencing; no sublayer, no number.
const Golden kGolden[] = {
    {Encap::kUdp, 0, L2Spec::kNone, false, "0003000000012345"},
    {Encap::kUdp, 0, L2Spec::kNone, true, "0003000000012345"},
    {Encap::kUdp, 0, L2Spec::kDefault, false, "000300000001234500000000"},
    {Encap::kUdp, 0, L2Spec::kDefault, true, "000300000001234540abcdef"},
    {Encap::kUdp, 4, L2Spec::kNone, false, "0003000000012345deadbeef"},
    {Encap::kUdp, 4, L2Spec::kNone, true, "0003000000012345deadbeef"},
    {Encap::kUdp, 4, L2Spec::kDefault, false, "0003000000012345deadbeef00000000"},
    {Encap::kUdp, 4, L2Spec::kDefault, true, "0003000000012345deadbeef40abcdef"},
    {Encap::kUdp, 8, L2Spec::kNone, false, "00030000000123450102030405060708"},
    {Encap::kUdp, 8, L2Spec::kNone, true, "00030000000123450102030405060708"},
    {Encap::kUdp, 8, L2Spec::kDefault, false, "0003000000012345010203040506070800000000"},
    {Encap::kUdp, 8, L2Spec::kDefault, true, "0003000000012345010203040506070840abcdef"},
    {Encap::kIp, 0, L2Spec::kNone, false, "00012345"},
    {Encap::kIp, 0, L2Spec::kNone, true, "00012345"},
    {Encap::kIp, 0, L2Spec::kDefault, false, "0001234500000000"},
    {Encap::kIp, 0, L2Spec::kDefault, true, "0001234540abcdef"},
    {Encap::kIp, 4, L2Spec::kNone, false, "00012345deadbeef"},
    {Encap::kIp, 4, L2Spec::kNone, true, "00012345deadbeef"},
    {Encap::kIp, 4, L2Spec::kDefault, false, "00012345deadbeef00000000"},
    {Encap::kIp, 4, L2Spec::kDefault, true, "00012345deadbeef40abcdef"},
    {Encap::kIp, 8, L2Spec::kNone, false, "000123450102030405060708"},
    {Encap::kIp, 8, L2Spec::kNone, true, "000123450102030405060708"},
    {Encap::kIp, 8, L2Spec::kDefault, false, "00012345010203040506070800000000"},
    {Encap::kIp, 8, L2Spec::kDefault, true, "00012345010203040506070840abcdef"},
};

class HeaderGoldenTest : public ::testing::TestWithParam<Golden> {};

TEST_P(HeaderGoldenTest, EncodesExactBytes) {
  const Golden& g = GetParam();
  TxHeaderSpec spec{g.encap, 0x12345, Cookie(g.cookie_length), g.l2spec};
  std::vector<uint8_t> out(kMaxHeaderLength + 4, 0xee);
  std::optional<uint32_t> seq;
  if (g.sequenced) seq = 0xabcdef;
  size_t n = EncodeHeader(spec, seq, out);
  std::vector<uint8_t> want = Hex(g.header_hex);
  ASSERT_EQ(n, want.size());
  EXPECT_EQ(n, HeaderLength(g.encap, g.cookie_length, g.l2spec));
  out.resize(n);
  EXPECT_EQ(out, want);
}

TEST_P(HeaderGoldenTest, DecodesGoldenPacket) {
  const Golden& g = GetParam();
  std::vector<uint8_t> packet = Hex(g.header_hex);
  const std::vector<uint8_t> frame = Hex("ffffffffffff020000000001080045");
  packet.insert(packet.end(), frame.begin(), frame.end());

  SessionIdDecode id = DecodeSessionId(g.encap, packet);
  ASSERT_EQ(id.result, SessionIdResult::kData);
  EXPECT_EQ(id.session_id, 0x12345u);
  EXPECT_EQ(id.offset, g.encap == Encap::kUdp ? 8u : 4u);

  DataHeaderDecode d = DecodeDataHeader({Cookie(g.cookie_length), g.l2spec}, packet, id.offset);
  ASSERT_EQ(d.result, DataHeaderResult::kOk);
  EXPECT_EQ(d.has_sequence, g.sequenced && g.l2spec == L2Spec::kDefault);
  EXPECT_EQ(d.sequence, d.has_sequence ? 0xabcdefu : 0u);
  ASSERT_EQ(d.payload_offset, packet.size() - frame.size());
  EXPECT_EQ(std::vector<uint8_t>(packet.begin() + d.payload_offset, packet.end()), frame);
}

INSTANTIATE_TEST_SUITE_P(AllVariants, HeaderGoldenTest, ::testing::ValuesIn(kGolden));

TEST(L2tpHeader, SequenceIsTruncatedTo24Bits) {
  TxHeaderSpec spec{Encap::kIp, 1, {}, L2Spec::kDefault};
  std::vector<uint8_t> out(8);
  ASSERT_EQ(EncodeHeader(spec, 0x01000005, out), 8u);
  EXPECT_EQ(out, Hex("0000000140000005"));
}

TEST(L2tpHeader, EncodeRefusesSmallBuffer) {
  TxHeaderSpec spec{Encap::kUdp, 1, Cookie(8), L2Spec::kDefault};
  std::vector<uint8_t> out(19);
  EXPECT_EQ(EncodeHeader(spec, std::nullopt, out), 0u);
}

TEST(L2tpHeader, ShortUdpPacketsAreShort) {
  for (const char* hex : {"", "00", "000300", "00030000", "00030000000123"}) {
    EXPECT_EQ(DecodeSessionId(Encap::kUdp, Hex(hex)).result, SessionIdResult::kShort) << hex;
  }
}

TEST(L2tpHeader, ShortIpPacketsAreShort) {
  for (const char* hex : {"", "00", "000123"}) {
    EXPECT_EQ(DecodeSessionId(Encap::kIp, Hex(hex)).result, SessionIdResult::kShort) << hex;
  }
}

TEST(L2tpHeader, WrongVersionOverUdp) {
  EXPECT_EQ(DecodeSessionId(Encap::kUdp, Hex("0002000000010001")).result,
            SessionIdResult::kBadVersion);  // L2TPv2
  EXPECT_EQ(DecodeSessionId(Encap::kUdp, Hex("0000000000000001")).result, SessionIdResult::kBadVersion);
}

TEST(L2tpHeader, ControlMessagesAreNotData) {
  // UDP: T bit set (control header: T, L, S flags + version 3).
  EXPECT_EQ(DecodeSessionId(Encap::kUdp, Hex("c80300140000000100000000")).result, SessionIdResult::kControl);
  // IP: session id 0 announces a control message.
  EXPECT_EQ(DecodeSessionId(Encap::kIp, Hex("00000000c8030014")).result, SessionIdResult::kControl);
  EXPECT_EQ(DecodeSessionId(Encap::kUdp, Hex("0003000000000000")).result, SessionIdResult::kControl);
}

TEST(L2tpHeader, TruncatedCookie) {
  auto packet = Hex("00012345deadbe");
  EXPECT_EQ(DecodeDataHeader({Cookie(4), L2Spec::kNone}, packet, 4).result, DataHeaderResult::kTruncated);
  packet = Hex("00012345010203040506");
  EXPECT_EQ(DecodeDataHeader({Cookie(8), L2Spec::kNone}, packet, 4).result, DataHeaderResult::kTruncated);
}

TEST(L2tpHeader, TruncatedSublayer) {
  auto packet = Hex("00012345deadbeef400000");
  EXPECT_EQ(DecodeDataHeader({Cookie(4), L2Spec::kDefault}, packet, 4).result, DataHeaderResult::kTruncated);
  EXPECT_EQ(DecodeDataHeader({{}, L2Spec::kDefault}, Hex("00012345"), 4).result,
            DataHeaderResult::kTruncated);
}

TEST(L2tpHeader, OffsetBeyondPacketIsTruncated) {
  EXPECT_EQ(DecodeDataHeader({{}, L2Spec::kNone}, Hex("0001"), 4).result, DataHeaderResult::kTruncated);
}

TEST(L2tpHeader, CookieMismatch) {
  auto packet = Hex("00012345deadbeee00000000aabb");
  EXPECT_EQ(DecodeDataHeader({Cookie(4), L2Spec::kDefault}, packet, 4).result,
            DataHeaderResult::kCookieMismatch);
  packet = Hex("000123450102030405060709");
  EXPECT_EQ(DecodeDataHeader({Cookie(8), L2Spec::kNone}, packet, 4).result,
            DataHeaderResult::kCookieMismatch);
}

TEST(L2tpHeader, SublayerWithoutSBitCarriesNoSequence) {
  // Other sublayer bits (V, B, E) set but not S: no sequence number.
  auto d = DecodeDataHeader({{}, L2Spec::kDefault}, Hex("00000001b0123456ff"), 4);
  ASSERT_EQ(d.result, DataHeaderResult::kOk);
  EXPECT_FALSE(d.has_sequence);
}

TEST(L2tpHeader, Ipv4HeaderSkipping) {
  auto with_options = Hex("46000000000000000000000000000000000000000000000000012345");
  EXPECT_EQ(SkipIpv4Header(with_options), 24u);
  EXPECT_EQ(SkipIpv4Header(Hex("450000")), std::nullopt);                                  // shorter than IHL
  EXPECT_EQ(SkipIpv4Header(Hex("44000000000000000000000000000000000000")), std::nullopt);  // IHL<5
  EXPECT_EQ(SkipIpv4Header(Hex("6000000000000000000000000000000000000000")), std::nullopt);
  EXPECT_EQ(SkipIpv4Header({}), std::nullopt);
}

}  // namespace
}  // namespace l2tp::userspace
