#include "control/messages.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp::control {
namespace {

using ::testing::HasSubstr;

LocalTunnel Tunnel(uint8_t version) {
  LocalTunnel t;
  t.version = version;
  t.tunnel_id = 7;
  t.host_name = "node-a";
  t.router_id = 0x0a000001;
  t.pseudowire_types = {kPseudowireEth};
  return t;
}

LocalSession Session() {
  LocalSession s;
  s.session_id = 42;
  s.call_serial = 1;
  s.remote_end_id = "pw-1";
  s.receive_cookie = {1, 2, 3, 4};
  return s;
}

// Every message we build carries what the RFC makes mandatory for it, so
// what we send passes the same check we apply to what we receive.
TEST(MessagesTest, WhatWeBuildPassesOurChecks) {
  for (uint8_t v : {kL2tpV2, kL2tpV3}) {
    const std::vector<std::pair<std::string, ControlMessage>> built = {
        {"SCCRQ", BuildSccrq(Tunnel(v))},
        {"SCCRP", BuildSccrp(Tunnel(v), std::nullopt)},
        {"SCCCN", BuildScccn(std::nullopt)},
        {"StopCCN", BuildStopccn(v, 7, {kStopGeneralRequest, std::nullopt, "bye"})},
        {"HELLO", BuildHello()},
        {"ICRQ", BuildIcrq(v, Session())},
        {"ICRP", BuildIcrp(v, Session(), 99)},
        {"ICCN", BuildIccn(v, Session(), 99)},
        {"CDN", BuildCdn(v, 42, 99, {kCdnAdminDisconnect, std::nullopt, ""})},
    };
    for (const auto& [name, m] : built) {
      EXPECT_TRUE(CheckMessage(v, m).ok()) << "v" << int(v) << " " << name << ": " << CheckMessage(v, m);
      EXPECT_EQ(MessageTypeName(m.Type().value()), name);
    }
  }
}

TEST(MessagesTest, MissingMandatoryAvpIsNamed) {
  ControlMessage m = BuildSccrq(Tunnel(kL2tpV2));
  std::erase_if(m.avps, [](const Avp& a) { return a.Is(AvpType::kAssignedTunnelId); });
  EXPECT_THAT(std::string(CheckMessage(kL2tpV2, m).message()),
              HasSubstr("SCCRQ: missing Assigned Tunnel ID"));

  ControlMessage icrq = BuildIcrq(kL2tpV3, Session());
  std::erase_if(icrq.avps, [](const Avp& a) { return a.Is(AvpType::kRemoteEndId); });
  EXPECT_THAT(std::string(CheckMessage(kL2tpV3, icrq).message()), HasSubstr("ICRQ: missing Remote End ID"));
  EXPECT_EQ(ErrorCodeOf(CheckMessage(kL2tpV3, icrq)), kErrorOutOfRange);
}

TEST(MessagesTest, UnknownAvpMattersOnlyWithTheMBit) {
  ControlMessage m = BuildHello();
  m.avps.push_back(Avp{.mandatory = false, .vendor_id = 0, .type = 250, .value = {1}});
  EXPECT_TRUE(CheckMessage(kL2tpV3, m).ok());
  m.avps.push_back(Avp{.mandatory = false, .vendor_id = 9, .type = 1, .value = {1}});
  EXPECT_TRUE(CheckMessage(kL2tpV3, m).ok());
  m.avps.push_back(Avp{.mandatory = true, .vendor_id = 0, .type = 250, .value = {1}});
  EXPECT_THAT(std::string(CheckMessage(kL2tpV3, m).message()), HasSubstr("HELLO: unknown mandatory"));
  EXPECT_EQ(ErrorCodeOf(CheckMessage(kL2tpV3, m)), kErrorUnknownMandatoryAvp);
}

TEST(MessagesTest, SessionIdsByVersion) {
  // v2: our id travels in the header of the peer's messages.
  ControlMessage icrp2 = BuildIcrp(kL2tpV2, Session(), 99);
  EXPECT_EQ(icrp2.header.session_id, 99);
  EXPECT_EQ(OurSessionId(kL2tpV2, icrp2), 99u);
  EXPECT_EQ(ReadPeerSession(kL2tpV2, icrp2).session_id, 42u);
  // v3: in the Remote Session ID AVP, and the data plane travels along.
  ControlMessage icrp3 = BuildIcrp(kL2tpV3, Session(), 99);
  EXPECT_EQ(OurSessionId(kL2tpV3, icrp3), 99u);
  PeerSession p = ReadPeerSession(kL2tpV3, BuildIcrq(kL2tpV3, Session()));
  EXPECT_EQ(p.session_id, 42u);
  EXPECT_EQ(p.remote_end_id, "pw-1");
  EXPECT_EQ(p.pseudowire_type, kPseudowireEth);
  EXPECT_EQ(p.cookie, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(p.l2_sublayer, 1);
  EXPECT_EQ(p.data_sequencing, 0);
}

TEST(MessagesTest, StopccnCarriesTheResult) {
  ControlMessage m = BuildStopccn(kL2tpV3, 7, {kStopGeneralError, kErrorGeneric, "hello timeout"});
  auto rc = ReadResultCode(m);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->result, kStopGeneralError);
  EXPECT_EQ(rc->error, kErrorGeneric);
  EXPECT_EQ(rc->message, "hello timeout");
  EXPECT_EQ(U32(m, AvpType::kAssignedControlConnectionId), 7u);
}

TEST(MessagesTest, TheLowerTieBreakerWinsAndOneBeatsNone) {
  auto sccrq_with = [](std::vector<uint8_t> tie) {
    LocalTunnel l;
    l.tunnel_id = 1;
    l.tie_breaker = std::move(tie);
    return BuildSccrq(l);
  };
  const std::vector<uint8_t> low = {0, 0, 0, 0, 0, 0, 0, 1}, high = {0, 0, 0, 0, 0, 0, 1, 0};
  EXPECT_EQ(BreakTie(high, sccrq_with(low)), TieBreak::kTheirsWins);
  EXPECT_EQ(BreakTie(low, sccrq_with(high)), TieBreak::kOursStands);
  EXPECT_EQ(BreakTie(low, sccrq_with(low)), TieBreak::kBothLose);
  EXPECT_EQ(BreakTie(low, sccrq_with({})), TieBreak::kOursStands);   // theirs has none
  EXPECT_EQ(BreakTie({}, sccrq_with(high)), TieBreak::kTheirsWins);  // ours has none
  // On the wire: AVP 5, not mandatory (a peer that does not break ties skips it).
  const ControlMessage m = sccrq_with(low);
  const Avp* avp = m.Find(AvpType::kTieBreaker);
  ASSERT_NE(avp, nullptr);
  EXPECT_FALSE(avp->mandatory);
  EXPECT_EQ(avp->value, low);
}

}  // namespace
}  // namespace l2tp::control
