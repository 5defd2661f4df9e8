// The receive path end to end, in a private network namespace: TCP segments
// sent into a tunnel must come out of the session's TAP whole and in order
// however the coalescers merged them (payload pointed to in the receive
// buffers, not copied), over IPv4 (inner checksums verified by the
// coalescers) and IPv6 (verified by the kernel's outer UDP checksum), in
// both I/O modes. Bursts far longer than the io_uring ring (128 buffers)
// show held buffers come back after every batch; sessions deleted while
// traffic flows must not keep any (the tunnel receives on). Needs
// CAP_NET_ADMIN (skipped without it).
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "datapath/userspace/userspace_datapath.h"
#include "tests/unit/datapath/private_netns.h"
#include "tests/unit/datapath/rx_frames.h"

namespace l2tp::userspace {
namespace {

using namespace rx_frames;  // NOLINT: test helpers

using private_netns::g_in_private_netns;

// No IPv6 on the TAPs (lo keeps ::1): nothing of their own on the wire.
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(
    new private_netns::Environment({private_netns::kIpv6OffNewLinks}));

constexpr uint32_t kSession = 0x10;

TunnelConfig Tunnel(bool v6) {
  TunnelConfig t;
  t.tunnel_id = 1;
  t.peer_tunnel_id = 101;
  t.encap = Encap::kUdp;
  t.local = *IpAddress::Parse(v6 ? "::1" : "127.0.0.1");
  t.remote = *IpAddress::Parse(v6 ? "::1" : "127.0.0.2");
  t.udp_source_port = 17001;
  t.udp_destination_port = 18001;
  return t;
}

SessionConfig Session(const std::string& ifname) {
  SessionConfig s;
  s.tunnel_id = 1;
  s.session_id = kSession;
  s.peer_session_id = 0x20;
  s.interface_name = ifname;
  return s;
}

// The tunnel's far end: sends L2TPv3 data packets (UDP, default sublayer).
class Peer {
 public:
  explicit Peer(const TunnelConfig& t) {
    sockaddr_storage local, remote;
    fd_ = socket(t.local.family, SOCK_DGRAM, 0);
    socklen_t ll = t.remote.ToSockaddr(t.udp_destination_port, &local);
    socklen_t rl = t.local.ToSockaddr(t.udp_source_port, &remote);
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&local), ll) == 0 &&
          connect(fd_, reinterpret_cast<sockaddr*>(&remote), rl) == 0;
  }
  ~Peer() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }
  void Send(const std::vector<uint8_t>& frame) {
    std::vector<uint8_t> p = {0, 3, 0, 0, 0, 0, 0, kSession, 0, 0, 0, 0};
    p.insert(p.end(), frame.begin(), frame.end());
    // Loopback can run out of socket buffer under a burst: wait, not lose.
    while (send(fd_, p.data(), p.size(), 0) < 0 && errno == ENOBUFS) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// The TCP payload arriving on a TAP (written by the datapath), by sequence
// number; GSO super-frames arrive whole.
class Capture {
 public:
  explicit Capture(const std::string& ifname) {
    fd_ = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
    int big = 8 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll);
  }
  ~Capture() { close(fd_); }
  // Collects until `bytes` of payload arrived (or 5 s passed).
  std::map<uint32_t, std::vector<uint8_t>> Collect(size_t bytes) {
    std::map<uint32_t, std::vector<uint8_t>> got;
    size_t total = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::vector<uint8_t> buf(1 << 17);
    while (total < bytes && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n <= 0) continue;
      std::vector<uint8_t> f(buf.begin(), buf.begin() + n);
      if (f.size() < kEth + 40 || Be16(f, 12) != 0x0800 || Protocol(f) != 6) continue;
      uint32_t seq = uint32_t(f[L4(f) + 4]) << 24 | uint32_t(f[L4(f) + 5]) << 16 | f[L4(f) + 6] << 8 |
                     f[L4(f) + 7];
      std::vector<uint8_t> payload(f.begin() + static_cast<ptrdiff_t>(Headers(f)), f.end());
      total += payload.size();
      got[seq] = std::move(payload);
    }
    return got;
  }

 private:
  int fd_ = -1;
};

// Sends `segments` TCP segments of `mss` bytes from sequence number `seq`
// (one flow, valid checksums) and checks their payload arrives in full.
void SendAndExpect(Peer& peer, Capture& capture, uint32_t seq, size_t segments, size_t mss) {
  std::vector<uint8_t> all;
  for (size_t i = 0; i < segments; ++i) {
    std::vector<uint8_t> payload = Payload(mss, uint8_t(seq + i));
    peer.Send(MakeTcp(false, seq + uint32_t(i * mss), payload, 0x10, uint16_t(i)));
    all.insert(all.end(), payload.begin(), payload.end());
  }
  auto got = capture.Collect(all.size());
  std::vector<uint8_t> joined;
  uint32_t next = seq;
  for (const auto& [s, payload] : got) {
    ASSERT_EQ(s, next) << "a gap in the payload";
    joined.insert(joined.end(), payload.begin(), payload.end());
    next += uint32_t(payload.size());
  }
  EXPECT_EQ(joined, all);
}

using Case = std::tuple<IoMode, bool>;  // I/O mode, IPv6 underlay

class RxPathTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!g_in_private_netns) GTEST_SKIP() << "needs CAP_NET_ADMIN and /dev/net/tun";
    auto [mode, v6] = GetParam();
    auto dp = UserspaceDatapath::Create(1, mode);
    if (mode == IoMode::kUring && !dp.ok()) GTEST_SKIP() << "no io_uring here: " << dp.status();
    ASSERT_TRUE(dp.ok()) << dp.status();
    dp_ = std::move(*dp);
    tunnel_ = Tunnel(v6);
    ASSERT_TRUE(dp_->CreateTunnel(tunnel_).ok());
  }
  void TearDown() override {
    if (dp_) dp_->DeleteTunnel(1).IgnoreError();
  }
  uint64_t RxPackets() {
    auto obs = dp_->Observe();
    if (!obs.ok()) return 0;
    for (const auto& s : obs->sessions) {
      if (s.config.session_id == kSession) return s.counters.rx_packets;
    }
    return 0;
  }

  std::unique_ptr<UserspaceDatapath> dp_;
  TunnelConfig tunnel_;
};

TEST_P(RxPathTest, LongBurstsArriveWholeAndInOrder) {
  ASSERT_TRUE(dp_->CreateSession(Session("usrx0")).ok());
  Peer peer(tunnel_);
  ASSERT_TRUE(peer.ok());
  Capture capture("usrx0");
  for (int round = 0; round < 3; ++round) {
    SendAndExpect(peer, capture, 1000000u * uint32_t(round + 1), 400, 1200);
  }
  EXPECT_EQ(RxPackets(), 1200u);
}

TEST_P(RxPathTest, SessionsDeletedDuringTrafficLeaveTheRingWhole) {
  Peer peer(tunnel_);
  ASSERT_TRUE(peer.ok());
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(dp_->CreateSession(Session("usrx1")).ok());
    std::thread blast([&] {
      for (uint32_t i = 0; i < 600; ++i) peer.Send(MakeTcp(false, i * 1000, Payload(1000, uint8_t(i))));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + round));
    ASSERT_TRUE(dp_->DeleteSession(1, kSession).ok());
    blast.join();
  }
  // Whatever the deleted sessions held went back: a new one gets it all.
  ASSERT_TRUE(dp_->CreateSession(Session("usrx1")).ok());
  Capture capture("usrx1");
  SendAndExpect(peer, capture, 5000, 500, 1000);
}

INSTANTIATE_TEST_SUITE_P(Modes, RxPathTest,
                         ::testing::Combine(::testing::Values(IoMode::kUring, IoMode::kEpoll),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) == IoMode::kUring ? "io_uring"
                                                                                        : "epoll") +
                                  (std::get<1>(info.param) ? "_ipv6" : "_ipv4");
                         });

}  // namespace
}  // namespace l2tp::userspace
