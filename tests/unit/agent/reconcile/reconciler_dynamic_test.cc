// The reconciler with DYNAMIC tunnels: their datapath objects follow what
// the control plane (a fake here) reports up, and their status says why
// they are not up.
#include <filesystem>

#include "agent/reconcile/reconciler.h"
#include "datapath/memory/memory_datapath.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

using ::testing::HasSubstr;

struct FakeControlPlane : DynamicTunnels {
  DynamicObjects objects;
  std::vector<uint32_t> created, deleted;
  int syncs = 0;
  std::shared_ptr<const DynamicObjects> Sync(std::shared_ptr<const DesiredState>) override {
    ++syncs;
    return std::make_shared<const DynamicObjects>(objects);
  }
  void DatapathTunnelCreated(uint32_t id) override { created.push_back(id); }
  void DatapathTunnelDeleted(uint32_t id) override { deleted.push_back(id); }
  void DatapathTunnelCreateFailed(uint32_t id) override { create_failed.push_back(id); }
  std::vector<uint32_t> create_failed;
};

class ReconcilerDynamicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-reconciler-dyn-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Store::LoadReport report;
    registry_ = std::make_unique<Registry>(*Store::Open(dir_, &report), &hub_, "memory", Registry::Limits{});
    Reconciler::Options options;
    options.dynamic = &control_;
    reconciler_ = std::make_unique<Reconciler>(registry_.get(), &dp_, "", options);

    v1::ApplyRequest r;
    v1::Tunnel t = testing::MakeTunnel("dyn", 0);
    t.mutable_spec()->set_peer_tunnel_id(0);
    t.mutable_spec()->mutable_control()->set_mode(v1::TunnelControl::MODE_DYNAMIC);
    t.mutable_spec()->mutable_control()->set_role(v1::TunnelControl::ROLE_INITIATOR);
    *r.add_tunnels() = t;
    v1::Session s = testing::MakeSession("pw", "dyn", 0);
    s.mutable_spec()->set_peer_session_id(0);
    s.mutable_spec()->set_remote_end_id("pw-1");
    *r.add_sessions() = s;
    *r.add_tunnels() = testing::MakeTunnel("static", 7, "192.0.2.1", "192.0.2.9");
    auto applied = registry_->Apply(r);
    ASSERT_TRUE(applied.ok()) << applied.status();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  v1::ResourceStatus Status(v1::ResourceKind kind, const std::string& name) {
    v1::GetRequest g;
    g.set_kind(kind);
    g.set_name(name);
    auto r = registry_->Get(g);
    return kind == v1::RESOURCE_KIND_TUNNEL ? r->tunnel().status() : r->session().status();
  }
  // What the control plane would say once the connection and session are up.
  void Up() {
    TunnelConfig t;
    t.tunnel_id = 4242;
    t.peer_tunnel_id = 77;
    t.local = *IpAddress::Parse("192.0.2.1");
    t.remote = *IpAddress::Parse("192.0.2.2");
    t.udp_source_port = t.udp_destination_port = 1701;
    t.socket_fd = 99;  // the memory datapath keeps it as a number
    SessionConfig s;
    s.tunnel_id = 4242;
    s.session_id = 5;
    s.peer_session_id = 6;
    s.interface_name = "l2dpw";
    s.mtu = 1446;
    control_.objects = {};
    control_.objects.tunnels["dyn"] = t;
    control_.objects.sessions["pw"] = s;
  }

  std::string dir_;
  WatchHub hub_;
  memory::MemoryDatapath dp_;
  FakeControlPlane control_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(ReconcilerDynamicTest, NotUpIsPendingWithTheControlPlanesReasonAndNotInTheDatapath) {
  control_.objects.tunnels_not_up["dyn"] = {"control connection WAIT_REPLY: opening", false};
  control_.objects.sessions_not_up["pw"] = {"waiting for the tunnel's control connection", false};
  const auto pass = reconciler_->RunOnce();
  EXPECT_EQ(control_.syncs, 1);
  EXPECT_EQ(pass.tunnels, 2);
  EXPECT_EQ(pass.tunnels_ready, 1);  // the static one
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "dyn").phase(), v1::PHASE_PENDING);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "dyn").message(), "control connection WAIT_REPLY: opening");
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "pw").phase(), v1::PHASE_PENDING);
  const Observation held = *dp_.Observe();
  ASSERT_EQ(held.tunnels.size(), 1u);
  EXPECT_EQ(held.tunnels[0].config.tunnel_id, 7u);
}

TEST_F(ReconcilerDynamicTest, UpCreatesTheManagedTunnelAndSessionAndDownRemovesThem) {
  Up();
  reconciler_->RunOnce();
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "dyn").phase(), v1::PHASE_READY);
  EXPECT_EQ(Status(v1::RESOURCE_KIND_SESSION, "pw").phase(), v1::PHASE_READY);
  EXPECT_EQ(control_.created, std::vector<uint32_t>{4242});
  Observation held = *dp_.Observe();
  ASSERT_EQ(held.sessions.size(), 1u);
  EXPECT_EQ(held.sessions[0].config.peer_session_id, 6u);

  // Another pass with the same objects changes nothing.
  EXPECT_EQ(reconciler_->RunOnce().actions, 0);

  // The peer went silent: the control plane reports DOWN; the objects go.
  control_.objects = {};
  control_.objects.tunnels_not_up["dyn"] = {"control connection DOWN: peer silent", true};
  control_.objects.sessions_not_up["pw"] = {"waiting for the tunnel's control connection", false};
  reconciler_->RunOnce();
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "dyn").phase(), v1::PHASE_FAILED);
  EXPECT_THAT(Status(v1::RESOURCE_KIND_TUNNEL, "dyn").message(), HasSubstr("peer silent"));
  EXPECT_EQ(control_.deleted, std::vector<uint32_t>{4242});
  held = *dp_.Observe();
  ASSERT_EQ(held.tunnels.size(), 1u);  // the static tunnel stays
  EXPECT_EQ(held.tunnels[0].config.tunnel_id, 7u);
}

TEST_F(ReconcilerDynamicTest, AFailedCreateOfAManagedTunnelIsReported) {
  control_.objects.tunnels_not_up["dyn"] = {"connecting", false};
  reconciler_->RunOnce();  // the static tunnel
  Up();
  dp_.FailNextWrites(1, absl::ResourceExhaustedError("EBUSY"));
  reconciler_->RunOnce();
  EXPECT_EQ(control_.create_failed, std::vector<uint32_t>{4242});
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "dyn").phase(), v1::PHASE_FAILED);
}

TEST_F(ReconcilerDynamicTest, AConnectionUpWithoutADatapathTunnelIsReady) {
  control_.objects.tunnels_up_without_datapath["dyn"] = "control connection ESTABLISHED; L2TPv2";
  control_.objects.sessions_not_up["pw"] = {"waiting", false};
  const auto pass = reconciler_->RunOnce();
  EXPECT_EQ(Status(v1::RESOURCE_KIND_TUNNEL, "dyn").phase(), v1::PHASE_READY);
  EXPECT_EQ(pass.tunnels_ready, 2);
  EXPECT_EQ(dp_.Observe()->tunnels.size(), 1u);
}

// A PPP session is READY while its calls are up, with their counters; its
// datapath sessions are its calls' channels, never the reconciler's.
TEST_F(ReconcilerDynamicTest, APppSessionUpIsReadyWithItsCallsCountersAndItsSessionsAreLeftAlone) {
  dp_.OfferPpp(true);
  Up();
  control_.objects.sessions.clear();
  reconciler_->RunOnce();  // the tunnel
  SessionConfig call;
  call.tunnel_id = 4242;
  call.session_id = 5;
  call.peer_session_id = 6;
  auto channel = dp_.OpenPppChannel(control_.objects.tunnels.at("dyn"), call);
  ASSERT_TRUE(channel.ok()) << channel.status();
  Counters c;
  c.rx_packets = 7;
  c.tx_bytes = 900;
  dp_.SetSessionCounters(4242, 5, c);
  control_.objects.sessions_up_without_datapath["pw"] = {"call ESTABLISHED", {{4242, 5}}};
  reconciler_->RunOnce();
  const v1::ResourceStatus st = Status(v1::RESOURCE_KIND_SESSION, "pw");
  EXPECT_EQ(st.phase(), v1::PHASE_READY);
  EXPECT_EQ(st.message(), "call ESTABLISHED");
  EXPECT_EQ(st.counters().rx_packets(), 7u);
  EXPECT_EQ(st.counters().tx_bytes(), 900u);
  EXPECT_EQ(dp_.Observe()->sessions.size(), 1u) << "the call's session stays";
}

}  // namespace
}  // namespace l2tp
