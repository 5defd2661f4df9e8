#include "control/session_fsm.h"
#include "control/tunnel_fsm.h"
#include "gtest/gtest.h"

namespace l2tp::control {
namespace {

using TS = TunnelState;
using TE = TunnelEvent;
using TA = TunnelAction;

struct TunnelCase {
  TS state;
  TE event;
  std::optional<TA> action;  // nullopt: illegal
  TS next;
};

TEST(TunnelFsmTest, Table) {
  const TunnelCase cases[] = {
      {TS::kIdle, TE::kOpen, TA::kSendSccrq, TS::kWaitReply},
      {TS::kWaitReply, TE::kSccrp, TA::kSendScccn, TS::kEstablished},
      {TS::kIdle, TE::kSccrq, TA::kSendSccrp, TS::kWaitConnect},
      {TS::kWaitConnect, TE::kScccn, TA::kEstablish, TS::kEstablished},
      {TS::kEstablished, TE::kStopccn, TA::kLinger, TS::kClosing},
      {TS::kEstablished, TE::kClose, TA::kSendStopccn, TS::kClosing},
      {TS::kEstablished, TE::kBadMessage, TA::kSendStopccn, TS::kClosing},
      {TS::kEstablished, TE::kPeerSilent, TA::kGoDown, TS::kDown},
      {TS::kClosing, TE::kLingerOver, TA::kGoDown, TS::kDown},
      {TS::kClosing, TE::kStopccn, TA::kNone, TS::kClosing},
      {TS::kDown, TE::kSccrq, TA::kSendSccrp, TS::kWaitConnect},
      // Illegal: an SCCRP nobody asked for, SCCCN to an initiator, a second open.
      {TS::kIdle, TE::kSccrp, std::nullopt, TS::kIdle},
      {TS::kWaitReply, TE::kScccn, std::nullopt, TS::kIdle},
      {TS::kEstablished, TE::kOpen, std::nullopt, TS::kIdle},
      {TS::kEstablished, TE::kSccrq, std::nullopt, TS::kIdle},
      {TS::kDown, TE::kSccrp, std::nullopt, TS::kIdle},
  };
  for (const TunnelCase& c : cases) {
    auto got = NextTunnelStep(c.state, c.event);
    const std::string what = std::string(TunnelStateName(c.state)) + " + " +
                             std::string(TunnelEventName(c.event));
    ASSERT_EQ(got.has_value(), c.action.has_value()) << what;
    if (!got) continue;
    EXPECT_EQ(got->action, *c.action) << what;
    EXPECT_EQ(got->next, c.next) << what;
  }
}

// Every live state can be closed, and every state a connection can be in
// when the peer goes silent leads to DOWN: nothing gets stuck.
TEST(TunnelFsmTest, EveryLiveStateCanEnd) {
  for (TS s : {TS::kWaitReply, TS::kWaitConnect, TS::kEstablished}) {
    ASSERT_TRUE(NextTunnelStep(s, TE::kClose)) << TunnelStateName(s);
    EXPECT_EQ(NextTunnelStep(s, TE::kClose)->next, TS::kClosing);
    ASSERT_TRUE(NextTunnelStep(s, TE::kPeerSilent)) << TunnelStateName(s);
    EXPECT_EQ(NextTunnelStep(s, TE::kPeerSilent)->next, TS::kDown);
    ASSERT_TRUE(NextTunnelStep(s, TE::kStopccn)) << TunnelStateName(s);
  }
  EXPECT_EQ(NextTunnelStep(TS::kClosing, TE::kPeerSilent)->next, TS::kDown);
}

using SS = SessionState;
using SE = SessionEvent;
using SA = SessionAction;

TEST(SessionFsmTest, CallerAndAnswerer) {
  EXPECT_EQ(NextSessionStep(SS::kIdle, SE::kOpen)->action, SA::kSendIcrq);
  EXPECT_EQ(NextSessionStep(SS::kWaitReply, SE::kIcrp)->action, SA::kSendIccn);
  EXPECT_EQ(NextSessionStep(SS::kWaitReply, SE::kIcrp)->next, SS::kEstablished);
  EXPECT_EQ(NextSessionStep(SS::kIdle, SE::kIcrq)->action, SA::kSendIcrp);
  EXPECT_EQ(NextSessionStep(SS::kWaitConnect, SE::kIccn)->action, SA::kEstablish);
  EXPECT_EQ(NextSessionStep(SS::kEstablished, SE::kCdn)->next, SS::kDown);
  EXPECT_EQ(NextSessionStep(SS::kEstablished, SE::kClose)->action, SA::kSendCdn);
  EXPECT_EQ(NextSessionStep(SS::kEstablished, SE::kTunnelDown)->action, SA::kGoDown);
  // An ICCN before ICRP, or an ICRP to the answerer, is illegal.
  EXPECT_FALSE(NextSessionStep(SS::kWaitReply, SE::kIccn));
  EXPECT_FALSE(NextSessionStep(SS::kWaitConnect, SE::kIcrp));
  EXPECT_FALSE(NextSessionStep(SS::kEstablished, SE::kIcrq));
}

TEST(SessionFsmTest, EveryStateCanEnd) {
  for (SS s : {SS::kIdle, SS::kWaitReply, SS::kWaitConnect, SS::kEstablished}) {
    ASSERT_TRUE(NextSessionStep(s, SE::kTunnelDown)) << SessionStateName(s);
    EXPECT_EQ(NextSessionStep(s, SE::kTunnelDown)->next, SS::kDown);
    ASSERT_TRUE(NextSessionStep(s, SE::kClose)) << SessionStateName(s);
    EXPECT_EQ(NextSessionStep(s, SE::kClose)->next, SS::kDown);
  }
}

}  // namespace
}  // namespace l2tp::control
