#include "agent/reconcile/reconcile_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp {
namespace {

using Op = DatapathAction::Op;
using Reason = DatapathAction::Reason;

TunnelConfig Tunnel(uint32_t id) {
  TunnelConfig t;
  t.tunnel_id = id;
  t.peer_tunnel_id = id + 100;
  t.local = *IpAddress::Parse("192.0.2.1");
  t.remote = *IpAddress::Parse("192.0.2.2");
  t.udp_source_port = t.udp_destination_port = 1701;
  return t;
}

SessionConfig Session(uint32_t tid, uint32_t sid) {
  SessionConfig s;
  s.tunnel_id = tid;
  s.session_id = sid;
  s.peer_session_id = sid + 100;
  s.interface_name = "pw" + std::to_string(sid);
  s.mtu = 1446;
  return s;
}

DesiredObjects Want() {
  DesiredObjects d;
  d.tunnels[1] = {"t1", Tunnel(1)};
  d.sessions[{1, 10}] = {"s10", Session(1, 10)};
  return d;
}

std::vector<Op> Ops(const ReconcilePlan& p) {
  std::vector<Op> out;
  for (const auto& a : p.actions) out.push_back(a.op);
  return out;
}

std::vector<Reason> Reasons(const ReconcilePlan& p) {
  std::vector<Reason> out;
  for (const auto& a : p.actions) out.push_back(a.reason);
  return out;
}

TEST(ReconcilePlanTest, CreatesWhatIsMissing) {
  auto plan = ComputeReconcilePlan(Want(), {}, {}, false);
  EXPECT_THAT(Ops(plan), ::testing::ElementsAre(Op::kCreateTunnel, Op::kCreateSession));
}

TEST(ReconcilePlanTest, AdoptsMatchingObjectsWithoutWrites) {
  Observation obs;
  obs.tunnels.push_back({Tunnel(1), {}});
  obs.sessions.push_back({Session(1, 10), {}});
  auto plan = ComputeReconcilePlan(Want(), obs, {}, false);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(plan.adopt.tunnels, std::set<uint32_t>{1});
  EXPECT_EQ(plan.adopt.sessions.size(), 1u);
}

TEST(ReconcilePlanTest, UnobservableFieldsAreNotCompared) {
  Observation obs;
  obs.tunnels.push_back({Tunnel(1), {}});
  ObservedSession s{Session(1, 10), {}};
  s.config.l2spec = L2Spec::kNone;  // what a kernel dump cannot tell
  s.config.mtu = 0;
  s.l2spec_known = false;
  s.mtu_known = false;
  obs.sessions.push_back(s);
  EXPECT_TRUE(ComputeReconcilePlan(Want(), obs, {}, false).actions.empty());
}

// An unset MTU (0) asks the datapath to right-size the interface. A backend
// that keeps the 0 (userspace, memory) matches it as is; one that reports
// the interface's MTU (the kernel's) matches while that is the underlay's
// MTU less the overhead, and is modified in place once it is not.
DesiredObjects WantRightSized() {
  DesiredObjects d = Want();
  d.sessions[{1, 10}].config.mtu = 0;
  d.sessions[{1, 10}].overhead = 54;  // IPv4/UDP, no cookie, default sublayer
  return d;
}

Observation HeldWithMtu(uint32_t mtu, uint32_t underlay_mtu) {
  Observation obs;
  obs.tunnels.push_back({Tunnel(1), {}});
  ObservedSession s{Session(1, 10), {}};
  s.config.mtu = mtu;
  s.underlay_mtu = underlay_mtu;
  obs.sessions.push_back(s);
  return obs;
}

TEST(ReconcilePlanTest, RightSizedMtuMatchesWhatTheUnderlayGives) {
  EXPECT_TRUE(ComputeReconcilePlan(WantRightSized(), HeldWithMtu(0, 1500), {}, false).actions.empty());
  EXPECT_TRUE(ComputeReconcilePlan(WantRightSized(), HeldWithMtu(1446, 1500), {}, false).actions.empty());
  EXPECT_TRUE(ComputeReconcilePlan(WantRightSized(), HeldWithMtu(8946, 9000), {}, false).actions.empty());
  // Underlay unknown: the 1500 bytes Linux assumes then.
  EXPECT_TRUE(ComputeReconcilePlan(WantRightSized(), HeldWithMtu(1446, 0), {}, false).actions.empty());
}

TEST(ReconcilePlanTest, MtuNotRightSizedIsModifiedInPlace) {
  for (const Observation& obs : {HeldWithMtu(1400, 1500),     // was set, now unset
                                 HeldWithMtu(1446, 9000)}) {  // the underlay grew
    auto plan = ComputeReconcilePlan(WantRightSized(), obs, {}, false);
    EXPECT_THAT(Ops(plan), ::testing::ElementsAre(Op::kModifySession));
    EXPECT_THAT(Reasons(plan), ::testing::ElementsAre(Reason::kDiffersInPlace));
    ASSERT_EQ(plan.actions.size(), 1u);
    EXPECT_EQ(plan.actions[0].session.mtu, 0u);  // the datapath sizes it again
  }
  // A set MTU is compared as it is, whatever fits.
  EXPECT_TRUE(ComputeReconcilePlan(Want(), HeldWithMtu(1446, 9000), {}, false).actions.empty());
  EXPECT_THAT(Ops(ComputeReconcilePlan(Want(), HeldWithMtu(0, 1500), {}, false)),
              ::testing::ElementsAre(Op::kModifySession));
}

TEST(ReconcilePlanTest, UnownedObjectsAreLeftAloneUnlessPruning) {
  Observation obs;
  obs.tunnels.push_back({Tunnel(7), {}});
  obs.sessions.push_back({Session(7, 70), {}});
  DesiredObjects none;
  EXPECT_TRUE(ComputeReconcilePlan(none, obs, {}, false).actions.empty());
  EXPECT_THAT(Ops(ComputeReconcilePlan(none, obs, {}, true)), ::testing::ElementsAre(Op::kDeleteTunnel));
  OwnedSet owned;
  owned.sessions.insert({7, 70});
  EXPECT_THAT(Ops(ComputeReconcilePlan(none, obs, owned, false)), ::testing::ElementsAre(Op::kDeleteSession));
}

// A PPP session is its call's (the channel's): not desired here, owned or
// pruned, it is never deleted or adopted.
TEST(ReconcilePlanTest, PppSessionsAreLeftToTheirCalls) {
  Observation obs;
  obs.tunnels.push_back({Tunnel(1), {}});
  obs.sessions.push_back({Session(1, 10), {}});
  ObservedSession ppp{Session(1, 11), {}};
  ppp.ppp = true;
  obs.sessions.push_back(ppp);
  OwnedSet owned;
  owned.tunnels.insert(1);
  owned.sessions.insert({1, 11});
  for (bool prune : {false, true}) {
    auto plan = ComputeReconcilePlan(Want(), obs, owned, prune);
    EXPECT_TRUE(plan.actions.empty()) << prune;
    EXPECT_EQ(plan.adopt.sessions.count({1, 11}), 0u);
  }
}

TEST(ReconcilePlanTest, DifferentTunnelIsReplacedWithItsSessions) {
  Observation obs;
  TunnelConfig changed = Tunnel(1);
  changed.udp_destination_port = 9999;
  obs.tunnels.push_back({changed, {}});
  obs.sessions.push_back({Session(1, 10), {}});
  auto plan = ComputeReconcilePlan(Want(), obs, {}, false);
  EXPECT_THAT(Ops(plan), ::testing::ElementsAre(Op::kDeleteTunnel, Op::kCreateTunnel, Op::kCreateSession));
}

TEST(ReconcilePlanTest, SequencingDriftIsModifiedInPlaceOtherDriftReplaced) {
  Observation obs;
  obs.tunnels.push_back({Tunnel(1), {}});
  ObservedSession s{Session(1, 10), {}};
  s.config.send_sequence = true;
  obs.sessions.push_back(s);
  EXPECT_THAT(Ops(ComputeReconcilePlan(Want(), obs, {}, false)), ::testing::ElementsAre(Op::kModifySession));
  obs.sessions[0].config.peer_cookie = {1, 2, 3, 4};
  EXPECT_THAT(Ops(ComputeReconcilePlan(Want(), obs, {}, false)),
              ::testing::ElementsAre(Op::kDeleteSession, Op::kCreateSession));
}

TEST(ReconcilePlanTest, OrderIsDeletesThenCreatesThenModifies) {
  DesiredObjects want = Want();
  want.sessions[{1, 11}] = {"s11", Session(1, 11)};
  Observation obs;
  obs.tunnels.push_back({Tunnel(1), {}});
  obs.tunnels.push_back({Tunnel(2), {}});
  ObservedSession s10{Session(1, 10), {}};
  s10.config.lns_mode = true;
  obs.sessions.push_back(s10);
  obs.sessions.push_back({Session(2, 20), {}});
  OwnedSet owned{{1, 2}, {{1, 10}, {2, 20}}};
  EXPECT_THAT(Ops(ComputeReconcilePlan(want, obs, owned, false)),
              ::testing::ElementsAre(Op::kDeleteTunnel, Op::kCreateSession, Op::kModifySession));
}

TEST(ReconcilePlanTest, ReasonTextIsWhatTheLogSays) {
  EXPECT_STREQ(ReasonText(Reason::kMissing), "missing");
  EXPECT_STREQ(ReasonText(Reason::kNotDesired), "not desired");
  EXPECT_STREQ(ReasonText(Reason::kDiffers), "differs from the spec");
  EXPECT_STREQ(ReasonText(Reason::kReplace), "replace");
  EXPECT_STREQ(ReasonText(Reason::kDiffersInPlace), "differs in place");
}

TEST(ReconcilePlanTest, EachActionSaysWhy) {
  EXPECT_THAT(Reasons(ComputeReconcilePlan(Want(), {}, {}, false)),
              ::testing::ElementsAre(Reason::kMissing, Reason::kMissing));

  // A replaced tunnel: its sessions are missing afterwards.
  Observation obs;
  TunnelConfig changed = Tunnel(1);
  changed.udp_destination_port = 9999;
  obs.tunnels.push_back({changed, {}});
  obs.sessions.push_back({Session(1, 10), {}});
  EXPECT_THAT(Reasons(ComputeReconcilePlan(Want(), obs, {}, false)),
              ::testing::ElementsAre(Reason::kDiffers, Reason::kReplace, Reason::kMissing));

  obs.tunnels[0] = {Tunnel(1), {}};
  obs.sessions[0].config.send_sequence = true;
  EXPECT_THAT(Reasons(ComputeReconcilePlan(Want(), obs, {}, false)),
              ::testing::ElementsAre(Reason::kDiffersInPlace));
  obs.sessions[0].config.peer_cookie = {1, 2, 3, 4};
  EXPECT_THAT(Reasons(ComputeReconcilePlan(Want(), obs, {}, false)),
              ::testing::ElementsAre(Reason::kDiffers, Reason::kReplace));

  OwnedSet owned{{1}, {{1, 10}}};
  EXPECT_THAT(Reasons(ComputeReconcilePlan(DesiredObjects{}, obs, owned, false)),
              ::testing::ElementsAre(Reason::kNotDesired));
}

}  // namespace
}  // namespace l2tp
