#include "tests/unit/datapath/datapath_contract.h"

#include <gmock/gmock.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "datapath/contract.h"

namespace l2tp::contract_test {

using ::testing::HasSubstr;

void PrintTo(const ContractBackend& backend, std::ostream* os) { *os << backend.name; }

std::string ContractBackendName(const ::testing::TestParamInfo<ContractBackend>& info) {
  return info.param.name;
}

void DatapathContractTest::SetUp() {
  if (std::string why = GetParam().unavailable(); !why.empty()) GTEST_SKIP() << why;
  auto dp = GetParam().make();
  ASSERT_TRUE(dp.ok()) << dp.status();
  dp_ = *std::move(dp);
}

void DatapathContractTest::TearDown() {
  if (!dp_) return;
  auto obs = dp_->Observe();
  ASSERT_TRUE(obs.ok()) << obs.status();
  for (const auto& t : obs->tunnels) {
    EXPECT_TRUE(dp_->DeleteTunnel(t.config.tunnel_id).ok()) << "cleanup of tunnel " << t.config.tunnel_id;
  }
  dp_.reset();
}

TunnelConfig DatapathContractTest::Tunnel(uint32_t tunnel_id) const {
  TunnelConfig t;
  t.tunnel_id = tunnel_id;
  t.peer_tunnel_id = 1000 + tunnel_id;
  t.encap = Encap::kUdp;
  t.local = *IpAddress::Parse(GetParam().local);
  t.remote = *IpAddress::Parse(GetParam().remote);
  t.udp_source_port = static_cast<uint16_t>(17100 + tunnel_id);
  t.udp_destination_port = static_cast<uint16_t>(18100 + tunnel_id);
  return t;
}

SessionConfig DatapathContractTest::Session(uint32_t tunnel_id, uint32_t session_id) const {
  SessionConfig s;
  s.tunnel_id = tunnel_id;
  s.session_id = session_id;
  s.peer_session_id = 5000 + session_id;
  s.interface_name = absl::StrCat("ct", tunnel_id, "-", session_id);
  return s;
}

const ObservedSession* DatapathContractTest::FindSession(const Observation& obs, uint32_t tunnel_id,
                                                         uint32_t session_id) {
  for (const auto& s : obs.sessions) {
    if (s.config.tunnel_id == tunnel_id && s.config.session_id == session_id) return &s;
  }
  return nullptr;
}

Observation DatapathContractTest::MustObserve() {
  auto obs = dp_->Observe();
  EXPECT_TRUE(obs.ok()) << obs.status();
  return obs.ok() ? *std::move(obs) : Observation{};
}

TunnelConfig DatapathContractTest::ManagedTunnel(uint32_t tunnel_id, uint32_t version) {
  TunnelConfig t = Tunnel(tunnel_id);
  t.version = version;
  auto socket = dp_->OpenManagedSocket(t);
  EXPECT_TRUE(socket.ok()) << socket.status();
  t.socket_fd = socket.ok() ? socket->fd : -1;
  return t;
}

TEST_P(DatapathContractTest, NameAndCapabilities) {
  EXPECT_EQ(std::string(dp_->Name()), absl::AsciiStrToLower(GetParam().name));
  EXPECT_FALSE(dp_->Capabilities().empty());
}

TEST_P(DatapathContractTest, ObserveReportsWhatWasCreated) {
  const TunnelConfig t = Tunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  SessionConfig s = Session(1, 10);
  s.cookie = {1, 2, 3, 4};
  s.peer_cookie = {5, 6, 7, 8, 9, 10, 11, 12};
  s.send_sequence = true;
  ASSERT_TRUE(dp_->CreateSession(s).ok());

  Observation obs = MustObserve();
  ASSERT_EQ(obs.tunnels.size(), 1u);
  const TunnelConfig& ot = obs.tunnels[0].config;
  EXPECT_EQ(ot.tunnel_id, t.tunnel_id);
  EXPECT_EQ(ot.peer_tunnel_id, t.peer_tunnel_id);
  EXPECT_EQ(ot.encap, t.encap);
  EXPECT_EQ(ot.local, t.local);
  EXPECT_EQ(ot.remote, t.remote);
  EXPECT_EQ(ot.udp_source_port, t.udp_source_port);
  EXPECT_EQ(ot.udp_destination_port, t.udp_destination_port);

  ASSERT_EQ(obs.sessions.size(), 1u);
  const ObservedSession& os = obs.sessions[0];
  EXPECT_EQ(os.config.tunnel_id, s.tunnel_id);
  EXPECT_EQ(os.config.session_id, s.session_id);
  EXPECT_EQ(os.config.peer_session_id, s.peer_session_id);
  EXPECT_EQ(os.config.interface_name, s.interface_name);
  EXPECT_EQ(os.config.cookie, s.cookie);
  EXPECT_EQ(os.config.peer_cookie, s.peer_cookie);
  EXPECT_EQ(os.config.send_sequence, true);
  EXPECT_EQ(os.config.require_sequence, false);
  if (os.l2spec_known) {
    EXPECT_EQ(os.config.l2spec, s.l2spec);
  }
}

TEST_P(DatapathContractTest, CreateTunnelTwiceIsAlreadyExists) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(2)).ok());
  EXPECT_EQ(dp_->CreateTunnel(Tunnel(2)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(MustObserve().tunnels.size(), 1u);
}

TEST_P(DatapathContractTest, TunnelRulesAreTheContractsWithItsMessage) {
  TunnelConfig zero = Tunnel(3);
  zero.peer_tunnel_id = 0;
  absl::Status st = dp_->CreateTunnel(zero);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st, CheckTunnelConfig(zero));
  // L2TPv2 only as a managed UDP tunnel with 16-bit ids: unmanaged, over IP
  // or with a wider id, every backend refuses it with the contract's message.
  TunnelConfig v2 = Tunnel(3);
  v2.version = 2;
  st = dp_->CreateTunnel(v2);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st, CheckTunnelConfig(v2));
  TunnelConfig managed = ManagedTunnel(3, 2);
  ASSERT_GE(managed.socket_fd, 0);
  TunnelConfig v2_ip = managed;
  v2_ip.encap = Encap::kIp;
  st = dp_->CreateTunnel(v2_ip);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st, CheckTunnelConfig(v2_ip));
  TunnelConfig v2_wide = managed;
  v2_wide.peer_tunnel_id = 70000;
  st = dp_->CreateTunnel(v2_wide);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st, CheckTunnelConfig(v2_wide));
  TunnelConfig v4 = managed;
  v4.version = 4;
  st = dp_->CreateTunnel(v4);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st, CheckTunnelConfig(v4));
  close(managed.socket_fd);
  EXPECT_TRUE(MustObserve().tunnels.empty());
}

TEST_P(DatapathContractTest, ManagedL2tpV2TunnelIsCarriedAndObservedAsCreatedOrRefusedSayingWhy) {
  const TunnelConfig t = ManagedTunnel(17, 2);
  ASSERT_GE(t.socket_fd, 0);
  ASSERT_TRUE(CheckTunnelConfig(t).ok());
  absl::Status st = dp_->CreateTunnel(t);
  if (GetParam().carries_l2tpv2) {
    ASSERT_TRUE(st.ok()) << st;
    Observation obs = MustObserve();
    ASSERT_EQ(obs.tunnels.size(), 1u);
    // Anything else would be replaced by the reconciler on every pass.
    EXPECT_EQ(obs.tunnels[0].config, t);
    EXPECT_EQ(obs.tunnels[0].config.version, 2u);
    EXPECT_TRUE(dp_->DeleteTunnel(17).ok());
  } else {
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    EXPECT_THAT(std::string(st.message()), HasSubstr("tunnel 17: version 2; the "));
    EXPECT_TRUE(MustObserve().tunnels.empty());
  }
  close(t.socket_fd);
}

TEST_P(DatapathContractTest, PppChannelOpensAPppSessionUntilDestroyedOrIsRefusedWithPppSupport) {
  const TunnelConfig t = ManagedTunnel(18, 3);
  ASSERT_GE(t.socket_fd, 0);
  SessionConfig s = Session(18, 180);
  s.interface_name.clear();
  s.cookie = {1, 2, 3, 4};
  s.peer_cookie = {5, 6, 7, 8};
  s.lns_mode = true;
  if (!dp_->PppSupport().ok()) {
    EXPECT_EQ(dp_->OpenPppChannel(t, s).status(), dp_->PppSupport());
    EXPECT_TRUE(MustObserve().sessions.empty());
  } else {
    auto missing = dp_->OpenPppChannel(t, s);
    EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
    ASSERT_TRUE(dp_->CreateTunnel(t).ok());
    auto channel = dp_->OpenPppChannel(t, s);
    ASSERT_TRUE(channel.ok()) << channel.status();
    EXPECT_GE((*channel)->fd(), 0);
    Observation obs = MustObserve();
    const ObservedSession* os = FindSession(obs, 18, 180);
    ASSERT_NE(os, nullptr);
    EXPECT_TRUE(os->ppp);
    EXPECT_EQ(os->config.peer_session_id, s.peer_session_id);
    EXPECT_EQ(os->config.cookie, s.cookie);
    EXPECT_EQ(os->config.peer_cookie, s.peer_cookie);
    EXPECT_TRUE(os->config.lns_mode);
    EXPECT_TRUE((*channel)->ReadCounters().ok());
    auto again = dp_->OpenPppChannel(t, s);
    EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
    channel->reset();
    bool gone = false;
    for (int k = 0; k < 150 && !gone; ++k) {
      gone = FindSession(MustObserve(), 18, 180) == nullptr;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(gone) << "destroying the channel must delete its session";
    EXPECT_EQ(MustObserve().tunnels.size(), 1u);
    EXPECT_TRUE(dp_->DeleteTunnel(18).ok());
  }
  close(t.socket_fd);
}

TEST_P(DatapathContractTest, DeleteMissingTunnelIsNotFound) {
  EXPECT_EQ(dp_->DeleteTunnel(4).code(), absl::StatusCode::kNotFound);
}

TEST_P(DatapathContractTest, SessionInMissingTunnelIsNotFound) {
  EXPECT_EQ(dp_->CreateSession(Session(5, 50)).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(MustObserve().sessions.empty());
}

TEST_P(DatapathContractTest, CreateSessionTwiceIsAlreadyExists) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(6)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(6, 60)).ok());
  EXPECT_EQ(dp_->CreateSession(Session(6, 60)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(MustObserve().sessions.size(), 1u);
}

TEST_P(DatapathContractTest, BadCookieLengthIsInvalidArgumentWithTheSharedMessage) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(7)).ok());
  SessionConfig bad = Session(7, 70);
  bad.cookie = {1, 2, 3};
  absl::Status st = dp_->CreateSession(bad);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr(std::string(CheckCookieLength("cookie", 3).message())));
  EXPECT_EQ(st, CheckSessionConfig(bad));

  SessionConfig bad_peer = Session(7, 71);
  bad_peer.peer_cookie = {1, 2, 3, 4, 5};
  st = dp_->CreateSession(bad_peer);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr(std::string(CheckCookieLength("peer_cookie", 5).message())));
  EXPECT_TRUE(MustObserve().sessions.empty());
}

TEST_P(DatapathContractTest, ZeroSessionIdsAreInvalidArgument) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(8)).ok());
  SessionConfig zero = Session(8, 80);
  zero.peer_session_id = 0;
  absl::Status st = dp_->CreateSession(zero);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st, CheckSessionConfig(zero));
  EXPECT_TRUE(MustObserve().sessions.empty());
}

TEST_P(DatapathContractTest, ModifyOfModifiableFieldsIsDoneAndObserved) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(9)).ok());
  SessionConfig s = Session(9, 90);
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  s.send_sequence = true;
  s.require_sequence = true;
  s.lns_mode = true;
  s.reorder_timeout_ms = 100;
  ASSERT_TRUE(SessionDiffersOnlyInModifiable(Session(9, 90), s));
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  Observation obs = MustObserve();
  const ObservedSession* os = FindSession(obs, 9, 90);
  ASSERT_NE(os, nullptr);
  EXPECT_TRUE(os->config.send_sequence);
  EXPECT_TRUE(os->config.require_sequence);
  EXPECT_TRUE(os->config.lns_mode);
  EXPECT_EQ(os->config.reorder_timeout_ms, 100u);

  // And back: zero values must be applied too.
  s = Session(9, 90);
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  obs = MustObserve();
  os = FindSession(obs, 9, 90);
  ASSERT_NE(os, nullptr);
  EXPECT_FALSE(os->config.send_sequence);
  EXPECT_FALSE(os->config.require_sequence);
  EXPECT_FALSE(os->config.lns_mode);
  EXPECT_EQ(os->config.reorder_timeout_ms, 0u);
}

TEST_P(DatapathContractTest, ModifyOfOtherFieldsIsRefusedWithTheSharedMessage) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(10)).ok());
  const SessionConfig s = Session(10, 100);
  ASSERT_TRUE(dp_->CreateSession(s).ok());

  SessionConfig peer = s;
  peer.peer_session_id = 7777;
  peer.send_sequence = true;  // allowed alone, but not with the rest
  absl::Status st = dp_->ModifySession(peer);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr(InPlaceChangeMessage()));

  SessionConfig cookie = s;
  cookie.cookie = {1, 2, 3, 4};
  st = dp_->ModifySession(cookie);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr(InPlaceChangeMessage()));

  Observation obs = MustObserve();
  const ObservedSession* os = FindSession(obs, 10, 100);
  ASSERT_NE(os, nullptr);
  EXPECT_EQ(os->config.peer_session_id, s.peer_session_id);
  EXPECT_FALSE(os->config.send_sequence) << "a refused modify must change nothing";
  EXPECT_TRUE(os->config.cookie.empty());
}

TEST_P(DatapathContractTest, ModifyOrDeleteOfMissingSessionIsNotFound) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(11)).ok());
  EXPECT_EQ(dp_->ModifySession(Session(11, 110)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(dp_->DeleteSession(11, 110).code(), absl::StatusCode::kNotFound);
}

TEST_P(DatapathContractTest, DeleteSessionRemovesItOnly) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(12)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(12, 120)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(12, 121)).ok());
  ASSERT_TRUE(dp_->DeleteSession(12, 120).ok());
  Observation obs = MustObserve();
  EXPECT_EQ(FindSession(obs, 12, 120), nullptr);
  EXPECT_NE(FindSession(obs, 12, 121), nullptr);
  EXPECT_EQ(obs.tunnels.size(), 1u);
}

TEST_P(DatapathContractTest, DeleteTunnelRemovesItsSessions) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(13)).ok());
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(14)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(13, 130)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(13, 131)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(14, 140)).ok());
  ASSERT_TRUE(dp_->DeleteTunnel(13).ok());
  Observation obs = MustObserve();
  ASSERT_EQ(obs.tunnels.size(), 1u);
  EXPECT_EQ(obs.tunnels[0].config.tunnel_id, 14u);
  ASSERT_EQ(obs.sessions.size(), 1u);
  EXPECT_EQ(obs.sessions[0].config.session_id, 140u);
  // The ids are free again at once.
  EXPECT_TRUE(dp_->CreateTunnel(Tunnel(13)).ok());
  EXPECT_TRUE(dp_->CreateSession(Session(13, 130)).ok());
}

TEST_P(DatapathContractTest, NoStrayInterfacesAndASessionsInterfaceIsNotOne) {
  ASSERT_TRUE(dp_->CreateTunnel(Tunnel(15)).ok());
  const SessionConfig s = Session(15, 150);
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  EXPECT_TRUE(MustObserve().stray_interfaces.empty());
  EXPECT_FALSE(dp_->RemoveStrayInterface(s.interface_name).ok());
  Observation obs = MustObserve();
  EXPECT_NE(FindSession(obs, 15, 150), nullptr);
}

TEST_P(DatapathContractTest, WatchExternalChangesIsSupportedOrSaysItIsNot) {
  std::atomic<int> calls{0};
  auto watch = dp_->WatchExternalChanges([&calls] { ++calls; });
  if (GetParam().reports_external_changes) {
    ASSERT_TRUE(watch.ok()) << watch.status();
    ASSERT_TRUE(dp_->CreateTunnel(Tunnel(16)).ok());
    ASSERT_TRUE(dp_->DeleteTunnel(16).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // notifications are asynchronous
    watch->reset();  // stops the calls; the datapath's own changes made none
    EXPECT_EQ(calls.load(), 0);
  } else {
    EXPECT_EQ(watch.status().code(), absl::StatusCode::kUnimplemented);
  }
}

// Linked into every test of this package by Bazel; only some instantiate it.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DatapathContractTest);

}  // namespace l2tp::contract_test
