// PPP calls through two control planes over loopback UDP (memory datapaths
// that say they carry PPP, a recording PppCallRunner): when a PPP call is
// ESTABLISHED in a tunnel the datapath holds, its pppd is started; its end
// (pppd exited, a CDN, a deleted session) ends the other side's; the LAC
// calls again; a call whose PPP side cannot start is refused with a CDN.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "agent/control/control_plane.h"
#include "datapath/memory/memory_datapath.h"
#include "google/protobuf/util/time_util.h"

namespace l2tp {
namespace {

namespace v1 = ::l2tpagent::v1;
using std::chrono::milliseconds;

uint16_t BasePort() { return static_cast<uint16_t>(20000 + (getpid() % 2000) * 20); }

class RecordingRunner : public PppCallRunner {
 public:
  absl::Status StartCall(const PppCallStart& call) override {
    std::lock_guard lock(mu_);
    if (!fail_.ok()) return fail_;
    starts_.push_back(call);
    return absl::OkStatus();
  }
  void EndCall(uint64_t call_id, const std::string& why) override {
    std::lock_guard lock(mu_);
    ends_.push_back(call_id);
  }
  void ForgetSession(const std::string& session) override {
    std::lock_guard lock(mu_);
    forgotten_.push_back(session);
  }
  std::vector<PppCallStart> starts() const {
    std::lock_guard lock(mu_);
    return starts_;
  }
  std::vector<uint64_t> ends() const {
    std::lock_guard lock(mu_);
    return ends_;
  }
  std::vector<std::string> forgotten() const {
    std::lock_guard lock(mu_);
    return forgotten_;
  }
  void Fail(absl::Status st) {
    std::lock_guard lock(mu_);
    fail_ = std::move(st);
  }

 private:
  mutable std::mutex mu_;
  std::vector<PppCallStart> starts_;
  std::vector<uint64_t> ends_;
  std::vector<std::string> forgotten_;
  absl::Status fail_;
};

v1::Tunnel V2(v1::TunnelControl::Role role, uint16_t local_port, uint16_t remote_port) {
  v1::Tunnel t;
  t.set_name("t");
  t.set_generation(1);
  auto* s = t.mutable_spec();
  s->set_version(2);
  s->set_encap(v1::ENCAPSULATION_UDP);
  s->set_local("127.0.0.1");
  s->set_remote("127.0.0.1");
  s->set_udp_source_port(local_port);
  s->set_udp_destination_port(remote_port);
  auto* c = s->mutable_control();
  c->set_mode(v1::TunnelControl::MODE_DYNAMIC);
  c->set_role(role);
  *c->mutable_hello_interval() = google::protobuf::util::TimeUtil::SecondsToDuration(1);
  return t;
}

v1::Session Lac() {
  v1::Session s;
  s.set_name("dsl");
  s.set_generation(1);
  auto* spec = s.mutable_spec();
  spec->set_tunnel("t");
  spec->set_pseudowire(v1::PSEUDOWIRE_PPP);
  spec->set_interface_name("ppp-dsl");
  spec->mutable_ppp()->set_user("alice");
  return s;
}

v1::Session Lns(uint32_t max_sessions) {
  v1::Session s;
  s.set_name("dialin");
  s.set_generation(1);
  auto* spec = s.mutable_spec();
  spec->set_tunnel("t");
  spec->set_pseudowire(v1::PSEUDOWIRE_PPP);
  spec->set_interface_name("dialin-");
  auto* ppp = spec->mutable_ppp();
  ppp->set_max_sessions(max_sessions);
  ppp->set_local_address("10.8.0.1");
  ppp->set_remote_address_pool("10.8.1.0/29");
  return s;
}

// One end: its datapath, runner and control plane, and the reconciler's
// part played by hand (the tunnel created in the datapath once reported).
struct End {
  memory::MemoryDatapath datapath;
  RecordingRunner runner;
  std::unique_ptr<ControlPlane> plane;
  DesiredState desired;
  DynamicObjects last;
  bool tunnel_created = false;

  End() {
    datapath.OfferPpp(true);
    ControlPlaneOptions o;
    o.ppp_calls = &runner;
    auto p = ControlPlane::Create(&datapath, o);
    EXPECT_TRUE(p.ok()) << p.status();
    plane = *std::move(p);
  }
  void Sync() {
    last = *plane->Sync(std::make_shared<const DesiredState>(desired));
    if (!tunnel_created && last.tunnels.count("t")) {
      tunnel_created = true;
      plane->DatapathTunnelCreated(last.tunnels.at("t").tunnel_id);
    }
  }
  std::string SessionMessage(const std::string& name) const {
    if (auto it = last.sessions_up_without_datapath.find(name); it != last.sessions_up_without_datapath.end())
      return "up: " + it->second.message;
    if (auto it = last.sessions_not_up.find(name); it != last.sessions_not_up.end())
      return it->second.message;
    return "";
  }
};

template <typename F>
bool SyncUntil(End& a, End& b, F done, milliseconds limit = milliseconds(8000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    a.Sync();
    b.Sync();
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

TEST(PppCallsPlane, AnEstablishedCallStartsPppOnBothSidesAndItsEndIsFollowedByTheNext) {
  const uint16_t port = BasePort() + 10;
  End lac, lns;
  lac.desired.tunnels["t"] = V2(v1::TunnelControl::ROLE_INITIATOR, port, port + 1);
  lac.desired.sessions["dsl"] = Lac();
  lns.desired.tunnels["t"] = V2(v1::TunnelControl::ROLE_RESPONDER, port + 1, port);
  lns.desired.sessions["dialin"] = Lns(2);
  ASSERT_TRUE(
      SyncUntil(lac, lns, [&] { return lac.runner.starts().size() == 1 && lns.runner.starts().size() == 1; }))
      << lac.SessionMessage("dsl") << " / " << lns.SessionMessage("dialin");

  // An L2TPv2 tunnel enters the datapath when the datapath carries PPP.
  EXPECT_EQ(lac.last.tunnels.at("t").version, 2u);
  const PppCallStart a = lac.runner.starts()[0];
  const PppCallStart b = lns.runner.starts()[0];
  EXPECT_FALSE(a.lns);
  EXPECT_EQ(a.session, "dsl");
  EXPECT_EQ(a.slot, 0u);
  EXPECT_EQ(a.session_config.interface_name, "ppp-dsl");
  EXPECT_EQ(a.ppp.user(), "alice");
  EXPECT_TRUE(b.lns);
  EXPECT_EQ(b.session, "dialin");
  EXPECT_GE(b.slot, 1u);
  EXPECT_EQ(b.session_config.interface_name, "dialin-" + std::to_string(b.slot));
  EXPECT_EQ(a.tunnel.tunnel_id, lac.last.tunnels.at("t").tunnel_id);
  EXPECT_EQ(a.tunnel.peer_tunnel_id, b.tunnel.tunnel_id);
  EXPECT_EQ(a.session_config.peer_session_id, b.session_config.session_id);
  EXPECT_EQ(b.session_config.peer_session_id, a.session_config.session_id);
  EXPECT_LE(a.session_config.session_id, 0xffffu);
  EXPECT_NE(a.call_id, 0u);
  ASSERT_TRUE(SyncUntil(lac, lns,
                        [&] {
                          return lac.SessionMessage("dsl").find("up: call ESTABLISHED") == 0 &&
                                 lns.SessionMessage("dialin") == "up: accepting calls: 1 of 2 in use";
                        }))
      << lac.SessionMessage("dsl") << " / " << lns.SessionMessage("dialin");

  // The LAC's pppd exits: a CDN ends the LNS's call, and the LAC calls again.
  lac.plane->PppCallEnded(a.call_id, "pppd exited: the link was idle");
  ASSERT_TRUE(SyncUntil(lac, lns, [&] { return lns.runner.ends().size() == 1; }));
  EXPECT_EQ(lns.runner.ends()[0], b.call_id);
  EXPECT_TRUE(lac.runner.ends().empty()) << "the ended call is not ended again";
  ASSERT_TRUE(SyncUntil(lac, lns,
                        [&] { return lac.runner.starts().size() == 2 && lns.runner.starts().size() == 2; }));
  EXPECT_NE(lac.runner.starts()[1].call_id, a.call_id);
  // Each call goes by a fresh session id on both sides: a peer still tearing
  // the old call down must not take the next for a copy of it.
  EXPECT_NE(lac.runner.starts()[1].session_config.session_id, a.session_config.session_id);
  EXPECT_NE(lns.runner.starts()[1].session_config.session_id, b.session_config.session_id);
  EXPECT_EQ(lac.runner.starts()[1].session_config.peer_session_id,
            lns.runner.starts()[1].session_config.session_id);

  // Deleting the LAC's session ends its call and the LNS's; the runner
  // forgets the session.
  lac.desired.sessions.clear();
  ASSERT_TRUE(
      SyncUntil(lac, lns, [&] { return lac.runner.ends().size() == 1 && lns.runner.ends().size() == 2; }));
  EXPECT_EQ(lac.runner.ends()[0], lac.runner.starts()[1].call_id);
  EXPECT_EQ(lac.runner.forgotten(), std::vector<std::string>{"dsl"});
  ASSERT_TRUE(SyncUntil(lac, lns, [&] {
    return lns.SessionMessage("dialin") == "up: accepting calls: 0 of 2 in use";
  })) << lns.SessionMessage("dialin");
}

TEST(PppCallsPlane, ACallWhosePppSideCannotStartIsRefusedWithNoResources) {
  const uint16_t port = BasePort() + 12;
  End lac, lns;
  lns.runner.Fail(absl::ResourceExhaustedError("remote_address_pool 10.8.1.0/29: all 6 addresses in use"));
  lac.desired.tunnels["t"] = V2(v1::TunnelControl::ROLE_INITIATOR, port, port + 1);
  lac.desired.sessions["dsl"] = Lac();
  lns.desired.tunnels["t"] = V2(v1::TunnelControl::ROLE_RESPONDER, port + 1, port);
  lns.desired.sessions["dialin"] = Lns(1);
  ASSERT_TRUE(SyncUntil(lac, lns, [&] {
    return lac.SessionMessage("dsl").find("result 4 (facilities unavailable, temporary)") !=
           std::string::npos;
  })) << lac.SessionMessage("dsl");
  EXPECT_NE(lac.SessionMessage("dsl").find("all 6 addresses in use"), std::string::npos);
  // The LAC's own call started and was ended when the CDN came.
  ASSERT_TRUE(SyncUntil(lac, lns, [&] { return !lac.runner.ends().empty(); }));
  EXPECT_TRUE(lns.runner.starts().empty());
}

}  // namespace
}  // namespace l2tp
