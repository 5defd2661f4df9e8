#include "agent/reconcile/reconciler.h"

#include <filesystem>
#include <thread>

#include "datapath/memory/memory_datapath.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

using ::testing::HasSubstr;

// The kernel's order when a tunnel is deleted: its sessions go first, the
// tunnel a moment later. When `tunnel_dies` is set, a session create finds
// the tunnel gone (ENODEV), as a pass that ran in between would.
// With `underlay_mtu` set, it reports that underlay for every session, as a
// backend that cannot see the whole header does (fragmenting_bytes left 0).
class TunnelDyingDatapath : public memory::MemoryDatapath {
 public:
  absl::Status CreateSession(const SessionConfig& config) override {
    if (!tunnel_dies) return MemoryDatapath::CreateSession(config);
    tunnel_dies = false;
    (void)DeleteTunnel(config.tunnel_id);
    return absl::NotFoundError("its tunnel does not exist (ENODEV)");
  }
  absl::StatusOr<Observation> Observe() override {
    auto obs = MemoryDatapath::Observe();
    if (obs.ok()) {
      for (ObservedSession& s : obs->sessions) s.underlay_mtu = underlay_mtu;
    }
    return obs;
  }
  bool tunnel_dies = false;
  uint32_t underlay_mtu = 0;
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-reconciler-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Open();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Open() {
    reconciler_.reset();
    registry_.reset();
    Store::LoadReport report;
    registry_ = std::make_unique<Registry>(*Store::Open(dir_, &report), &hub_, "memory", Registry::Limits{});
    Reconciler::Options options;
    options.backoff = Backoff(std::chrono::milliseconds(50), std::chrono::milliseconds(200));
    options.events = &events_;
    reconciler_ = std::make_unique<Reconciler>(registry_.get(), &dp_, "", options);
  }
  std::vector<std::string> EventLines() {
    std::vector<std::string> out;
    const v1::ListEventsResponse events = events_.List(0);
    for (const auto& e : events.events()) {
      out.push_back(v1::Event::Reason_Name(e.reason()) + " " + e.name() + ": " + e.message());
    }
    return out;
  }
  void ApplyBasic() {
    v1::ApplyRequest r;
    *r.add_tunnels() = testing::MakeTunnel("t1", 1);
    *r.add_sessions() = testing::MakeSession("s1", "t1", 10);
    ASSERT_TRUE(registry_->Apply(r).ok());
  }
  v1::ResourceStatus Status(v1::ResourceKind kind, const std::string& name) {
    v1::GetRequest g;
    g.set_kind(kind);
    g.set_name(name);
    auto r = registry_->Get(g);
    return kind == v1::RESOURCE_KIND_TUNNEL ? r->tunnel().status() : r->session().status();
  }

  std::string dir_;
  WatchHub hub_;
  TunnelDyingDatapath dp_;
  EventLog events_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(ReconcilerTest, ConvergesAndReportsReady) {
  ApplyBasic();
  auto r = reconciler_->RunOnce();
  EXPECT_EQ(r.actions, 2);
  EXPECT_EQ(r.failures, 0);
  auto obs = *dp_.Observe();
  ASSERT_EQ(obs.sessions.size(), 1u);
  EXPECT_EQ(obs.sessions[0].config.interface_name, "l2tp1-10");
  EXPECT_EQ(obs.sessions[0].config.mtu, 0u);  // unset: the datapath right-sizes it
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").phase(), v1::PHASE_READY);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").observed_generation(), 1u);
  // The pass counts what it left READY (logged; bench/kernel-scale.sh waits on it).
  EXPECT_EQ(r.tunnels, 1);
  EXPECT_EQ(r.tunnels_ready, 1);
  EXPECT_EQ(r.sessions, 1);
  EXPECT_EQ(r.sessions_ready, 1);
  // Nothing to do the second time.
  EXPECT_EQ(reconciler_->RunOnce().actions, 0);
}

TEST_F(ReconcilerTest, PassCountsWhatIsNotReady) {
  ApplyBasic();
  dp_.FailNextWrites(1, absl::UnavailableError("injected"));  // the tunnel's create
  auto r = reconciler_->RunOnce();
  EXPECT_EQ(r.tunnels, 1);
  EXPECT_EQ(r.tunnels_ready, 0);
  EXPECT_EQ(r.sessions, 1);
  EXPECT_EQ(r.sessions_ready, 0);
}

TEST_F(ReconcilerTest, WatchersStillSeeStatusChanges) {
  // Status events are only built while someone watches; a watcher that
  // subscribes before the pass gets them.
  ApplyBasic();
  std::vector<v1::WatchEvent> snapshot;
  auto sub = registry_->Watch(&snapshot);
  reconciler_->RunOnce();
  int ready = 0;
  v1::WatchEvent e;
  while (sub->Next(&e, std::chrono::milliseconds(10))) {
    if (e.has_session() && e.session().status().phase() == v1::PHASE_READY) ++ready;
  }
  EXPECT_EQ(ready, 1);
  registry_->Unwatch(sub);
}

// A pass over an unchanged state skips the status calls that would change
// nothing, but still sees new counters, drift, and real status changes.
TEST_F(ReconcilerTest, ASteadyPassStillSeesCountersDriftAndStatusChanges) {
  ApplyBasic();
  reconciler_->RunOnce();
  std::vector<v1::WatchEvent> snapshot;
  auto sub = registry_->Watch(&snapshot);
  v1::WatchEvent e;
  auto r = reconciler_->RunOnce();
  EXPECT_EQ(r.actions, 0);
  EXPECT_EQ(r.sessions_ready, 1);
  EXPECT_FALSE(sub->Next(&e, std::chrono::milliseconds(10)));

  Counters c;
  c.rx_packets = 7;
  dp_.SetSessionCounters(1, 10, c);
  reconciler_->RunOnce();
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").counters().rx_packets(), 7u);
  EXPECT_FALSE(sub->Next(&e, std::chrono::milliseconds(10)));  // counters alone make no event

  ASSERT_TRUE(dp_.DeleteSession(1, 10).ok());  // behind the agent's back, and it cannot come back yet
  dp_.FailNextWrites(1, absl::UnavailableError("injected"));
  r = reconciler_->RunOnce();
  EXPECT_EQ(r.session_repairs, 1);
  ASSERT_TRUE(sub->Next(&e, std::chrono::milliseconds(100)));
  EXPECT_EQ(e.session().status().phase(), v1::PHASE_FAILED);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the backoff
  reconciler_->RunOnce();
  ASSERT_TRUE(sub->Next(&e, std::chrono::milliseconds(100)));
  EXPECT_EQ(e.session().status().phase(), v1::PHASE_READY);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").counters().rx_packets(), 0u);  // a new session
  registry_->Unwatch(sub);
}

TEST_F(ReconcilerTest, RestartAdoptsWithZeroWrites) {
  ApplyBasic();
  reconciler_->RunOnce();
  const int writes = dp_.writes();
  Open();  // a new agent process over the same state and datapath
  auto r = reconciler_->RunOnce();
  EXPECT_EQ(r.actions, 0);
  EXPECT_EQ(dp_.writes(), writes);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "t1").phase(), v1::PHASE_READY);
}

TEST_F(ReconcilerTest, RepairsDrift) {
  ApplyBasic();
  reconciler_->RunOnce();
  ASSERT_TRUE(dp_.DeleteTunnel(1).ok());  // behind the agent's back
  auto r = reconciler_->RunOnce();
  EXPECT_EQ(r.repairs, 2);
  EXPECT_EQ(dp_.Observe()->sessions.size(), 1u);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").phase(), v1::PHASE_READY);
}

TEST_F(ReconcilerTest, DriftSeenOverTwoPassesIsStillDriftAndCountedOnce) {
  ApplyBasic();
  reconciler_->RunOnce();
  ASSERT_TRUE(dp_.DeleteSession(1, 10).ok());  // the session first: the tunnel is still there
  dp_.tunnel_dies = true;
  ::testing::internal::CaptureStderr();
  auto first = reconciler_->RunOnce();                          // the session's create finds no tunnel
  auto second = reconciler_->RunOnce();                         // the tunnel is missing now
  std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the session's backoff
  auto third = reconciler_->RunOnce();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(first.session_repairs + second.session_repairs + third.session_repairs, 1);
  EXPECT_EQ(first.tunnel_repairs + second.tunnel_repairs + third.tunnel_repairs, 1);
  EXPECT_THAT(log, HasSubstr("drift: tunnel/t1 disappeared from the datapath; recreating"));
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "t1").phase(), v1::PHASE_READY);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").phase(), v1::PHASE_READY);
  EXPECT_THAT(EventLines(),
              ::testing::Contains("REASON_REPAIRED t1: disappeared from the datapath; recreated"));
  EXPECT_THAT(EventLines(),
              ::testing::Contains("REASON_REPAIRED s1: disappeared from the datapath; recreated"));
}

// Issue 15: a set MTU that does not fit the underlay is taken, as Linux
// takes it; the session stays READY and says by how much its full-size
// frames are over, and the registry hands the number to the metrics.
TEST_F(ReconcilerTest, MtuThatDoesNotFitIsReadyAndSaysByHowMuch) {
  dp_.underlay_mtu = 1500;
  v1::ApplyRequest r;
  *r.add_tunnels() = testing::MakeTunnel("t1", 1);
  auto s = testing::MakeSession("s1", "t1", 10);
  s.mutable_spec()->set_cookie("01020304");
  s.mutable_spec()->set_mtu(1450);  // IPv4/UDP, 4-byte cookie, sublayer: 58 bytes more
  *r.add_sessions() = s;
  ASSERT_TRUE(registry_->Apply(r).ok());
  auto fragmenting = [&] {
    for (const auto& row : registry_->MetricsSnapshot()) {
      if (row.kind == v1::RESOURCE_KIND_SESSION && row.name == "s1") return row.fragmenting_bytes;
    }
    return ~0u;
  };
  reconciler_->RunOnce();
  v1::ResourceStatus st = Status(v1::RESOURCE_KIND_SESSION, "s1");
  EXPECT_EQ(st.phase(), v1::PHASE_READY);
  EXPECT_EQ(st.message(),
            "mtu 1450 does not fit the underlay (path MTU 1500 to 192.0.2.2 leaves 1442 for frames): "
            "full-size frames will be fragmented, 8 bytes over");
  EXPECT_EQ(fragmenting(), 8u);
  EXPECT_EQ(reconciler_->RunOnce().actions, 0);  // nothing to change: it is what was asked for

  s.mutable_spec()->set_mtu(1400);  // fits
  *r.mutable_sessions(0) = s;
  ASSERT_TRUE(registry_->Apply(r).ok());
  reconciler_->RunOnce();
  st = Status(v1::RESOURCE_KIND_SESSION, "s1");
  EXPECT_EQ(st.phase(), v1::PHASE_READY);
  EXPECT_EQ(st.message(), "");
  EXPECT_EQ(fragmenting(), 0u);

  s.mutable_spec()->clear_mtu();  // unset: the datapath right-sizes it, which fits
  *r.mutable_sessions(0) = s;
  ASSERT_TRUE(registry_->Apply(r).ok());
  EXPECT_EQ(reconciler_->RunOnce().actions, 1);  // modify: 1400 is not 1500 - 58
  EXPECT_EQ(dp_.Observe()->sessions.at(0).config.mtu, 0u);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").message(), "");
  EXPECT_EQ(fragmenting(), 0u);
}

// The underlay shrinking under a set MTU is seen at the next pass.
TEST_F(ReconcilerTest, FragmentingFollowsTheUnderlay) {
  v1::ApplyRequest r;
  *r.add_tunnels() = testing::MakeTunnel("t1", 1, "2001:db8::1", "2001:db8::2");
  auto s = testing::MakeSession("s1", "t1", 10);
  s.mutable_spec()->set_mtu(1400);  // IPv6/UDP, no cookie, sublayer: 74 bytes more
  *r.add_sessions() = s;
  ASSERT_TRUE(registry_->Apply(r).ok());
  reconciler_->RunOnce();
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").message(), "");  // underlay unknown: nothing said
  dp_.underlay_mtu = 1400;
  reconciler_->RunOnce();
  const v1::ResourceStatus st = Status(v1::RESOURCE_KIND_SESSION, "s1");
  EXPECT_EQ(st.phase(), v1::PHASE_READY);
  EXPECT_EQ(st.message(),
            "mtu 1400 does not fit the underlay (path MTU 1400 to 2001:db8::2 leaves 1326 for frames): "
            "full-size frames will be fragmented, 74 bytes over");
  dp_.underlay_mtu = 9000;
  reconciler_->RunOnce();
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").message(), "");
}

TEST_F(ReconcilerTest, AChangeTheUserAppliedIsNotDrift) {
  ApplyBasic();
  reconciler_->RunOnce();
  v1::ApplyRequest r;
  *r.add_tunnels() = testing::MakeTunnel("t1", 1);
  auto s = testing::MakeSession("s1", "t1", 10);
  s.mutable_spec()->set_send_sequence(true);  // modified in place
  *r.add_sessions() = s;
  auto s2 = testing::MakeSession("s2", "t1", 11);
  *r.add_sessions() = s2;
  ASSERT_TRUE(registry_->Apply(r).ok());
  reconciler_->RunOnce();
  s2.mutable_spec()->set_cookie("01020304");  // a replace
  *r.mutable_sessions(1) = s2;
  ASSERT_TRUE(registry_->Apply(r).ok());
  auto pass = reconciler_->RunOnce();
  EXPECT_EQ(pass.actions, 2);  // delete + create of s2
  EXPECT_EQ(pass.repairs, 0);
  EXPECT_THAT(EventLines(), ::testing::Not(::testing::Contains(HasSubstr("REPAIRED"))));
}

TEST_F(ReconcilerTest, AReplaceThatRepairsDriftCountsOnce) {
  ApplyBasic();
  reconciler_->RunOnce();
  SessionConfig changed = dp_.Observe()->sessions[0].config;
  changed.cookie = {1, 2, 3, 4};  // not modifiable in place: the agent replaces it
  ASSERT_TRUE(dp_.DeleteSession(1, 10).ok());
  ASSERT_TRUE(dp_.CreateSession(changed).ok());
  auto pass = reconciler_->RunOnce();
  EXPECT_EQ(pass.actions, 2);
  EXPECT_EQ(pass.repairs, 1);
  EXPECT_EQ(pass.session_repairs, 1);
  EXPECT_THAT(EventLines(),
              ::testing::Contains("REASON_REPAIRED s1: changed behind the agent's back; replaced"));
}

TEST_F(ReconcilerTest, InPlaceDriftIsRestoredAndLoggedWithItsReason) {
  ApplyBasic();
  reconciler_->RunOnce();
  SessionConfig changed = dp_.Observe()->sessions[0].config;
  changed.send_sequence = true;  // modifiable in place
  ASSERT_TRUE(dp_.ModifySession(changed).ok());
  ::testing::internal::CaptureStderr();
  auto pass = reconciler_->RunOnce();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(pass.actions, 1);
  EXPECT_EQ(pass.repairs, 1);
  EXPECT_EQ(pass.session_repairs, 1);
  EXPECT_EQ(pass.tunnel_repairs, 0);
  EXPECT_THAT(log, HasSubstr("drift: session/s1 was modified behind the agent's back; restoring"));
  EXPECT_THAT(log, HasSubstr("reconcile: modify session 1/10 (session/s1): done (differs in place)"));
  EXPECT_THAT(EventLines(),
              ::testing::Contains("REASON_REPAIRED s1: modified behind the agent's back; restored in place"));
}

TEST_F(ReconcilerTest, EventsSayWhyAndDeletesFinishForBothKinds) {
  ApplyBasic();
  reconciler_->RunOnce();
  v1::ApplyRequest r;
  *r.add_tunnels() = testing::MakeTunnel("t1", 1);
  auto s = testing::MakeSession("s1", "t1", 10);
  s.mutable_spec()->set_cookie("01020304");  // the user asks for a replace
  *r.add_sessions() = s;
  ASSERT_TRUE(registry_->Apply(r).ok());
  reconciler_->RunOnce();
  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_TUNNEL);
  d.set_name("t1");
  d.set_cascade(true);
  ASSERT_TRUE(registry_->Delete(d).ok());
  reconciler_->RunOnce();
  EXPECT_THAT(EventLines(),
              ::testing::ElementsAre("REASON_DELETED s1: removed from the datapath",
                                     "REASON_DELETED t1: removed from the datapath",
                                     "REASON_CREATED s1: replaced to match the spec",
                                     "REASON_CREATED s1: created", "REASON_CREATED t1: created"));
}

TEST_F(ReconcilerTest, FailuresAreReportedAndRetriedWithBackoff) {
  ApplyBasic();
  dp_.FailNextWrites(1, absl::PermissionDeniedError("operation not permitted"));
  auto r = reconciler_->RunOnce();
  EXPECT_EQ(r.failures, 1);
  auto st = Status(v1::RESOURCE_KIND_TUNNEL, "t1");
  EXPECT_EQ(st.phase(), v1::PHASE_FAILED);
  EXPECT_THAT(st.message(), HasSubstr("create tunnel failed: operation not permitted"));
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").phase(), v1::PHASE_PENDING);
  // Within the backoff nothing is retried.
  EXPECT_EQ(reconciler_->RunOnce().actions, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(reconciler_->RunOnce().actions, 2);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "s1").phase(), v1::PHASE_READY);
}

TEST_F(ReconcilerTest, ModifiesInPlaceAndDeletes) {
  ApplyBasic();
  reconciler_->RunOnce();
  v1::ApplyRequest r;
  *r.add_tunnels() = testing::MakeTunnel("t1", 1);
  auto s = testing::MakeSession("s1", "t1", 10);
  s.mutable_spec()->set_send_sequence(true);
  *r.add_sessions() = s;
  ASSERT_TRUE(registry_->Apply(r).ok());
  const int writes = dp_.writes();
  reconciler_->RunOnce();
  EXPECT_EQ(dp_.writes(), writes + 1);  // one modify, not a replace
  EXPECT_TRUE(dp_.Observe()->sessions[0].config.send_sequence);

  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_TUNNEL);
  d.set_name("t1");
  d.set_cascade(true);
  ASSERT_TRUE(registry_->Delete(d).ok());
  reconciler_->RunOnce();
  EXPECT_TRUE(dp_.Observe()->tunnels.empty());
  EXPECT_EQ(registry_->List({})->tunnels_size(), 0);
}

TEST_F(ReconcilerTest, LeavesUnownedObjectsAlone) {
  TunnelConfig foreign;
  foreign.tunnel_id = 99;
  foreign.peer_tunnel_id = 99;
  ASSERT_TRUE(dp_.CreateTunnel(foreign).ok());
  ApplyBasic();
  reconciler_->RunOnce();
  EXPECT_EQ(dp_.Observe()->tunnels.size(), 2u);
}

TEST_F(ReconcilerTest, RemovesStrayInterfacesNoSessionWants) {
  ApplyBasic();                       // s1's interface is l2tp1-10
  dp_.AddStrayInterface("l2tp9-9");   // left by a session deleted while the agent was down
  dp_.AddStrayInterface("l2tp1-10");  // a wanted session's device, waiting to be attached
  auto r = reconciler_->RunOnce();
  EXPECT_EQ(r.strays_removed, 1);
  EXPECT_THAT(dp_.Observe()->stray_interfaces, ::testing::ElementsAre("l2tp1-10"));
  EXPECT_EQ(reconciler_->RunOnce().strays_removed, 0);
}

TEST_F(ReconcilerTest, WithoutDatapathSaysWhy) {
  Reconciler none(registry_.get(), nullptr, "kernel L2TP unavailable", {});
  ApplyBasic();
  none.RunOnce();
  auto st = Status(v1::RESOURCE_KIND_TUNNEL, "t1");
  EXPECT_EQ(st.phase(), v1::PHASE_PENDING);
  EXPECT_EQ(st.message(), "no datapath: kernel L2TP unavailable");
}

TEST_F(ReconcilerTest, RecordsEventsNewestFirst) {
  ApplyBasic();
  dp_.FailNextWrites(1, absl::PermissionDeniedError("operation not permitted"));
  reconciler_->RunOnce();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  reconciler_->RunOnce();
  ASSERT_TRUE(dp_.DeleteSession(1, 10).ok());
  reconciler_->RunOnce();
  // A fresh agent (new state directory) finds the same objects: adoption.
  std::filesystem::remove_all(dir_);
  char tmpl[] = "/tmp/l2tp-reconciler-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  Open();
  ApplyBasic();
  const int writes = dp_.writes();
  reconciler_->RunOnce();
  EXPECT_EQ(dp_.writes(), writes);
  EXPECT_THAT(EventLines(),
              ::testing::ElementsAre(
                  "REASON_ADOPTED s1: session 1/10 already matched the spec; taken over without changes",
                  "REASON_ADOPTED t1: tunnel id 1 already matched the spec; taken over without changes",
                  "REASON_REPAIRED s1: disappeared from the datapath; recreated",
                  "REASON_CREATED s1: created", "REASON_CREATED t1: created",
                  "REASON_FAILED t1: create tunnel failed: operation not permitted"));
}

TEST_F(ReconcilerTest, ThreadRunsOnTriggerAndStops) {
  reconciler_->Start();
  ApplyBasic();
  ASSERT_TRUE(reconciler_->WaitForPass(std::chrono::seconds(5)));
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "t1").phase(), v1::PHASE_READY);
  reconciler_->Stop();
}

}  // namespace
}  // namespace l2tp
