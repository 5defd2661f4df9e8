// Registry::SetPppCalls: the PPP call runner's statuses in a session's
// status.ppp_calls, a MODIFIED watch event when they change, and nothing
// else touched (the reconciler's phase and message, the reconcile snapshot).
#include <filesystem>

#include "agent/state/registry.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {
namespace {
namespace v1 = ::l2tpagent::v1;
using Control = v1::TunnelControl;
using google::protobuf::util::TimeUtil;

v1::PppCallStatus Call(uint32_t session_id, v1::PppPhase phase, const std::string& peer = "") {
  v1::PppCallStatus c;
  c.set_session_id(session_id);
  c.set_peer_session_id(session_id + 1);
  c.set_phase(phase);
  c.set_interface_name("ppp-in1");
  c.set_local_address(peer.empty() ? "" : "10.8.0.1");
  c.set_peer_address(peer);
  c.set_user(peer.empty() ? "" : "alice");
  *c.mutable_started_time() = TimeUtil::SecondsToTimestamp(1700000000);
  *c.mutable_last_transition_time() = TimeUtil::SecondsToTimestamp(1700000005);
  return c;
}

class RegistryPppCallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-registry-ppp-calls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Store::LoadReport report;
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE(store.ok());
    registry_ = std::make_unique<Registry>(*std::move(store), &hub_, "memory", Registry::Limits{});
    registry_->set_ppp_support(absl::OkStatus());

    v1::ApplyRequest r;
    v1::Tunnel t = testing::MakeTunnel("lns", 0, "192.0.2.12");
    t.mutable_spec()->set_peer_tunnel_id(0);
    t.mutable_spec()->set_version(3);
    t.mutable_spec()->mutable_control()->set_mode(Control::MODE_DYNAMIC);
    t.mutable_spec()->mutable_control()->set_role(Control::ROLE_RESPONDER);
    *r.add_tunnels() = t;
    v1::Session s = testing::MakeSession("dialin", "lns", 0);
    s.mutable_spec()->set_peer_session_id(0);
    s.mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP);
    s.mutable_spec()->set_remote_end_id("pw-1");
    auto* p = s.mutable_spec()->mutable_ppp();
    p->set_max_sessions(2);
    p->set_local_address("10.8.0.1");
    p->set_remote_address_pool("10.8.1.0/29");
    p->set_authentication(v1::PPP_AUTHENTICATION_NONE);
    *r.add_sessions() = s;
    auto applied = registry_->Apply(r);
    ASSERT_TRUE(applied.ok()) << applied.status();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  v1::Session Get(const std::string& name) {
    v1::GetRequest g;
    g.set_kind(v1::RESOURCE_KIND_SESSION);
    g.set_name(name);
    auto got = registry_->Get(g);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->session() : v1::Session{};
  }

  std::string dir_;
  WatchHub hub_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryPppCallsTest, CallsShowInTheStatusAndAreWatched) {
  std::vector<v1::WatchEvent> snapshot;
  auto sub = registry_->Watch(&snapshot);
  const auto reconcile_before = registry_->SnapshotForReconcile();

  registry_->SetPppCalls("dialin", {Call(1234, v1::PPP_PHASE_NETWORK, "10.8.1.1"),
                                    Call(1240, v1::PPP_PHASE_ESTABLISHING)});
  v1::Session s = Get("dialin");
  ASSERT_EQ(s.status().ppp_calls_size(), 2);
  EXPECT_EQ(s.status().ppp_calls(0).session_id(), 1234u);
  EXPECT_EQ(s.status().ppp_calls(0).phase(), v1::PPP_PHASE_NETWORK);
  EXPECT_EQ(s.status().ppp_calls(0).peer_address(), "10.8.1.1");
  EXPECT_EQ(s.status().ppp_calls(0).user(), "alice");
  EXPECT_EQ(s.status().ppp_calls(1).phase(), v1::PPP_PHASE_ESTABLISHING);
  // The reconciler has not said anything yet: its words stand.
  EXPECT_EQ(s.status().phase(), v1::PHASE_PENDING);
  EXPECT_EQ(s.status().message(), "waiting for the reconciler");
  EXPECT_EQ(s.status().datapath(), "memory");

  v1::WatchEvent e;
  ASSERT_TRUE(sub->Next(&e, std::chrono::milliseconds(200)));
  EXPECT_EQ(e.type(), v1::WatchEvent::TYPE_MODIFIED);
  EXPECT_EQ(e.session().name(), "dialin");
  EXPECT_EQ(e.session().status().ppp_calls_size(), 2);

  // The same again: no event.
  registry_->SetPppCalls("dialin", {Call(1234, v1::PPP_PHASE_NETWORK, "10.8.1.1"),
                                    Call(1240, v1::PPP_PHASE_ESTABLISHING)});
  EXPECT_FALSE(sub->Next(&e, std::chrono::milliseconds(20)));

  // A call ends: one event with the DEAD entry.
  v1::PppCallStatus dead = Call(1240, v1::PPP_PHASE_DEAD);
  dead.set_last_failure("the peer failed to authenticate (exit 11)");
  registry_->SetPppCalls("dialin", {Call(1234, v1::PPP_PHASE_NETWORK, "10.8.1.1"), dead});
  ASSERT_TRUE(sub->Next(&e, std::chrono::milliseconds(200)));
  EXPECT_EQ(e.session().status().ppp_calls(1).last_failure(), "the peer failed to authenticate (exit 11)");

  // Statuses are not desired state: the reconciler's snapshot is the same object.
  EXPECT_EQ(registry_->SnapshotForReconcile(), reconcile_before);
}

TEST_F(RegistryPppCallsTest, TheReconcilersStatusAndTheCallsLiveSideBySide) {
  registry_->SetStatus(v1::RESOURCE_KIND_SESSION, "dialin", v1::PHASE_READY, "accepting calls", 1, {});
  registry_->SetPppCalls("dialin", {Call(1234, v1::PPP_PHASE_NETWORK, "10.8.1.1")});
  v1::Session s = Get("dialin");
  EXPECT_EQ(s.status().phase(), v1::PHASE_READY);
  EXPECT_EQ(s.status().message(), "accepting calls");
  ASSERT_EQ(s.status().ppp_calls_size(), 1);

  // The reconciler's next word keeps the calls.
  v1::Counters counters;
  counters.set_rx_packets(7);
  registry_->SetStatus(v1::RESOURCE_KIND_SESSION, "dialin", v1::PHASE_READY, "accepting calls", 1, counters);
  s = Get("dialin");
  EXPECT_EQ(s.status().counters().rx_packets(), 7u);
  ASSERT_EQ(s.status().ppp_calls_size(), 1);
  EXPECT_EQ(s.status().ppp_calls(0).peer_address(), "10.8.1.1");

  // An empty list clears them.
  registry_->SetPppCalls("dialin", {});
  EXPECT_EQ(Get("dialin").status().ppp_calls_size(), 0);
  EXPECT_EQ(Get("dialin").status().phase(), v1::PHASE_READY);
}

TEST_F(RegistryPppCallsTest, AnUnknownOrDeletedSessionIsIgnored) {
  std::vector<v1::WatchEvent> snapshot;
  auto sub = registry_->Watch(&snapshot);
  registry_->SetPppCalls("nobody", {Call(1, v1::PPP_PHASE_NETWORK, "10.8.1.1")});
  v1::WatchEvent e;
  EXPECT_FALSE(sub->Next(&e, std::chrono::milliseconds(20)));

  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_SESSION);
  d.set_name("dialin");
  ASSERT_TRUE(registry_->Delete(d).ok());
  while (sub->Next(&e, std::chrono::milliseconds(20))) {
  }
  registry_->SetPppCalls("dialin", {Call(1, v1::PPP_PHASE_NETWORK, "10.8.1.1")});
  EXPECT_FALSE(sub->Next(&e, std::chrono::milliseconds(20)));
}

}  // namespace
}  // namespace l2tp
