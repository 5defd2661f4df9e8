#include "agent/state/registry.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "agent/state/resource_traits.h"
#include "agent/state/spec_defaults.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/agent/testing/test_resources.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

using ::testing::HasSubstr;
using testing::MakeSession;
using testing::MakeTunnel;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-registry-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Reopen();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Reopen() {
    registry_.reset();
    Store::LoadReport report;
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE(store.ok());
    registry_ = std::make_unique<Registry>(*std::move(store), &hub_, "memory", limits_);
  }
  v1::ApplyRequest Batch() {
    v1::ApplyRequest r;
    *r.add_tunnels() = MakeTunnel("t1", 1);
    *r.add_sessions() = MakeSession("s1", "t1", 10);
    *r.add_sessions() = MakeSession("s2", "t1", 11);
    return r;
  }
  v1::ListResponse All() { return *registry_->List({}); }

  std::string dir_;
  WatchHub hub_;
  Registry::Limits limits_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, ApplyCreatesAndIsIdempotent) {
  auto r = registry_->Apply(Batch());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->plan().actions_size(), 3);
  EXPECT_EQ(r->sessions(0).generation(), 1u);
  EXPECT_EQ(r->sessions(0).spec().interface_name(), "l2tp1-10");
  const std::string rv = r->tunnels(0).resource_version();

  auto again = registry_->Apply(Batch());
  ASSERT_TRUE(again.ok());
  for (const auto& a : again->plan().actions()) EXPECT_EQ(a.operation(), v1::PlanAction::OPERATION_UNCHANGED);
  EXPECT_EQ(again->tunnels(0).resource_version(), rv);
  EXPECT_EQ(again->tunnels(0).generation(), 1u);
}

TEST_F(RegistryTest, SpecChangeBumpsGenerationAndVersion) {
  auto first = registry_->Apply(Batch());
  auto b = Batch();
  b.mutable_sessions(0)->mutable_spec()->set_send_sequence(true);
  auto r = registry_->Apply(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sessions(0).generation(), 2u);
  EXPECT_NE(r->sessions(0).resource_version(), first->sessions(0).resource_version());
  EXPECT_EQ(r->sessions(1).generation(), 1u);
}

TEST_F(RegistryTest, DryRunChangesNothing) {
  auto b = Batch();
  b.set_dry_run(true);
  auto r = registry_->Apply(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->plan().actions_size(), 3);
  EXPECT_EQ(All().tunnels_size(), 0);
  Reopen();
  EXPECT_EQ(All().tunnels_size(), 0);
}

TEST_F(RegistryTest, StateSurvivesReopen) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  Reopen();
  auto all = All();
  EXPECT_EQ(all.tunnels_size(), 1);
  EXPECT_EQ(all.sessions_size(), 2);
  EXPECT_EQ(all.sessions(0).status().phase(), v1::PHASE_PENDING);
}

TEST_F(RegistryTest, RejectedBatchChangesNothing) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  auto before = All();
  auto b = Batch();
  b.mutable_tunnels(0)->mutable_spec()->set_remote("192.0.2.77");
  b.mutable_sessions(1)->mutable_spec()->set_cookie("aabbcc");
  auto r = registry_->Apply(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "sessions[1].spec.cookie: must be 0, 4 or 8 bytes, got 3");
  EXPECT_EQ(All().DebugString(), before.DebugString());
}

TEST_F(RegistryTest, SessionWithoutTunnelIsFailedPrecondition) {
  v1::ApplyRequest b;
  *b.add_sessions() = MakeSession("s1", "nope", 10);
  auto r = registry_->Apply(b);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("sessions[0].spec.tunnel: tunnel \"nope\" does not exist"));
}

TEST_F(RegistryTest, IdCollisionsAreAlreadyExists) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  v1::ApplyRequest b;
  *b.add_tunnels() = MakeTunnel("t2", 1);
  auto r = registry_->Apply(b);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(),
              HasSubstr("tunnels[0].spec.tunnel_id: tunnel_id 1 is already used by tunnel \"t1\""));

  v1::ApplyRequest s;
  *s.add_sessions() = MakeSession("s9", "t1", 10);
  r = registry_->Apply(s);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(), HasSubstr("sessions[0].spec.session_id"));
}

// Issue 11, item 4: compared in normalised form, so another spelling of the
// same addresses and ports still collides.
TEST_F(RegistryTest, TunnelsWithTheSameEndpointsAreAlreadyExists) {
  v1::ApplyRequest first;
  *first.add_tunnels() = MakeTunnel("t1", 1, "2001:db8::1", "2001:db8::2");
  ASSERT_TRUE(registry_->Apply(first).ok());
  v1::ApplyRequest b;
  *b.add_tunnels() = MakeTunnel("t2", 2, "2001:db8:0::1", "2001:0db8::2");
  b.mutable_tunnels(0)->mutable_spec()->set_udp_source_port(1701);
  auto r = registry_->Apply(b);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(),
              HasSubstr("tunnels[0].spec.remote: tunnel \"t2\" has the same endpoints as tunnel \"t1\" "
                        "(UDP from 2001:db8::1 port 1701 to 2001:db8::2 port 1701)"));
  EXPECT_EQ(All().tunnels_size(), 1);
  b.mutable_tunnels(0)->mutable_spec()->set_remote("2001:db8::3");
  EXPECT_TRUE(registry_->Apply(b).ok()) << "another remote on the same local port";
}

// A DYNAMIC L2TPv3 tunnel (ids 0: picked and learned) and a session of one.
v1::Tunnel DynamicTunnel(const std::string& name, const std::string& local, const std::string& remote,
                         v1::Encapsulation encap,
                         v1::TunnelControl::Role role = v1::TunnelControl::ROLE_RESPONDER) {
  v1::Tunnel t = MakeTunnel(name, 0, local, remote);
  t.mutable_spec()->set_peer_tunnel_id(0);
  t.mutable_spec()->set_encap(encap);
  t.mutable_spec()->mutable_control()->set_mode(v1::TunnelControl::MODE_DYNAMIC);
  t.mutable_spec()->mutable_control()->set_role(role);
  return t;
}
v1::Session DynamicSession(const std::string& name, const std::string& tunnel) {
  v1::Session s = MakeSession(name, tunnel, 0);
  s.mutable_spec()->set_peer_session_id(0);
  s.mutable_spec()->set_remote_end_id("pw-" + name);
  return s;
}

// Two DYNAMIC tunnels over IP between the same two addresses would both take
// the peer's SCCRQ: the write that adds the second is refused naming both, on
// the API and from the --config file, and what is stored stays as it was.
TEST_F(RegistryTest, DynamicTunnelsOnOneIpAddressPairAreAlreadyExists) {
  v1::ApplyRequest first;
  *first.add_tunnels() = DynamicTunnel("a", "fd50::1", "fd50::2", v1::ENCAPSULATION_IP);
  *first.add_sessions() = DynamicSession("pw1", "a");
  ASSERT_TRUE(registry_->Apply(first).ok());
  const std::string before = All().DebugString();

  v1::ApplyRequest second;
  *second.add_tunnels() = DynamicTunnel("b", "fd50:0::1", "fd50::0:2", v1::ENCAPSULATION_IP,
                                        v1::TunnelControl::ROLE_INITIATOR);
  *second.add_sessions() = DynamicSession("pw2", "b");
  auto r = registry_->Apply(second);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.status().message(),
            "tunnels[0].spec.remote: tunnel \"b\" has the same endpoints as tunnel \"a\" (IP from fd50::1 to "
            "fd50::2) and both are DYNAMIC: the peer's SCCRQ, addressed to connection id 0, would reach both "
            "control connections, which cannot tell whose it is; one of them needs another local or remote "
            "address");
  EXPECT_EQ(All().DebugString(), before);
  second.set_dry_run(true);
  EXPECT_EQ(registry_->Apply(second).status().code(), absl::StatusCode::kAlreadyExists) << "dry run";
  second.set_dry_run(false);
  r = registry_->ApplyConfigFile(second);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists) << "--config";
  EXPECT_EQ(All().DebugString(), before);
  Reopen();
  EXPECT_EQ(All().DebugString(), before) << "nothing of it persisted";

  // Both new in one batch: reported once, on the later by name, naming the other.
  v1::ApplyRequest both;
  *both.add_tunnels() = DynamicTunnel("d", "192.0.2.1", "192.0.2.2", v1::ENCAPSULATION_IP);
  *both.add_tunnels() = DynamicTunnel("c", "192.0.2.1", "192.0.2.2", v1::ENCAPSULATION_IP);
  r = registry_->Apply(both);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(),
              HasSubstr(
                  "tunnels[0].spec.remote: tunnel \"d\" has the same endpoints as tunnel \"c\" (IP from "
                  "192.0.2.1 to 192.0.2.2) and both are DYNAMIC"));

  second.mutable_tunnels(0)->mutable_spec()->set_remote("fd50::3");
  EXPECT_TRUE(registry_->Apply(second).ok()) << "another remote";
  v1::ApplyRequest static_too;
  *static_too.add_tunnels() = MakeTunnel("s", 9, "fd50::1", "fd50::2");
  static_too.mutable_tunnels(0)->mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  EXPECT_TRUE(registry_->Apply(static_too).ok()) << "a STATIC tunnel has no control connection";
}

// UDP: one 5-tuple, the defaults resolved (ports 1701) and the addresses
// compared as addresses, whatever the mode.
TEST_F(RegistryTest, DynamicUdpTunnelsOnOneTupleAreAlreadyExists) {
  v1::ApplyRequest first;
  *first.add_tunnels() = DynamicTunnel("a", "192.0.2.1", "192.0.2.2", v1::ENCAPSULATION_UNSPECIFIED);
  ASSERT_TRUE(registry_->Apply(first).ok());
  const std::string before = All().DebugString();
  v1::ApplyRequest second;
  *second.add_tunnels() = DynamicTunnel("b", "192.0.2.1", "192.0.2.2", v1::ENCAPSULATION_UDP);
  second.mutable_tunnels(0)->mutable_spec()->set_udp_source_port(1701);
  second.mutable_tunnels(0)->mutable_spec()->set_udp_destination_port(1701);
  auto r = registry_->Apply(second);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.status().message(),
            "tunnels[0].spec.remote: tunnel \"b\" has the same endpoints as tunnel \"a\" (UDP from 192.0.2.1 "
            "port 1701 to 192.0.2.2 port 1701); one of them needs another address or port");
  EXPECT_EQ(All().DebugString(), before);
  second.mutable_tunnels(0)->mutable_spec()->set_udp_source_port(1702);
  EXPECT_TRUE(registry_->Apply(second).ok()) << "another local port";
}

// A state file from an agent older than the rule may hold two DYNAMIC IP
// tunnels on one address pair. It loads (refusing it would lose the node's
// whole state); the later tunnel is held back, FAILED, out of the
// reconciler's snapshot with its sessions, until the clash is gone.
TEST_F(RegistryTest, AStoredDynamicClashLoadsAndHoldsTheLaterTunnelBack) {
  v1::ApplyRequest config;  // as the --config file of the older agent declared them
  *config.add_tunnels() = DynamicTunnel("a", "fd50::1", "fd50::2", v1::ENCAPSULATION_IP);
  *config.add_tunnels() = DynamicTunnel("b", "fd50::1", "fd50::2", v1::ENCAPSULATION_IP);
  *config.add_tunnels() = DynamicTunnel("c", "fd50::1", "fd50::3", v1::ENCAPSULATION_IP);
  *config.add_sessions() = DynamicSession("pb", "b");
  l2tpagent::store::v1::State state;
  state.set_revision(3);
  for (int i = 0; i < config.tunnels_size(); ++i) {
    v1::Tunnel t = config.tunnels(i);
    NormalizeTunnelSpec(t.mutable_spec());
    t.set_generation(1);
    t.set_resource_version(i == 1 ? "3" : "2");  // b is the later
    *state.add_tunnels() = t;
  }
  v1::Session pb = config.sessions(0);
  NormalizeSessionSpec(state.tunnels(1).spec(), "pb", pb.mutable_spec());
  pb.set_generation(1);
  pb.set_resource_version("3");
  *state.add_sessions() = pb;
  registry_.reset();
  {
    Store::LoadReport report;
    auto store = Store::Open(dir_, &report);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Commit(state).ok());
  }
  Reopen();

  auto all = All();
  ASSERT_EQ(all.tunnels_size(), 3);
  ASSERT_EQ(all.sessions_size(), 1);
  EXPECT_EQ(all.tunnels(0).status().phase(), v1::PHASE_PENDING);
  EXPECT_EQ(all.tunnels(1).status().phase(), v1::PHASE_FAILED);
  EXPECT_EQ(
      all.tunnels(1).status().message(),
      "not started: it has the same endpoints as tunnel \"a\" (IP from fd50::1 to fd50::2) and both are "
      "DYNAMIC: the peer's SCCRQ, addressed to connection id 0, would reach both control connections, "
      "which cannot tell whose it is; give one of them another local or remote address, or delete one");
  EXPECT_EQ(all.tunnels(2).status().phase(), v1::PHASE_PENDING);
  EXPECT_EQ(all.sessions(0).status().phase(), v1::PHASE_PENDING);
  EXPECT_EQ(all.sessions(0).status().message(),
            "waiting for its tunnel \"b\", which is FAILED (not started)");
  auto snap = registry_->SnapshotForReconcile();
  EXPECT_EQ(snap->desired.tunnels.size(), 2u);
  EXPECT_FALSE(snap->desired.tunnels.count("b"));
  EXPECT_TRUE(snap->desired.sessions.empty());

  // The --config file that declared them, applied again at start, still
  // applies: the clash is not its doing. A change that keeps it is refused.
  auto r = registry_->ApplyConfigFile(config);
  ASSERT_TRUE(r.ok()) << r.status();
  for (const auto& a : r->plan().actions()) EXPECT_EQ(a.operation(), v1::PlanAction::OPERATION_UNCHANGED);
  config.mutable_tunnels(1)->mutable_spec()->mutable_control()->set_retransmit_retries(7);
  r = registry_->ApplyConfigFile(config);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(), HasSubstr("tunnels[1].spec.remote: tunnel \"b\" has the same endpoints "
                                              "as tunnel \"a\""));

  // Deleting the older one starts the later.
  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_TUNNEL);
  d.set_name("a");
  ASSERT_TRUE(registry_->Delete(d).ok());
  all = All();  // b, c, then a being deleted
  ASSERT_EQ(all.tunnels(0).name(), "b");
  EXPECT_EQ(all.tunnels(0).status().phase(), v1::PHASE_PENDING);
  EXPECT_EQ(all.tunnels(0).status().message(), "waiting for the reconciler");
  EXPECT_EQ(all.tunnels(2).status().phase(), v1::PHASE_DELETING);
  EXPECT_EQ(all.sessions(0).status().message(), "waiting for the reconciler");
  snap = registry_->SnapshotForReconcile();
  EXPECT_TRUE(snap->desired.tunnels.count("b"));
  EXPECT_TRUE(snap->desired.sessions.count("pb"));
}

// A datapath that gives every tunnel its own socket (static kernel tunnels)
// cannot let two share a local UDP port: FAILED_PRECONDITION naming the other.
TEST_F(RegistryTest, SharedLocalPortIsRefusedWhereTheDatapathCannotShare) {
  v1::ApplyRequest first;
  *first.add_tunnels() = MakeTunnel("hub-a", 1, "192.0.2.1", "192.0.2.21");
  ASSERT_TRUE(registry_->Apply(first).ok());
  v1::ApplyRequest second;
  *second.add_tunnels() = MakeTunnel("hub-b", 2, "192.0.2.1", "192.0.2.22");
  registry_->set_shared_udp_ports(false);
  auto r = registry_->Apply(second);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      r.status().message(),
      HasSubstr(
          "tunnels[0].spec.udp_source_port: local 192.0.2.1 port 1701 is already used by tunnel \"hub-a\""));
  EXPECT_EQ(All().tunnels_size(), 1);
  second.mutable_tunnels(0)->mutable_spec()->set_udp_source_port(1702);
  EXPECT_TRUE(registry_->Apply(second).ok()) << "another local port";
  second.mutable_tunnels(0)->mutable_spec()->set_encap(v1::ENCAPSULATION_IP);
  second.mutable_tunnels(0)->mutable_spec()->clear_udp_source_port();
  EXPECT_TRUE(registry_->Apply(second).ok()) << "IP encapsulation has no ports";
  registry_->set_shared_udp_ports(true);
  *second.add_tunnels() = MakeTunnel("hub-c", 3, "192.0.2.1", "192.0.2.23");
  EXPECT_TRUE(registry_->Apply(second).ok()) << "a datapath that shares";
}

// Issue 11, items 3 and 8, through Apply: rejected as a whole, nothing stored.
TEST_F(RegistryTest, InputTheDatapathWouldMisreadIsInvalid) {
  auto b = Batch();
  b.mutable_sessions(0)->mutable_spec()->set_interface_name("tap%d");
  b.mutable_sessions(1)->mutable_spec()->set_cookie(":::");
  b.mutable_tunnels(0)->mutable_spec()->set_remote(std::string("192.0.2.2\0junk", 14));
  auto r = registry_->Apply(b);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string m(r.status().message());
  EXPECT_THAT(m, HasSubstr(
                     "tunnels[0].spec.remote: must be an IPv4 or IPv6 address, got \"192.0.2.2\\x00junk\""));
  EXPECT_THAT(m, HasSubstr("sessions[0].spec.interface_name: must not contain '%'"));
  EXPECT_THAT(m, HasSubstr("sessions[1].spec.cookie: colon-separated cookies"));
  EXPECT_EQ(All().tunnels_size(), 0);
}

// Issue 11, item 9: a 4.3 MB bad request used to come back as a 9 MB error.
TEST_F(RegistryTest, AHugeBadRequestGetsAShortError) {
  v1::ApplyRequest b;
  const std::string huge(4'300'000, 'A');
  *b.add_tunnels() = MakeTunnel(huge, 1, huge, huge);
  *b.add_tunnels() = MakeTunnel(huge, 2);
  for (int i = 0; i < 40; ++i) {
    *b.add_sessions() = MakeSession("s" + std::to_string(i), "t1", i + 1);
    b.mutable_sessions(i)->mutable_spec()->set_cookie(huge);
  }
  auto r = registry_->Apply(b);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string m(r.status().message());
  EXPECT_LT(m.size(), 8000u);
  EXPECT_THAT(m, HasSubstr("tunnels[0].name: must be at most 63 characters, got 4300000 (\"AAAA"));
  EXPECT_THAT(m, HasSubstr("...\" (4300000 bytes)"));
  EXPECT_THAT(m, HasSubstr("more problems"));

  v1::ApplyRequest stale;  // a precondition on a name that does not exist
  *stale.add_tunnels() = MakeTunnel("t9", 9);
  stale.mutable_tunnels(0)->set_resource_version(huge);
  r = registry_->Apply(stale);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_LT(r.status().message().size(), 300u);
}

TEST_F(RegistryTest, DuplicateNamesInOneRequestAreInvalid) {
  auto b = Batch();
  *b.add_sessions() = MakeSession("s1", "t1", 12);
  auto r = registry_->Apply(b);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("sessions[2].name: \"s1\" appears twice (also sessions[0])"));
}

TEST_F(RegistryTest, StaleResourceVersionIsAborted) {
  auto first = registry_->Apply(Batch());
  auto b = Batch();
  b.mutable_sessions(0)->mutable_spec()->set_lns_mode(true);
  ASSERT_TRUE(registry_->Apply(b).ok());
  auto stale = Batch();
  stale.mutable_sessions(0)->set_resource_version(first->sessions(0).resource_version());
  auto r = registry_->Apply(stale);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(r.status().message(), HasSubstr("sessions[0].resource_version: stale"));
  // The current version is accepted.
  auto current = Batch();
  current.mutable_sessions(0)->set_resource_version(registry_
                                                        ->Get([] {
                                                          v1::GetRequest g;
                                                          g.set_kind(v1::RESOURCE_KIND_SESSION);
                                                          g.set_name("s1");
                                                          return g;
                                                        }())
                                                        ->session()
                                                        .resource_version());
  EXPECT_TRUE(registry_->Apply(current).ok());
}

TEST_F(RegistryTest, PruneDeletesWhatTheBatchDoesNotMention) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  v1::ApplyRequest b;
  *b.add_tunnels() = MakeTunnel("t1", 1);
  *b.add_sessions() = MakeSession("s2", "t1", 11);
  b.set_prune(true);
  auto r = registry_->Apply(b);
  ASSERT_TRUE(r.ok()) << r.status();
  bool deleted_s1 = false;
  for (const auto& a : r->plan().actions()) {
    if (a.name() == "s1") deleted_s1 = a.operation() == v1::PlanAction::OPERATION_DELETE;
  }
  EXPECT_TRUE(deleted_s1);
  Reopen();
  EXPECT_EQ(All().sessions_size(), 1);
}

TEST_F(RegistryTest, DeleteTunnelWithSessionsNeedsCascade) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_TUNNEL);
  d.set_name("t1");
  auto r = registry_->Delete(d);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("s1, s2"));
  d.set_cascade(true);
  r = registry_->Delete(d);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->plan().actions_size(), 3);
  // Listed as DELETING until the reconciler removes them from the datapath.
  auto all = All();
  ASSERT_EQ(all.tunnels_size(), 1);
  EXPECT_EQ(all.tunnels(0).status().phase(), v1::PHASE_DELETING);
  registry_->FinishDeleting(v1::RESOURCE_KIND_TUNNEL, "t1");
  EXPECT_EQ(All().tunnels_size(), 0);
}

TEST_F(RegistryTest, GetAndDeleteUnknownAreNotFound) {
  v1::GetRequest g;
  g.set_kind(v1::RESOURCE_KIND_TUNNEL);
  g.set_name("ghost");
  EXPECT_EQ(registry_->Get(g).status().code(), absl::StatusCode::kNotFound);
  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_SESSION);
  d.set_name("ghost");
  EXPECT_EQ(registry_->Delete(d).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, WatchGivesSnapshotMarkerThenChanges) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  std::vector<v1::WatchEvent> snapshot;
  auto sub = registry_->Watch(&snapshot);
  ASSERT_EQ(snapshot.size(), 4u);
  EXPECT_EQ(snapshot.back().type(), v1::WatchEvent::TYPE_SYNCED);
  registry_->SetStatus(v1::RESOURCE_KIND_TUNNEL, "t1", v1::PHASE_READY, "", 1, {});
  v1::WatchEvent e;
  ASSERT_TRUE(sub->Next(&e, std::chrono::milliseconds(100)));
  EXPECT_EQ(e.type(), v1::WatchEvent::TYPE_MODIFIED);
  EXPECT_EQ(e.tunnel().status().phase(), v1::PHASE_READY);
  // Counters alone do not make an event.
  v1::Counters c;
  c.set_rx_packets(5);
  registry_->SetStatus(v1::RESOURCE_KIND_TUNNEL, "t1", v1::PHASE_READY, "", 1, c);
  EXPECT_FALSE(sub->Next(&e, std::chrono::milliseconds(20)));
  registry_->Unwatch(sub);
}

// The reconciler's snapshot is shared while nothing changes, and replaced by
// every change to what it holds: desired state, ownership, deletes.
TEST_F(RegistryTest, TheReconcilersSnapshotIsTheSameObjectUntilAChange) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  auto snap = registry_->SnapshotForReconcile();
  EXPECT_EQ(registry_->SnapshotForReconcile(), snap);
  ASSERT_TRUE(registry_->Apply(Batch()).ok());  // nothing changes
  registry_->SetStatus(v1::RESOURCE_KIND_TUNNEL, "t1", v1::PHASE_READY, "", 1, {});
  EXPECT_EQ(registry_->SnapshotForReconcile(), snap);

  auto changed = Batch();
  changed.mutable_sessions(0)->mutable_spec()->set_send_sequence(true);
  ASSERT_TRUE(registry_->Apply(changed).ok());
  auto next = registry_->SnapshotForReconcile();
  EXPECT_NE(next, snap);
  EXPECT_EQ(next->desired.sessions.at("s1").generation(), 2u);
  EXPECT_EQ(snap->desired.sessions.at("s1").generation(), 1u);  // a snapshot never changes

  OwnedSet owned;
  owned.tunnels.insert(1);
  ASSERT_TRUE(registry_->SetOwned(owned).ok());
  snap = registry_->SnapshotForReconcile();
  EXPECT_NE(snap, next);
  EXPECT_TRUE(snap->owned.tunnels.count(1));
  ASSERT_TRUE(registry_->SetOwned(owned).ok());  // the same
  EXPECT_EQ(registry_->SnapshotForReconcile(), snap);

  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_SESSION);
  d.set_name("s2");
  ASSERT_TRUE(registry_->Delete(d).ok());
  next = registry_->SnapshotForReconcile();
  EXPECT_NE(next, snap);
  EXPECT_TRUE(next->deleting.sessions.count("s2"));
  registry_->FinishDeleting(v1::RESOURCE_KIND_SESSION, "s2");
  EXPECT_NE(registry_->SnapshotForReconcile(), next);
  EXPECT_FALSE(registry_->SnapshotForReconcile()->deleting.sessions.count("s2"));
}

TEST_F(RegistryTest, LimitsAreResourceExhausted) {
  limits_.max_sessions = 1;
  Reopen();
  auto r = registry_->Apply(Batch());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(All().tunnels_size(), 0);
}

// Issue 12, item 4: one traits type per kind, and the run-time dispatch.
TEST(ResourceTraitsTest, NameEachKind) {
  using TunnelTraits = ResourceTraits<v1::Tunnel>;
  using SessionTraits = ResourceTraits<v1::Session>;
  EXPECT_EQ(TunnelTraits::kKind, v1::RESOURCE_KIND_TUNNEL);
  EXPECT_EQ(SessionTraits::kKind, v1::RESOURCE_KIND_SESSION);
  EXPECT_EQ(TunnelTraits::Key("a"), TunnelKey("a"));
  EXPECT_EQ(SessionTraits::Key("a"), SessionNameKey("a"));
  EXPECT_EQ(KindKey(v1::RESOURCE_KIND_SESSION, "a"), "session/a");
  EXPECT_EQ(KindKey(v1::RESOURCE_KIND_UNSPECIFIED, "a"), "");
  std::vector<v1::ResourceKind> order;
  ForEachKind([&]<typename R>() { order.push_back(ResourceTraits<R>::kKind); });
  ForEachKindChildrenFirst([&]<typename R>() { order.push_back(ResourceTraits<R>::kKind); });
  EXPECT_EQ(order, (std::vector<v1::ResourceKind>{v1::RESOURCE_KIND_TUNNEL, v1::RESOURCE_KIND_SESSION,
                                                  v1::RESOURCE_KIND_SESSION, v1::RESOURCE_KIND_TUNNEL}));
  EXPECT_FALSE(ForKind(v1::RESOURCE_KIND_UNSPECIFIED, []<typename R>() { FAIL(); }));
  v1::Session s = MakeSession("s1", "t1", 10);
  EXPECT_EQ(SessionTraits::TunnelOf(s), "t1");
}

// Get, Delete and List behave the same for both kinds.
TEST_F(RegistryTest, GetDeleteAndListTreatBothKindsAlike) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  v1::GetRequest g;
  g.set_kind(v1::RESOURCE_KIND_SESSION);
  g.set_name("s2");
  auto got = registry_->Get(g);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->session().spec().tunnel(), "t1");
  g.set_kind(v1::RESOURCE_KIND_UNSPECIFIED);
  EXPECT_EQ(registry_->Get(g).status().message(), "kind: must be TUNNEL or SESSION");

  v1::ListRequest l;
  l.set_kind(v1::RESOURCE_KIND_SESSION);
  l.set_tunnel("t1");
  EXPECT_EQ(registry_->List(l)->sessions_size(), 2);
  EXPECT_EQ(registry_->List(l)->tunnels_size(), 0);
  l.set_tunnel("other");
  EXPECT_EQ(registry_->List(l)->sessions_size(), 0);

  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_SESSION);
  d.set_name("s1");
  d.set_resource_version("999");
  auto r = registry_->Delete(d);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(r.status().message(), HasSubstr("resource_version: stale: session \"s1\" is at version 1"));
  d.clear_resource_version();
  r = registry_->Delete(d);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->plan().actions_size(), 1);
  EXPECT_EQ(r->plan().actions(0).kind(), v1::RESOURCE_KIND_SESSION);
  g.set_kind(v1::RESOURCE_KIND_SESSION);
  g.set_name("s1");
  EXPECT_EQ(registry_->Get(g)->session().status().phase(), v1::PHASE_DELETING);
}

// A cascade delete announces the sessions before their tunnel, and each
// resource's DELETED once the datapath lets it go.
TEST_F(RegistryTest, DeletesAreWatchedSessionsFirst) {
  ASSERT_TRUE(registry_->Apply(Batch()).ok());
  std::vector<v1::WatchEvent> snapshot;
  auto sub = registry_->Watch(&snapshot);
  v1::DeleteRequest d;
  d.set_kind(v1::RESOURCE_KIND_TUNNEL);
  d.set_name("t1");
  d.set_cascade(true);
  ASSERT_TRUE(registry_->Delete(d).ok());
  registry_->FinishDeleting(v1::RESOURCE_KIND_SESSION, "s1");
  std::vector<std::string> seen;
  v1::WatchEvent e;
  while (sub->Next(&e, std::chrono::milliseconds(20))) {
    seen.push_back(absl::StrCat(v1::WatchEvent::Type_Name(e.type()), " ",
                                e.has_tunnel() ? e.tunnel().name() : e.session().name(), " ",
                                v1::Phase_Name(e.has_tunnel() ? e.tunnel().status().phase()
                                                              : e.session().status().phase())));
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"TYPE_MODIFIED s1 PHASE_DELETING", "TYPE_MODIFIED s2 PHASE_DELETING",
                                      "TYPE_MODIFIED t1 PHASE_DELETING", "TYPE_DELETED s1 PHASE_DELETING"}));
  registry_->Unwatch(sub);
}

// The config file's names are persisted per kind, and a session from the API
// keeps the tunnel the file dropped.
TEST_F(RegistryTest, ConfigFileNamesSurviveAReopen) {
  ASSERT_TRUE(registry_->ApplyConfigFile(Batch()).ok());
  v1::ApplyRequest api;
  *api.add_sessions() = MakeSession("s9", "t1", 19);
  ASSERT_TRUE(registry_->Apply(api).ok());
  Reopen();
  auto r = registry_->ApplyConfigFile(v1::ApplyRequest());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      r.status().message(),
      HasSubstr("tunnels: tunnel \"t1\" is no longer in the config file, but session \"s9\" still uses it"));
  v1::ApplyRequest keep;
  *keep.add_tunnels() = MakeTunnel("t1", 1);
  r = registry_->ApplyConfigFile(keep);
  ASSERT_TRUE(r.ok()) << r.status();
  auto all = All();
  ASSERT_EQ(all.sessions_size(), 3);  // s1 and s2 being deleted, s9 kept
  EXPECT_EQ(all.sessions(0).name(), "s9");
}

}  // namespace
}  // namespace l2tp
