// The capability gate of PPP pseudowires (issue 14): Apply refuses the PPP
// sessions it would create or change when the datapath cannot carry them
// (FAILED_PRECONDITION, with the datapath's reason), and changes nothing.
#include <filesystem>

#include "agent/state/names.h"
#include "agent/state/registry.h"
#include "datapath/memory/memory_datapath.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {
namespace {
namespace v1 = ::l2tpagent::v1;
using Control = v1::TunnelControl;

v1::Tunnel DynamicTunnel(const std::string& name, Control::Role role, uint32_t version,
                         const std::string& local) {
  v1::Tunnel t = testing::MakeTunnel(name, 0, local);
  t.mutable_spec()->set_peer_tunnel_id(0);
  t.mutable_spec()->set_version(version);
  t.mutable_spec()->mutable_control()->set_mode(Control::MODE_DYNAMIC);
  t.mutable_spec()->mutable_control()->set_role(role);
  return t;
}

v1::Session LacSession(const std::string& name, const std::string& tunnel) {
  v1::Session s = testing::MakeSession(name, tunnel, 0);
  s.mutable_spec()->set_peer_session_id(0);
  s.mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP);
  s.mutable_spec()->mutable_ppp()->set_user("alice");
  return s;
}

v1::Session LnsSession(const std::string& name, const std::string& tunnel) {
  v1::Session s = testing::MakeSession(name, tunnel, 0);
  s.mutable_spec()->set_peer_session_id(0);
  s.mutable_spec()->set_pseudowire(v1::PSEUDOWIRE_PPP);
  auto* p = s.mutable_spec()->mutable_ppp();
  p->set_max_sessions(4);
  p->set_local_address("10.8.0.1");
  p->set_remote_address_pool("10.8.1.0/29");
  p->set_authentication(v1::PPP_AUTHENTICATION_NONE);
  return s;
}

class PppRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-ppp-registry-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Store::LoadReport report;
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE(store.ok());
    registry_ = std::make_unique<Registry>(*std::move(store), &hub_, "memory", Registry::Limits{});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A v2 LAC tunnel with a PPP session, and an ETH tunnel and session.
  static v1::ApplyRequest Request() {
    v1::ApplyRequest r;
    *r.add_tunnels() = DynamicTunnel("lac", Control::ROLE_INITIATOR, 2, "192.0.2.11");
    *r.add_tunnels() = testing::MakeTunnel("eth", 1, "192.0.2.7", "192.0.2.8");
    *r.add_sessions() = testing::MakeSession("pw", "eth", 5);
    *r.add_sessions() = LacSession("dialout", "lac");
    return r;
  }
  std::string Listing() { return registry_->List({})->SerializeAsString(); }

  std::string dir_;
  WatchHub hub_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(PppRegistryTest, UntilTheDatapathSaysSoPppIsRefused) {
  auto r = registry_->Apply(Request());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      r.status().message(),
      "sessions[1].spec.pseudowire: PPP pseudowires need a datapath that can carry them: the agent has not "
      "asked its datapath whether it can");
}

TEST_F(PppRegistryTest, ADatapathWithoutPppRefusesWithItsReasonAndChangesNothing) {
  memory::MemoryDatapath dp;
  registry_->set_ppp_support(dp.PppSupport());
  v1::ApplyRequest eth;
  *eth.add_tunnels() = testing::MakeTunnel("before", 9);
  ASSERT_TRUE(registry_->Apply(eth).ok());
  const std::string before = Listing();

  for (bool dry_run : {false, true}) {
    v1::ApplyRequest r = Request();
    r.set_dry_run(dry_run);
    auto refused = registry_->Apply(r);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(refused.status().message(),
              "sessions[1].spec.pseudowire: PPP pseudowires need a datapath that can carry them: the memory "
              "datapath carries Ethernet pseudowires only");
  }
  EXPECT_EQ(Listing(), before) << "whole batch or nothing";

  // A spec that is invalid is INVALID_ARGUMENT first, whatever the datapath.
  v1::ApplyRequest bad = Request();
  bad.mutable_sessions(1)->mutable_spec()->mutable_ppp()->set_remote_address_pool("10.8.1.0/24");
  auto invalid = registry_->Apply(bad);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.status().message(),
            "sessions[1].spec.ppp.remote_address_pool: an LNS (server) field; this session's tunnel is an "
            "INITIATOR, the LAC (client) side");
  EXPECT_EQ(Listing(), before);
}

TEST_F(PppRegistryTest, TheDefaultReasonComesFromTheCapabilities) {
  memory::MemoryDatapath dp;
  const Datapath& base = dp;
  EXPECT_EQ(base.Datapath::PppSupport().message(), "the memory datapath cannot carry PPP pseudowires");
  EXPECT_EQ(base.Datapath::PppSupport().code(), absl::StatusCode::kFailedPrecondition);
  dp.OfferPpp(true);
  EXPECT_TRUE(base.Datapath::PppSupport().ok()) << "Capabilities() lists pseudowire/ppp";
  EXPECT_TRUE(dp.PppSupport().ok());
}

TEST_F(PppRegistryTest, ADatapathWithPppAcceptsAndNormalises) {
  memory::MemoryDatapath dp;
  dp.OfferPpp(true);
  registry_->set_ppp_support(dp.PppSupport());
  v1::ApplyRequest r = Request();
  *r.add_tunnels() = DynamicTunnel("lns", Control::ROLE_RESPONDER, 3, "192.0.2.12");
  v1::Session lns = LnsSession("dialin", "lns");
  lns.mutable_spec()->set_remote_end_id("pw-1");
  lns.mutable_spec()->mutable_ppp()->set_authentication(v1::PPP_AUTHENTICATION_UNSPECIFIED);
  lns.mutable_spec()->mutable_ppp()->set_secrets_file("/etc/l2tp/chap-secrets");  // not read by the registry
  *r.add_sessions() = lns;
  auto applied = registry_->Apply(r);
  ASSERT_TRUE(applied.ok()) << applied.status();
  auto got = registry_->Get([] {
    v1::GetRequest g;
    g.set_kind(v1::RESOURCE_KIND_SESSION);
    g.set_name("dialin");
    return g;
  }());
  ASSERT_TRUE(got.ok());
  const v1::SessionSpec& spec = got->session().spec();
  EXPECT_EQ(spec.ppp().authentication(), v1::PPP_AUTHENTICATION_CHAP);
  EXPECT_EQ(spec.interface_name(), DefaultPppInterfacePrefix("dialin"));
  EXPECT_EQ(spec.ppp().secrets_file(), "/etc/l2tp/chap-secrets") << "the path, as given";

  // Changing a PPP field replaces the session: pppd restarts with it.
  v1::ApplyRequest change = r;
  change.mutable_sessions(1)->mutable_spec()->mutable_ppp()->set_mtu(1400);
  change.set_dry_run(true);
  auto plan = registry_->Apply(change);
  ASSERT_TRUE(plan.ok()) << plan.status();
  bool replaced = false;
  for (const auto& a : plan->plan().actions()) {
    if (a.name() != "dialout") continue;
    replaced = a.operation() == v1::PlanAction::OPERATION_REPLACE;
    EXPECT_THAT(a.changed_fields(), ::testing::ElementsAre("ppp.mtu"));
  }
  EXPECT_TRUE(replaced);
}

// The datapath may change under stored PPP sessions (a restart on another
// datapath): applying them again unchanged passes, changing them does not.
TEST_F(PppRegistryTest, StoredPppSessionsPassUnchanged) {
  registry_->set_ppp_support(absl::OkStatus());
  ASSERT_TRUE(registry_->Apply(Request()).ok());
  memory::MemoryDatapath dp;
  registry_->set_ppp_support(dp.PppSupport());

  auto again = registry_->Apply(Request());
  ASSERT_TRUE(again.ok()) << again.status();
  for (const auto& a : again->plan().actions()) EXPECT_EQ(a.operation(), v1::PlanAction::OPERATION_UNCHANGED);

  v1::ApplyRequest changed = Request();
  changed.mutable_sessions(1)->mutable_spec()->mutable_ppp()->set_use_peer_dns(true);
  auto refused = registry_->Apply(changed);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("the memory datapath carries Ethernet"));

  v1::ApplyRequest more = Request();
  *more.add_sessions() = LacSession("dialout2", "lac");
  more.mutable_sessions(2)->mutable_spec()->set_interface_name("ppp-two");
  refused = registry_->Apply(more);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::StartsWith("sessions[2].spec.pseudowire: "));
}

}  // namespace
}  // namespace l2tp
