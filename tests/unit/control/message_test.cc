#include "control/message.h"

#include "gtest/gtest.h"

namespace l2tp::control {
namespace {

TEST(MessageTest, Names) {
  EXPECT_EQ(MessageTypeName(1), "SCCRQ");
  EXPECT_EQ(MessageTypeName(4), "StopCCN");
  EXPECT_EQ(MessageTypeName(20), "ACK");
  EXPECT_EQ(MessageTypeName(99), "type 99");
  EXPECT_EQ(AvpName(0, 7), "Host Name");
  EXPECT_EQ(AvpName(0, 61), "Assigned Control Connection ID");
  EXPECT_EQ(AvpName(0, 73), "Control Message Authentication Nonce");
  EXPECT_EQ(AvpName(0, 99), "AVP 99");
  EXPECT_EQ(AvpName(9, 1), "vendor 9 AVP 1");
}

// The enum and the name table agree on every number (RFC 2661 4.4, RFC 3931 5.4).
TEST(MessageTest, EveryAvpTypeHasAName) {
  for (uint16_t t = 0; t <= 75; ++t) {
    if (t == 20 || (t >= 40 && t <= 57) || t == 67) {
      EXPECT_EQ(AvpName(0, t), "AVP " + std::to_string(t));
    } else {
      EXPECT_NE(AvpName(0, t), "AVP " + std::to_string(t)) << t;
    }
  }
}

TEST(MessageTest, KnownAvpsByVersion) {
  EXPECT_TRUE(IsKnownAvp(kL2tpV2, 0, static_cast<uint16_t>(AvpType::kAssignedTunnelId)));
  EXPECT_TRUE(IsKnownAvp(kL2tpV2, 0, static_cast<uint16_t>(AvpType::kSequencingRequired)));
  EXPECT_FALSE(IsKnownAvp(kL2tpV2, 0, 20));
  EXPECT_FALSE(IsKnownAvp(kL2tpV2, 0, static_cast<uint16_t>(AvpType::kRouterId)));
  EXPECT_TRUE(IsKnownAvp(kL2tpV3, 0, static_cast<uint16_t>(AvpType::kRouterId)));
  EXPECT_TRUE(IsKnownAvp(kL2tpV3, 0, static_cast<uint16_t>(AvpType::kHostName)));
  EXPECT_TRUE(IsKnownAvp(kL2tpV3, 0, static_cast<uint16_t>(AvpType::kRandomVector)));
  EXPECT_TRUE(IsKnownAvp(kL2tpV3, 0, static_cast<uint16_t>(AvpType::kRxConnectSpeedBps)));
  EXPECT_FALSE(IsKnownAvp(kL2tpV3, 0, static_cast<uint16_t>(AvpType::kAssignedTunnelId)));
  EXPECT_FALSE(IsKnownAvp(kL2tpV3, 0, static_cast<uint16_t>(AvpType::kFramingCapabilities)));
  EXPECT_FALSE(IsKnownAvp(kL2tpV3, 0, 76));
  EXPECT_FALSE(IsKnownAvp(kL2tpV3, 9, 1));  // vendor AVPs are never ours
}

TEST(MessageTest, TypedReads) {
  ControlMessage m;
  m.avps = {U16Avp(AvpType::kMessageType, 6), U32Avp(AvpType::kRouterId, 0x0a000001),
            U64Avp(AvpType::kTxConnectSpeedBps, 10'000'000'000), TextAvp(AvpType::kHostName, "lac"),
            BytesAvp(AvpType::kRandomVector, std::vector<uint8_t>{1, 2, 3})};
  EXPECT_EQ(m.Type(), 6);
  EXPECT_EQ(m.avps[1].value, (std::vector<uint8_t>{0x0a, 0, 0, 1}));  // network order
  EXPECT_EQ(U32(m, AvpType::kRouterId), 0x0a000001u);
  EXPECT_EQ(U64(m, AvpType::kTxConnectSpeedBps), 10'000'000'000u);
  EXPECT_EQ(Text(m, AvpType::kHostName), "lac");
  EXPECT_EQ(Bytes(m, AvpType::kRandomVector), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(U16(m, AvpType::kRouterId), std::nullopt);        // wrong size
  EXPECT_EQ(U32(m, AvpType::kLocalSessionId), std::nullopt);  // absent
  EXPECT_TRUE(m.avps[0].mandatory);
  EXPECT_FALSE(TextAvp(AvpType::kVendorName, "x", false).mandatory);
}

TEST(MessageTest, ResultCodeRoundTrip) {
  for (const ResultCode& r :
       {ResultCode{1, std::nullopt, ""}, ResultCode{2, 6, ""}, ResultCode{2, 8, "AVP 250"}}) {
    ControlMessage m;
    m.avps = {U16Avp(AvpType::kMessageType, 4), ResultCodeAvp(r)};
    auto back = ReadResultCode(m);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->result, r.result);
    EXPECT_EQ(back->error, r.error);
    EXPECT_EQ(back->message, r.message);
  }
  // RFC 2661 4.4.2: a message rides behind an error code, so one is added.
  EXPECT_EQ(ResultCodeAvp({3, std::nullopt, "x"}).value, (std::vector<uint8_t>{0, 3, 0, 0, 'x'}));
  ControlMessage bad;
  bad.avps = {BytesAvp(AvpType::kResultCode, std::vector<uint8_t>{0, 1, 0})};
  EXPECT_EQ(ReadResultCode(bad), std::nullopt);
}

TEST(MessageTest, DescribeResultCode) {
  EXPECT_EQ(DescribeResultCode(MessageType::kStopccn, {2, 6, "text"}),
            "result 2 (general error), error 6 (generic vendor error): text");
  EXPECT_EQ(DescribeResultCode(MessageType::kStopccn, {1, std::nullopt, ""}),
            "result 1 (general request to clear the control connection)");
  EXPECT_EQ(DescribeResultCode(MessageType::kStopccn, {4, std::nullopt, "bad secret"}),
            "result 4 (requester is not authorized): bad secret");
  EXPECT_EQ(DescribeResultCode(MessageType::kCdn, {3, std::nullopt, ""}),
            "result 3 (administrative disconnect)");
  EXPECT_EQ(DescribeResultCode(MessageType::kCdn, {14, std::nullopt, ""}),
            "result 14 (unsupported pseudowire type)");
  EXPECT_EQ(DescribeResultCode(MessageType::kCdn, {2, 8, ""}),
            "result 2 (general error), error 8 (unknown mandatory AVP)");
  EXPECT_EQ(DescribeResultCode(MessageType::kCdn, {42, std::nullopt, ""}), "result 42");
  EXPECT_EQ(DescribeResultCode(MessageType::kStopccn, {2, 99, "x"}), "result 2 (general error), error 99: x");
}

}  // namespace
}  // namespace l2tp::control
