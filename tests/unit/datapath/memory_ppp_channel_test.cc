// PPP channels (Datapath::OpenPppChannel) and L2TPv2 tunnels on the memory
// datapath: what agent-level unit tests run PPP calls on.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "datapath/contract.h"
#include "datapath/memory/memory_datapath.h"

namespace l2tp::memory {
namespace {

using ::testing::HasSubstr;

// A managed UDP tunnel (the fd is only a marker here: memory reads no sockets).
TunnelConfig Managed(uint32_t id, uint32_t version) {
  TunnelConfig t;
  t.tunnel_id = id;
  t.peer_tunnel_id = 100 + id;
  t.version = version;
  t.local = *IpAddress::Parse("192.0.2.1");
  t.remote = *IpAddress::Parse("192.0.2.2");
  t.udp_source_port = 1701;
  t.udp_destination_port = 1701;
  t.socket_fd = 99;
  return t;
}

SessionConfig Ppp(uint32_t tunnel, uint32_t id) {
  SessionConfig s;
  s.tunnel_id = tunnel;
  s.session_id = id;
  s.peer_session_id = 500 + id;
  s.send_sequence = true;
  s.lns_mode = true;
  return s;
}

const ObservedSession* Find(const Observation& o, uint32_t tunnel, uint32_t session) {
  for (const auto& s : o.sessions) {
    if (s.config.tunnel_id == tunnel && s.config.session_id == session) return &s;
  }
  return nullptr;
}

Observation MustObserve(Datapath& dp) {
  auto o = dp.Observe();
  EXPECT_TRUE(o.ok()) << o.status();
  return o.ok() ? *std::move(o) : Observation{};
}

class MemoryPpp : public ::testing::Test {
 protected:
  void SetUp() override { dp_.OfferPpp(true); }
  MemoryDatapath dp_;
};

TEST_F(MemoryPpp, ChannelOpensAPppSessionObservedAsSuchAndClosingDeletesIt) {
  const TunnelConfig t = Managed(1, 2);
  ASSERT_TRUE(dp_.CreateTunnel(t).ok());
  SessionConfig s = Ppp(1, 10);
  s.interface_name = "ignored";  // a PPP session has no interface of its own
  s.mtu = 1400;
  const int writes = dp_.writes();
  auto channel = dp_.OpenPppChannel(t, s);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(dp_.writes(), writes + 1);
  ASSERT_GE((*channel)->fd(), 0);
  EXPECT_NE(fcntl((*channel)->fd(), F_GETFD) & FD_CLOEXEC, 0);

  Observation o = MustObserve(dp_);
  const ObservedSession* os = Find(o, 1, 10);
  ASSERT_NE(os, nullptr);
  EXPECT_TRUE(os->ppp);
  EXPECT_EQ(os->config.peer_session_id, 510u);
  EXPECT_TRUE(os->config.send_sequence);
  EXPECT_TRUE(os->config.lns_mode);
  EXPECT_TRUE(os->config.interface_name.empty());
  EXPECT_FALSE(os->mtu_known);
  // The tunnel is observed as created: the reconciler keeps it.
  ASSERT_EQ(o.tunnels.size(), 1u);
  EXPECT_EQ(o.tunnels[0].config, t);

  Counters c;
  c.rx_packets = 7;
  c.tx_bytes = 300;
  dp_.SetSessionCounters(1, 10, c);
  auto read = (*channel)->ReadCounters();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, c);

  channel->reset();
  EXPECT_EQ(Find(MustObserve(dp_), 1, 10), nullptr) << "destroying the channel must delete its session";
  EXPECT_EQ(MustObserve(dp_).tunnels.size(), 1u);
}

TEST_F(MemoryPpp, TheChannelsFdsArePairedSeqpacketEnds) {
  ASSERT_TRUE(dp_.CreateTunnel(Managed(2, 3)).ok());
  auto channel = dp_.OpenPppChannel(Managed(2, 3), Ppp(2, 20));
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto* mem = dynamic_cast<MemoryPppChannel*>(channel->get());
  ASSERT_NE(mem, nullptr);
  int type = 0;
  socklen_t len = sizeof type;
  ASSERT_EQ(getsockopt(mem->fd(), SOL_SOCKET, SO_TYPE, &type, &len), 0);
  EXPECT_EQ(type, SOCK_SEQPACKET);
  const std::string frame = "\xc0\x21lcp";
  ASSERT_EQ(write(mem->peer_fd(), frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  char buf[64];
  ASSERT_EQ(read(mem->fd(), buf, sizeof buf), static_cast<ssize_t>(frame.size()));
  EXPECT_EQ(std::string(buf, frame.size()), frame);
}

TEST_F(MemoryPpp, MissingTunnelIsNotFoundAndAnExistingSessionAlreadyExists) {
  auto none = dp_.OpenPppChannel(Managed(3, 2), Ppp(3, 30));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound) << none.status();
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("3/30"));

  ASSERT_TRUE(dp_.CreateTunnel(Managed(3, 2)).ok());
  auto first = dp_.OpenPppChannel(Managed(3, 2), Ppp(3, 30));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = dp_.OpenPppChannel(Managed(3, 2), Ppp(3, 30));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();

  // An Ethernet session takes the ids too.
  ASSERT_TRUE(dp_.CreateTunnel(Managed(4, 3)).ok());
  SessionConfig eth = Ppp(4, 40);
  eth.interface_name = "l2tpeth40";
  ASSERT_TRUE(dp_.CreateSession(eth).ok());
  EXPECT_EQ(dp_.OpenPppChannel(Managed(4, 3), Ppp(4, 40)).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(MustObserve(dp_).sessions.size(), 2u);
}

TEST_F(MemoryPpp, SessionRulesAreTheContractsWithItsMessage) {
  const TunnelConfig v2 = Managed(5, 2), v3 = Managed(6, 3);
  ASSERT_TRUE(dp_.CreateTunnel(v2).ok());
  ASSERT_TRUE(dp_.CreateTunnel(v3).ok());

  SessionConfig wide = Ppp(5, 70000);
  absl::Status st = dp_.OpenPppChannel(v2, wide).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st, CheckPppSessionConfig(v2, wide));
  EXPECT_THAT(std::string(st.message()), HasSubstr("session_id 70000 does not fit L2TPv2's 16 bits"));
  EXPECT_TRUE(dp_.OpenPppChannel(v3, Ppp(6, 70000)).ok()) << "L2TPv3 ids are 32 bits";

  SessionConfig cookie = Ppp(5, 50);
  cookie.cookie = {1, 2, 3, 4};
  st = dp_.OpenPppChannel(v2, cookie).status();
  EXPECT_EQ(st, CheckPppSessionConfig(v2, cookie));
  EXPECT_THAT(std::string(st.message()), HasSubstr("cookie: L2TPv2 has no cookies"));

  SessionConfig bad_cookie = Ppp(6, 60);
  bad_cookie.peer_cookie = {1, 2, 3};
  st = dp_.OpenPppChannel(v3, bad_cookie).status();
  EXPECT_EQ(st, CheckSessionConfig(bad_cookie));

  SessionConfig zero = Ppp(5, 0);
  EXPECT_EQ(dp_.OpenPppChannel(v2, zero).status(), CheckSessionConfig(zero));

  // The session in another tunnel than the one named.
  st = dp_.OpenPppChannel(v3, Ppp(5, 51)).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("session 5/51: opened in tunnel 6"));

  // An unmanaged tunnel holds no PPP sessions.
  TunnelConfig unmanaged = v3;
  unmanaged.socket_fd = -1;
  st = dp_.OpenPppChannel(unmanaged, Ppp(6, 61)).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("managed tunnels"));

  // Only the v3 session of 70000 was opened (and closed again with its channel).
  EXPECT_TRUE(MustObserve(dp_).sessions.empty());
}

TEST_F(MemoryPpp, DeletedSessionIsNotTakenBackByItsOldChannel) {
  ASSERT_TRUE(dp_.CreateTunnel(Managed(7, 2)).ok());
  auto old_channel = dp_.OpenPppChannel(Managed(7, 2), Ppp(7, 70));
  ASSERT_TRUE(old_channel.ok()) << old_channel.status();
  ASSERT_TRUE(dp_.DeleteSession(7, 70).ok());
  auto counters = (*old_channel)->ReadCounters();
  EXPECT_EQ(counters.status().code(), absl::StatusCode::kNotFound) << counters.status();

  // The ids are free for a new channel; the old one's end leaves it alone.
  auto new_channel = dp_.OpenPppChannel(Managed(7, 2), Ppp(7, 70));
  ASSERT_TRUE(new_channel.ok()) << new_channel.status();
  old_channel->reset();
  const ObservedSession* os = Find(MustObserve(dp_), 7, 70);
  EXPECT_NE(os, nullptr) << "the old channel deleted the new channel's session";
  EXPECT_TRUE((*new_channel)->ReadCounters().ok());

  // Deleting the tunnel deletes the session under its channel too.
  ASSERT_TRUE(dp_.DeleteTunnel(7).ok());
  EXPECT_TRUE(MustObserve(dp_).sessions.empty());
  EXPECT_EQ((*new_channel)->ReadCounters().status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MemoryPpp, PppSessionsAreNotModifiedAndHaveNoInterfaceToClash) {
  ASSERT_TRUE(dp_.CreateTunnel(Managed(8, 3)).ok());
  auto channel = dp_.OpenPppChannel(Managed(8, 3), Ppp(8, 80));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(dp_.ModifySession(Ppp(8, 80)).code(), absl::StatusCode::kNotFound);
  // Two interfaceless PPP sessions and an Ethernet session all fit.
  EXPECT_TRUE(dp_.OpenPppChannel(Managed(8, 3), Ppp(8, 81)).ok());
  SessionConfig eth = Ppp(8, 82);
  eth.interface_name = "l2tpeth82";
  EXPECT_TRUE(dp_.CreateSession(eth).ok());
}

TEST_F(MemoryPpp, ChannelOutlivesTheDatapath) {
  auto dp = std::make_unique<MemoryDatapath>();
  dp->OfferPpp(true);
  ASSERT_TRUE(dp->CreateTunnel(Managed(9, 2)).ok());
  auto channel = dp->OpenPppChannel(Managed(9, 2), Ppp(9, 90));
  ASSERT_TRUE(channel.ok()) << channel.status();
  dp.reset();
  EXPECT_TRUE((*channel)->ReadCounters().ok());
  channel->reset();  // must not touch the destroyed datapath
}

TEST_F(MemoryPpp, FailedWriteOpensNothing) {
  ASSERT_TRUE(dp_.CreateTunnel(Managed(10, 3)).ok());
  dp_.FailNextWrites(1, absl::UnavailableError("injected"));
  EXPECT_EQ(dp_.OpenPppChannel(Managed(10, 3), Ppp(10, 100)).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(MustObserve(dp_).sessions.empty());
}

// ---- Without OfferPpp: no channels, no L2TPv2 tunnels.

TEST(MemoryWithoutPpp, RefusesChannelsWithPppSupportsReason) {
  MemoryDatapath dp;
  ASSERT_TRUE(dp.CreateTunnel(Managed(1, 3)).ok());
  auto channel = dp.OpenPppChannel(Managed(1, 3), Ppp(1, 10));
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(channel.status(), dp.PppSupport());
  EXPECT_TRUE(MustObserve(dp).sessions.empty());
}

TEST(MemoryWithoutPpp, RefusesL2tpV2TunnelsSayingWhy) {
  MemoryDatapath dp;
  const TunnelConfig v2 = Managed(1, 2);
  ASSERT_TRUE(CheckTunnelConfig(v2).ok());
  absl::Status st = dp.CreateTunnel(v2);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("tunnel 1: version 2; the memory datapath carries L2TPv3"));
  EXPECT_TRUE(MustObserve(dp).tunnels.empty());
}

TEST(MemoryL2tpV2, AcceptedOnlyManagedOverUdpWithOfferPpp) {
  MemoryDatapath dp;
  dp.OfferPpp(true);
  TunnelConfig unmanaged = Managed(1, 2);
  unmanaged.socket_fd = -1;
  absl::Status st = dp.CreateTunnel(unmanaged);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st, CheckTunnelConfig(unmanaged));
  TunnelConfig ip = Managed(1, 2);
  ip.encap = Encap::kIp;
  st = dp.CreateTunnel(ip);
  EXPECT_EQ(st, CheckTunnelConfig(ip));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  TunnelConfig wide = Managed(70000, 2);
  st = dp.CreateTunnel(wide);
  EXPECT_EQ(st, CheckTunnelConfig(wide));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(MustObserve(dp).tunnels.empty());
  EXPECT_TRUE(dp.CreateTunnel(Managed(1, 2)).ok());
}

// ---- The contract's L2TPv2 rule itself (datapath/contract.h).

TEST(ContractL2tpV2, ManagedUdpWith16BitIdsOnly) {
  TunnelConfig t = Managed(65535, 2);
  t.peer_tunnel_id = 65535;
  EXPECT_TRUE(CheckTunnelConfig(t).ok());
  t = Managed(1, 2);
  t.socket_fd = -1;
  EXPECT_EQ(CheckTunnelConfig(t).message(),
            "tunnel 1: L2TPv2 tunnels are managed only (DYNAMIC, on the control plane's socket_fd)");
  t = Managed(1, 2);
  t.encap = Encap::kIp;
  EXPECT_EQ(CheckTunnelConfig(t).message(), "tunnel 1: L2TPv2 runs over UDP only");
  t = Managed(1, 2);
  t.peer_tunnel_id = 65536;
  EXPECT_EQ(CheckTunnelConfig(t).message(),
            "tunnel 1: peer_tunnel_id 65536 does not fit L2TPv2's 16 bits (at most 65535)");
  t = Managed(65536, 2);
  t.peer_tunnel_id = 1;
  EXPECT_EQ(CheckTunnelConfig(t).message(),
            "tunnel 65536: tunnel_id 65536 does not fit L2TPv2's 16 bits (at most 65535)");
  t = Managed(0, 2);
  EXPECT_EQ(CheckTunnelConfig(t).message(), "tunnel 0: tunnel ids must be non-zero");
  t = Managed(1, 4);
  EXPECT_EQ(CheckTunnelConfig(t).message(), "tunnel 1: version 4; L2TP versions are 2 and 3");
  // L2TPv3 keeps its 32-bit ids, managed or not, over UDP or IP.
  t = Managed(70000, 3);
  t.encap = Encap::kIp;
  t.socket_fd = -1;
  EXPECT_TRUE(CheckTunnelConfig(t).ok());
}

}  // namespace
}  // namespace l2tp::memory
