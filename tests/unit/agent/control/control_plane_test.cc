// Two control planes over loopback UDP, each with a memory datapath (which
// leaves control frames on the socket for the control plane to read): the
// protocol sets up DYNAMIC tunnels and sessions, and Sync reports the
// datapath objects they call for.
#include "agent/control/control_plane.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "agent/state/spec_defaults.h"
#include "datapath/memory/memory_datapath.h"
#include "google/protobuf/util/time_util.h"

namespace l2tp {
namespace {

namespace v1 = ::l2tpagent::v1;
using std::chrono::milliseconds;

// Port pairs no other test run uses at the same time (20 ports per process).
uint16_t BasePort() { return static_cast<uint16_t>(20000 + (getpid() % 2000) * 20); }

v1::Tunnel Dynamic(const std::string& name, v1::TunnelControl::Role role, uint16_t local_port,
                   uint16_t remote_port, uint32_t version = 3) {
  v1::Tunnel t;
  t.set_name(name);
  t.set_generation(1);
  auto* s = t.mutable_spec();
  s->set_version(version);
  s->set_encap(v1::ENCAPSULATION_UDP);
  s->set_local("127.0.0.1");
  s->set_remote("127.0.0.1");
  s->set_udp_source_port(local_port);
  s->set_udp_destination_port(remote_port);
  auto* c = s->mutable_control();
  c->set_mode(v1::TunnelControl::MODE_DYNAMIC);
  c->set_role(role);
  c->set_host_name(name + "-host");
  *c->mutable_hello_interval() = google::protobuf::util::TimeUtil::SecondsToDuration(1);
  return t;
}

v1::Session Pseudowire(const std::string& name, const std::string& tunnel, const std::string& remote_end_id,
                       const std::string& peer_cookie = "") {
  v1::Session s;
  s.set_name(name);
  s.set_generation(1);
  auto* spec = s.mutable_spec();
  spec->set_tunnel(tunnel);
  spec->set_remote_end_id(remote_end_id);
  spec->set_peer_cookie(peer_cookie);
  spec->set_pseudowire(v1::PSEUDOWIRE_ETH);
  spec->set_l2_specific_sublayer(v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
  spec->set_interface_name("pw-" + name);
  return s;
}

struct Side {
  memory::MemoryDatapath datapath;
  EventLog events;
  std::unique_ptr<ControlPlane> plane;
  DesiredState desired;
  DynamicObjects last;

  explicit Side(std::string handover_path = "") { Start(handover_path); }
  void Start(const std::string& handover_path) {
    ControlPlaneOptions o;
    o.handover_path = handover_path;
    o.events = &events;
    auto p = ControlPlane::Create(&datapath, o);
    EXPECT_TRUE(p.ok()) << p.status();
    plane = *std::move(p);
  }
  void Add(const v1::Tunnel& t) { desired.tunnels[t.name()] = t; }
  void Add(const v1::Session& s) { desired.sessions[s.name()] = s; }
  // A new snapshot every time, as after a change in the registry.
  const DynamicObjects& Sync() { return last = *plane->Sync(std::make_shared<const DesiredState>(desired)); }
};

// Syncs both sides until `done` holds, for at most `limit`.
template <typename F>
bool SyncUntil(Side& a, Side& b, F done, milliseconds limit = milliseconds(8000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    a.Sync();
    b.Sync();
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

TEST(ControlPlane, SetsUpADynamicTunnelAndMatchesSessionsByRemoteEndId) {
  const uint16_t port = BasePort();
  Side a, b;
  a.Add(Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1));
  b.Add(Dynamic("t", v1::TunnelControl::ROLE_RESPONDER, port + 1, port));
  a.Add(Pseudowire("a1", "t", "pw-one", "a1a1a1a1"));
  a.Add(Pseudowire("a2", "t", "pw-two"));
  b.Add(Pseudowire("b1", "t", "pw-one", "b1b1b1b1b1b1b1b1"));
  b.Add(Pseudowire("b2", "t", "pw-two"));
  ASSERT_TRUE(SyncUntil(a, b, [&] { return a.last.sessions.size() == 2 && b.last.sessions.size() == 2; }))
      << "a: " << (a.last.tunnels_not_up.empty() ? "" : a.last.tunnels_not_up.begin()->second.message)
      << (a.last.sessions_not_up.empty() ? "" : a.last.sessions_not_up.begin()->second.message);

  const TunnelConfig& ta = a.last.tunnels.at("t");
  const TunnelConfig& tb = b.last.tunnels.at("t");
  EXPECT_NE(ta.tunnel_id, 0u);  // picked
  EXPECT_EQ(ta.peer_tunnel_id, tb.tunnel_id);
  EXPECT_EQ(tb.peer_tunnel_id, ta.tunnel_id);
  EXPECT_GE(ta.socket_fd, 0);
  EXPECT_EQ(ta.udp_source_port, port);

  const SessionConfig& a1 = a.last.sessions.at("a1");
  const SessionConfig& b1 = b.last.sessions.at("b1");
  const SessionConfig& a2 = a.last.sessions.at("a2");
  const SessionConfig& b2 = b.last.sessions.at("b2");
  EXPECT_EQ(a1.tunnel_id, ta.tunnel_id);
  EXPECT_EQ(a1.peer_session_id, b1.session_id);
  EXPECT_EQ(b1.peer_session_id, a1.session_id);
  EXPECT_EQ(a2.peer_session_id, b2.session_id);
  EXPECT_EQ(b2.peer_session_id, a2.session_id);
  // Each end sends the cookie the other assigned, and requires its own.
  EXPECT_EQ(a1.cookie, (std::vector<uint8_t>{0xb1, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1}));
  EXPECT_EQ(a1.peer_cookie, (std::vector<uint8_t>{0xa1, 0xa1, 0xa1, 0xa1}));
  EXPECT_EQ(b1.cookie, a1.peer_cookie);
  EXPECT_TRUE(a2.cookie.empty());
  EXPECT_EQ(a1.interface_name, "pw-a1");

  const ControlCounters c = a.plane->counters();
  EXPECT_GE(c.sent[1], 1u);      // SCCRQ (again if the peer was not listening yet)
  EXPECT_EQ(c.received[2], 1u);  // SCCRP
  EXPECT_EQ(c.sent[10], 2u);     // ICRQ, one per session
  EXPECT_EQ(c.malformed, 0u);
}

TEST(ControlPlane, ASessionThePeerDoesNotHaveIsRefusedAndSaysWhy) {
  const uint16_t port = BasePort() + 2;
  Side a, b;
  a.Add(Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1));
  b.Add(Dynamic("t", v1::TunnelControl::ROLE_RESPONDER, port + 1, port));
  a.Add(Pseudowire("lonely", "t", "pw-nobody-has"));
  ASSERT_TRUE(SyncUntil(a, b, [&] {
    auto it = a.last.sessions_not_up.find("lonely");
    return a.last.tunnels.count("t") && it != a.last.sessions_not_up.end() &&
           it->second.message.find("DOWN") != std::string::npos;
  }));
  EXPECT_NE(a.last.sessions_not_up.at("lonely").message.find(
                "no session with remote end id \"pw-nobody-has\""),
            std::string::npos)
      << a.last.sessions_not_up.at("lonely").message;
  EXPECT_TRUE(a.last.sessions.empty());
  // The refusing end has no session to show it on: an event on the tunnel says so.
  bool told = false;
  const auto events = b.events.List(0);
  for (const auto& e : events.events()) {
    told |=
        e.name() == "t" &&
        e.message() ==
            "refused the peer's call: no session with remote end id \"pw-nobody-has\" and pseudowire type 5";
  }
  EXPECT_TRUE(told);
}

TEST(ControlPlane, DeletingATunnelStopsThePeersConnection) {
  const uint16_t port = BasePort() + 4;
  Side a, b;
  a.Add(Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1));
  b.Add(Dynamic("t", v1::TunnelControl::ROLE_RESPONDER, port + 1, port));
  ASSERT_TRUE(SyncUntil(a, b, [&] { return a.last.tunnels.count("t") && b.last.tunnels.count("t"); }));
  b.desired.tunnels.clear();
  ASSERT_TRUE(SyncUntil(a, b, [&] { return !a.last.tunnels.count("t"); }));
  const auto& why = a.last.tunnels_not_up.at("t");
  // The initiator tries again at once or reports the stop; either way it says so.
  EXPECT_FALSE(why.message.empty());
  bool stop_seen = false;
  const v1::ListEventsResponse events = a.events.List(0);
  for (const auto& e : events.events()) {
    if (e.reason() == v1::Event::REASON_CONTROL && e.message().find("peer stopped") != std::string::npos)
      stop_seen = true;
  }
  EXPECT_TRUE(stop_seen);
}

TEST(ControlPlane, APeerThatNeverAnswersIsDownAfterTheRetries) {
  const uint16_t port = BasePort() + 6;
  Side a;
  v1::Tunnel t = Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1);
  t.mutable_spec()->mutable_control()->set_retransmit_retries(1);
  a.Add(t);
  const auto end = std::chrono::steady_clock::now() + milliseconds(8000);
  bool down = false;
  while (!down && std::chrono::steady_clock::now() < end) {
    a.Sync();
    auto it = a.last.tunnels_not_up.find("t");
    down = it != a.last.tunnels_not_up.end() && it->second.failed;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(down);
  EXPECT_NE(a.last.tunnels_not_up.at("t").message.find("DOWN"), std::string::npos);
}

std::string SecretFile(const std::string& name, const std::string& secret) {
  const std::string path = ::testing::TempDir() + "/control-plane-test-" + std::to_string(getpid()) + "-" +
                           name;
  FILE* f = fopen(path.c_str(), "w");
  fputs(secret.c_str(), f);
  fclose(f);
  return path;
}

TEST(ControlPlane, L2tpv3WithASecretSignsEveryMessage) {
  const uint16_t port = BasePort() + 8;
  Side a, b;
  v1::Tunnel ta = Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1);
  v1::Tunnel tb = Dynamic("t", v1::TunnelControl::ROLE_RESPONDER, port + 1, port);
  ta.mutable_spec()->mutable_control()->set_secret_file(SecretFile("a", "shared\n"));
  tb.mutable_spec()->mutable_control()->set_secret_file(SecretFile("b", "shared"));
  a.Add(ta);
  b.Add(tb);
  a.Add(Pseudowire("a1", "t", "pw-one"));
  b.Add(Pseudowire("b1", "t", "pw-one"));
  ASSERT_TRUE(SyncUntil(a, b, [&] { return a.last.sessions.size() == 1 && b.last.sessions.size() == 1; }));
  EXPECT_EQ(a.plane->counters().auth_failures, 0u);
  EXPECT_EQ(b.plane->counters().auth_failures, 0u);
}

TEST(ControlPlane, L2tpv3WithDifferentSecretsNeverComesUp) {
  const uint16_t port = BasePort() + 10;
  Side a, b;
  v1::Tunnel ta = Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1);
  v1::Tunnel tb = Dynamic("t", v1::TunnelControl::ROLE_RESPONDER, port + 1, port);
  ta.mutable_spec()->mutable_control()->set_secret_file(SecretFile("c", "one"));
  tb.mutable_spec()->mutable_control()->set_secret_file(SecretFile("d", "two"));
  ta.mutable_spec()->mutable_control()->set_retransmit_retries(1);
  a.Add(ta);
  b.Add(tb);
  EXPECT_FALSE(SyncUntil(
      a, b, [&] { return a.last.tunnels.count("t") > 0; }, milliseconds(3000)));
  EXPECT_GT(b.plane->counters().auth_failures, 0u);  // the SCCRQ's digest, made with another key
}

// A refused connection is FAILED at once, saying why, not PENDING while it
// lingers (CLOSING) for the last acks.
TEST(ControlPlane, ARefusedConnectionIsFailedWhileItLingers) {
  const uint16_t port = BasePort() + 16;
  Side a, b;
  v1::Tunnel ta = Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1, 2);
  ta.mutable_spec()->mutable_control()->set_secret_file(SecretFile("e", "one"));  // a challenges
  a.Add(ta);
  b.Add(Dynamic("t", v1::TunnelControl::ROLE_RESPONDER, port + 1, port, 2));  // b has no secret
  ASSERT_TRUE(SyncUntil(
      a, b,
      [&] {
        return a.last.tunnels_not_up.count("t") && a.last.tunnels_not_up.at("t").failed &&
               b.last.tunnels_not_up.count("t") && b.last.tunnels_not_up.at("t").failed;
      },
      milliseconds(3000)));
  EXPECT_NE(a.last.tunnels_not_up.at("t").message.find("peer stopped the tunnel: result 4"),
            std::string::npos)
      << a.last.tunnels_not_up.at("t").message;
  EXPECT_NE(b.last.tunnels_not_up.at("t").message.find("no secret is configured"), std::string::npos)
      << b.last.tunnels_not_up.at("t").message;
}

// A stopping plane leaves its ESTABLISHED connections to the next one,
// which resumes them with the same ids: the peer sees no new SCCRQ.
TEST(ControlPlane, TheNextRunResumesTheConnectionsTheLastOneHandedOver) {
  const uint16_t port = BasePort() + 12;
  const std::string path = ::testing::TempDir() + "/control-handover-test-" + std::to_string(getpid());
  Side a(path), b;
  a.Add(Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1));
  b.Add(Dynamic("t", v1::TunnelControl::ROLE_RESPONDER, port + 1, port));
  a.Add(Pseudowire("a1", "t", "pw-one"));
  b.Add(Pseudowire("b1", "t", "pw-one"));
  ASSERT_TRUE(SyncUntil(a, b, [&] { return a.last.sessions.size() == 1 && b.last.sessions.size() == 1; }));
  const TunnelConfig before = a.last.tunnels.at("t");
  const SessionConfig session_before = a.last.sessions.at("a1");
  std::this_thread::sleep_for(milliseconds(300));  // the last acks

  a.plane->Stop();
  a.plane.reset();
  a.Start(path);
  a.Sync();  // the first pass resumes: up at once
  ASSERT_TRUE(a.last.tunnels.count("t"));
  EXPECT_EQ(a.last.tunnels.at("t").tunnel_id, before.tunnel_id);
  EXPECT_EQ(a.last.tunnels.at("t").peer_tunnel_id, before.peer_tunnel_id);
  ASSERT_TRUE(a.last.sessions.count("a1"));
  EXPECT_EQ(a.last.sessions.at("a1").session_id, session_before.session_id);
  EXPECT_EQ(a.last.sessions.at("a1").peer_session_id, session_before.peer_session_id);
  // The resumed connection's HELLO reaches the peer, in sequence, and is
  // acked (nothing retransmitted); the peer took no new SCCRQ.
  const auto end = std::chrono::steady_clock::now() + milliseconds(3000);
  while (std::chrono::steady_clock::now() < end && b.plane->counters().received[6] == 0) {
    b.Sync();
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::this_thread::sleep_for(milliseconds(1500));  // past the first retransmission time
  EXPECT_GE(b.plane->counters().received[6], 1u) << "the HELLO (one a second here)";
  EXPECT_EQ(b.plane->counters().received[1], 1u) << "one SCCRQ in all";
  EXPECT_EQ(a.plane->counters().retransmissions, 0u);
  b.Sync();
  EXPECT_TRUE(b.last.tunnels.count("t"));
  // The file is used once.
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

// Both ends configured as INITIATOR, started at once: the SCCRQs cross and
// the tie breakers leave one connection, its sessions matched as usual.
TEST(ControlPlane, TwoInitiatorsEndUpWithOneConnection) {
  const uint16_t port = BasePort() + 14;
  Side a, b;
  a.Add(Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1));
  b.Add(Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port + 1, port));
  a.Add(Pseudowire("a1", "t", "pw-one"));
  b.Add(Pseudowire("b1", "t", "pw-one"));
  ASSERT_TRUE(SyncUntil(a, b, [&] { return a.last.sessions.size() == 1 && b.last.sessions.size() == 1; }));
  std::this_thread::sleep_for(milliseconds(2500));  // any SCCRQ retransmission has landed
  a.Sync();
  b.Sync();
  ASSERT_TRUE(a.last.tunnels.count("t") && b.last.tunnels.count("t"));
  EXPECT_EQ(a.last.tunnels.at("t").peer_tunnel_id, b.last.tunnels.at("t").tunnel_id);
  EXPECT_EQ(b.last.tunnels.at("t").peer_tunnel_id, a.last.tunnels.at("t").tunnel_id);
  EXPECT_EQ(a.last.sessions.at("a1").peer_session_id, b.last.sessions.at("b1").session_id);
  EXPECT_EQ(a.plane->counters().received[2] + b.plane->counters().received[2], 1u) << "one SCCRP in all";
  EXPECT_EQ(a.plane->counters().received[4] + b.plane->counters().received[4], 0u) << "no StopCCN";
}

TEST(ControlPlane, AnUnreadableSecretFileFailsTheTunnelNamingTheField) {
  Side a;
  v1::Tunnel t = Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, BasePort(), BasePort() + 1);
  t.mutable_spec()->mutable_control()->set_secret_file("/nonexistent/secret");
  a.Add(t);
  a.Sync();
  ASSERT_TRUE(a.last.tunnels_not_up.count("t"));
  EXPECT_TRUE(a.last.tunnels_not_up.at("t").failed);
  EXPECT_NE(a.last.tunnels_not_up.at("t").message.find("control.secret_file"), std::string::npos);
}

// The reconciler's steady state: the same desired state (the same object)
// gives back the same report, HELLOs notwithstanding, until a connection
// changes.
TEST(ControlPlane, TheSameDesiredStateGivesTheSameReportUntilAConnectionChanges) {
  const uint16_t port = BasePort() + 18;
  Side a, b;
  a.Add(Dynamic("t", v1::TunnelControl::ROLE_INITIATOR, port, port + 1));
  b.Add(Dynamic("t", v1::TunnelControl::ROLE_RESPONDER, port + 1, port));
  a.Add(Pseudowire("a1", "t", "pw-one"));
  b.Add(Pseudowire("b1", "t", "pw-one"));
  const auto desired_a = std::make_shared<const DesiredState>(a.desired);
  const auto desired_b = std::make_shared<const DesiredState>(b.desired);
  auto up = [&] {
    const bool a_up = a.plane->Sync(desired_a)->sessions.count("a1");
    return b.plane->Sync(desired_b)->sessions.count("b1") && a_up;
  };
  const auto end = std::chrono::steady_clock::now() + milliseconds(8000);
  while (!up() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(up());

  constexpr int kHello = 6;
  const auto hellos = [&] { return a.plane->counters().sent[kHello] + a.plane->counters().received[kHello]; };
  std::this_thread::sleep_for(milliseconds(1500));  // the last acks and status settle
  const std::shared_ptr<const DynamicObjects> settled = a.plane->Sync(desired_a);
  const uint64_t hellos_before = hellos();
  std::this_thread::sleep_for(milliseconds(2500));  // HELLOs every second
  EXPECT_GT(hellos(), hellos_before);
  EXPECT_EQ(a.plane->Sync(desired_a), settled);

  b.plane->Sync(std::make_shared<const DesiredState>());  // StopCCN
  std::shared_ptr<const DynamicObjects> after;
  const auto stop_end = std::chrono::steady_clock::now() + milliseconds(8000);
  do {
    std::this_thread::sleep_for(milliseconds(20));
    after = a.plane->Sync(desired_a);
  } while (!after->tunnels_not_up.count("t") && std::chrono::steady_clock::now() < stop_end);
  EXPECT_NE(after, settled);
  EXPECT_TRUE(after->tunnels_not_up.count("t"));
  EXPECT_FALSE(after->sessions.count("a1"));
}

}  // namespace
}  // namespace l2tp
