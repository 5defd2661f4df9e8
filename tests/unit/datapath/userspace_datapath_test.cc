// UserspaceDatapath end to end inside a private network namespace: control
// semantics (ids, errors, TAP lifecycle) and the packet path against a test
// peer socket on loopback. Needs CAP_NET_ADMIN (skipped without it).
#include "datapath/userspace/userspace_datapath.h"

#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/seccomp.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "datapath/userspace/flow_hash.h"
#include "datapath/userspace/tunnel_socket.h"
#include "tests/unit/datapath/private_netns.h"

namespace l2tp::userspace {
namespace {

// Ethertype reserved for local experiments: nothing else on the TAP uses it.
constexpr uint16_t kTestEthertype = 0x88b5;

using private_netns::g_in_private_netns;

// No IPv6 on new links: no router solicitations or MLD reports on the
// TAPs to interleave with (and take sequence numbers from) test frames.
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(
    new private_netns::Environment({private_netns::kIpv6OffAllLinks, private_netns::kIpv6OffNewLinks}));

std::vector<uint8_t> Hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// dst 02:00:00:00:00:02, src 02:00:00:00:00:01, test ethertype, payload.
std::vector<uint8_t> TestFrame(uint8_t tag) {
  auto f = Hex("020000000002020000000001");
  f.push_back(kTestEthertype >> 8);
  f.push_back(kTestEthertype & 0xff);
  for (int i = 0; i < 46; ++i) f.push_back(tag);
  return f;
}

TunnelConfig UdpTunnel(uint32_t id = 1) {
  TunnelConfig t;
  t.tunnel_id = id;
  t.peer_tunnel_id = 100 + id;
  t.encap = Encap::kUdp;
  t.local = *IpAddress::Parse("127.0.0.1");
  t.remote = *IpAddress::Parse("127.0.0.2");
  t.udp_source_port = 17000 + id;
  t.udp_destination_port = 18000 + id;
  return t;
}

SessionConfig Session(uint32_t tunnel_id, uint32_t session_id, const std::string& ifname) {
  SessionConfig s;
  s.tunnel_id = tunnel_id;
  s.session_id = session_id;
  s.peer_session_id = session_id + 1000;
  s.interface_name = ifname;
  return s;
}

int IfMtu(const std::string& name) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  int mtu = ioctl(s, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : -1;
  close(s);
  return mtu;
}

bool IfUp(const std::string& name) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  bool up = ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
  close(s);
  return up;
}

// The far end of a tunnel: a plain socket we write packets with.
class Peer {
 public:
  Peer(Encap encap, const TunnelConfig& t) : encap_(encap) {
    sockaddr_storage local, remote;
    bool udp = encap == Encap::kUdp;
    fd_ = udp ? socket(AF_INET, SOCK_DGRAM, 0) : socket(AF_INET, SOCK_RAW, kIpProtoL2tp);
    socklen_t ll = t.remote.ToSockaddr(udp ? t.udp_destination_port : 0, &local);
    socklen_t rl = t.local.ToSockaddr(udp ? t.udp_source_port : 0, &remote);
    // Room for a burst read only after it was sent (small datagrams cost
    // about 1 KiB each of the default 208 KiB).
    const int buffer = 4 << 20;
    if (fd_ >= 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&local), ll) == 0 &&
          connect(fd_, reinterpret_cast<sockaddr*>(&remote), rl) == 0;
  }
  ~Peer() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }
  void Send(const std::vector<uint8_t>& packet) {
    ASSERT_EQ(send(fd_, packet.data(), packet.size(), 0), static_cast<ssize_t>(packet.size()));
  }
  // UDP only: equal-length packets in one UDP GSO send, which the tunnel's
  // socket (UDP GRO) receives as one datagram, so in one receive batch.
  void SendGso(const std::vector<std::vector<uint8_t>>& packets) {
    std::vector<uint8_t> all;
    for (const auto& p : packets) all.insert(all.end(), p.begin(), p.end());
    iovec iov{all.data(), all.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = IPPROTO_UDP;
    cm->cmsg_type = 103;  // UDP_SEGMENT
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    const uint16_t segment = static_cast<uint16_t>(packets.at(0).size());
    std::memcpy(CMSG_DATA(cm), &segment, sizeof segment);
    ASSERT_EQ(sendmsg(fd_, &msg, 0), static_cast<ssize_t>(all.size())) << strerror(errno);
  }
  // Next L2TP packet (IP header stripped) whose payload carries the test
  // ethertype at `ethertype_offset`; other traffic from the TAP is skipped.
  std::vector<uint8_t> ReceiveTest(size_t ethertype_offset) {
    return ReceiveMatching([&](const std::vector<uint8_t>& buf) {
      size_t at = ethertype_offset + 12;
      return buf.size() > at + 1 && (buf[at] << 8 | buf[at + 1]) == kTestEthertype;
    });
  }
  // Next L2TP packet (IP header stripped) that `want` accepts; empty after 3 s.
  std::vector<uint8_t> ReceiveMatching(std::function<bool(const std::vector<uint8_t>&)> want) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      std::vector<uint8_t> buf(65536);
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n <= 0) continue;
      buf.resize(n);
      if (encap_ == Encap::kIp) buf.erase(buf.begin(), buf.begin() + (buf[0] & 0x0f) * 4);
      if (want(buf)) return buf;
    }
    return {};
  }

 private:
  Encap encap_;
  int fd_ = -1;
  bool ok_ = false;
};

// Sends `frame` out of interface `ifname`: the TAP's reader (the datapath) gets it.
// A TAP left by an earlier test case (the datapath leaves its devices in
// place) has no carrier until the new datapath attaches; the kernel then
// turns its queue back on asynchronously (linkwatch), and until it has, a
// frame sent on the device is dropped silently. The same work moves
// operstate off "down", so wait for that (bounded). Asked with an ioctl
// (IFF_RUNNING is the operstate being up), which sees this test's network
// namespace; /sys/class/net shows the namespace sysfs was mounted in.
void WaitUntilTransmitting(const std::string& ifname) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  while (s >= 0 && std::chrono::steady_clock::now() < deadline) {
    ifreq r{};
    std::strncpy(r.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_RUNNING)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (s >= 0) close(s);
}

void SendOnInterface(const std::string& ifname, const std::vector<uint8_t>& frame) {
  WaitUntilTransmitting(ifname);
  int s = socket(AF_PACKET, SOCK_RAW, 0);
  ASSERT_GE(s, 0);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  sll.sll_halen = 6;
  ASSERT_EQ(sendto(s, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&sll), sizeof sll),
            static_cast<ssize_t>(frame.size()));
  close(s);
}

// Captures frames arriving on `ifname` (i.e. written to the TAP by the datapath).
class Capture {
 public:
  explicit Capture(const std::string& ifname, uint16_t ethertype = kTestEthertype) {
    fd_ = socket(AF_PACKET, SOCK_RAW, htons(ethertype));
    int buffer = 4 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ethertype);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll);
  }
  ~Capture() { close(fd_); }
  std::vector<uint8_t> Next() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 3000) <= 0) return {};
    std::vector<uint8_t> buf(65536);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? n : 0);
    return buf;
  }

 private:
  int fd_ = -1;
};

std::string ModeName(IoMode mode) { return mode == IoMode::kUring ? "io_uring" : "epoll"; }

// Every case runs with both ways of doing I/O (io_loop.h).
class DatapathFixture : public ::testing::Test {
 protected:
  void Start(IoMode mode) {
    if (!g_in_private_netns) GTEST_SKIP() << "needs CAP_NET_ADMIN and /dev/net/tun";
    auto dp = UserspaceDatapath::Create(2, mode);
    if (mode == IoMode::kUring && !dp.ok()) {
      GTEST_SKIP() << "this kernel's io_uring cannot run the TAP path: " << dp.status();
    }
    ASSERT_TRUE(dp.ok()) << dp.status();
    dp_ = std::move(*dp);
    ASSERT_EQ(dp_->io(), ModeName(mode));
  }

  Observation Observe() {
    auto obs = dp_->Observe();
    EXPECT_TRUE(obs.ok());
    return obs.ok() ? *obs : Observation{};
  }
  // Waits (bounded) until the session's counters satisfy `pred`.
  Counters WaitSession(uint32_t tid, uint32_t sid, std::function<bool(const Counters&)> pred) {
    Counters last;
    for (int i = 0; i < 200; ++i) {
      for (const auto& s : Observe().sessions) {
        if (s.config.tunnel_id == tid && s.config.session_id == sid) last = s.counters;
      }
      if (pred(last)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return last;
  }
  Counters WaitTunnel(uint32_t tid, std::function<bool(const Counters&)> pred) {
    Counters last;
    for (int i = 0; i < 200; ++i) {
      for (const auto& t : Observe().tunnels) {
        if (t.config.tunnel_id == tid) last = t.counters;
      }
      if (pred(last)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return last;
  }

  std::unique_ptr<UserspaceDatapath> dp_;
};

// What the spreading cases start from: a UDP tunnel with its far end, and
// session 0x10 on a new TAP.
struct SpreadCase {
  TunnelConfig tunnel;
  std::optional<Peer> peer;
  SessionConfig session;
};

class UserspaceDatapathTest : public DatapathFixture, public ::testing::WithParamInterface<IoMode> {
 protected:
  void SetUp() override { Start(GetParam()); }

  // Creates c's tunnel `tid`, its peer and the session on `ifname`, which
  // `adjust` may change first; skips where the TAP cannot be spread.
  void OpenSpreadCase(SpreadCase& c, uint32_t tid, const std::string& ifname, bool lns_mode,
                      std::function<void(SessionConfig&)> adjust = nullptr) {
    if (!dp_->spreads_tx()) GTEST_SKIP() << "no TAP steering program here (needs CAP_BPF)";
    c.tunnel = UdpTunnel(tid);
    ASSERT_TRUE(dp_->CreateTunnel(c.tunnel).ok());
    c.peer.emplace(Encap::kUdp, c.tunnel);
    ASSERT_TRUE(c.peer->ok());
    c.session = Session(tid, 0x10, ifname);
    c.session.lns_mode = lns_mode;
    if (adjust) adjust(c.session);
    ASSERT_TRUE(dp_->CreateSession(c.session).ok());
  }
};
INSTANTIATE_TEST_SUITE_P(Io, UserspaceDatapathTest, ::testing::Values(IoMode::kUring, IoMode::kEpoll),
                         [](const auto& info) { return ModeName(info.param); });

TEST_P(UserspaceDatapathTest, ControlErrorsMatchTheKernelsRules) {
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(dp_->CreateTunnel(UdpTunnel(1))));
  EXPECT_TRUE(absl::IsNotFound(dp_->DeleteTunnel(9)));
  EXPECT_TRUE(absl::IsNotFound(dp_->CreateSession(Session(9, 1, "usdp0"))));
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(dp_->CreateSession(Session(1, 1, "usdp1"))));
  EXPECT_TRUE(absl::IsAlreadyExists(dp_->CreateSession(Session(1, 2, "usdp0"))));
  SessionConfig bad_cookie = Session(1, 3, "usdp3");
  bad_cookie.cookie = {1, 2, 3};
  EXPECT_TRUE(absl::IsInvalidArgument(dp_->CreateSession(bad_cookie)));
  SessionConfig renamed = Session(1, 1, "usdp9");
  EXPECT_TRUE(absl::IsInvalidArgument(dp_->ModifySession(renamed)));
  EXPECT_TRUE(absl::IsNotFound(dp_->ModifySession(Session(1, 7, "usdp0"))));
  EXPECT_TRUE(absl::IsNotFound(dp_->DeleteSession(1, 7)));
  EXPECT_TRUE(absl::IsNotFound(dp_->DeleteSession(9, 1)));
  TunnelConfig v2 = UdpTunnel(5);
  v2.version = 2;
  EXPECT_TRUE(absl::IsInvalidArgument(dp_->CreateTunnel(v2)));
}

TEST_P(UserspaceDatapathTest, IpEncapSessionIdsAreUniquePerNamespace) {
  TunnelConfig ip = UdpTunnel(2);
  ip.encap = Encap::kIp;
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  ASSERT_TRUE(dp_->CreateTunnel(ip).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 5, "usdp0")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(dp_->CreateSession(Session(2, 5, "usdp1"))));
  EXPECT_TRUE(dp_->CreateSession(Session(2, 6, "usdp1")).ok());
  // UDP tunnels only need per-tunnel uniqueness.
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(3)).ok());
  EXPECT_TRUE(dp_->CreateSession(Session(3, 5, "usdp2")).ok());
}

TEST_P(UserspaceDatapathTest, ObserveModifyDeleteLifecycle) {
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  SessionConfig s = Session(1, 1, "usdp0");
  s.cookie = {1, 2, 3, 4};
  s.peer_cookie = {5, 6, 7, 8, 9, 10, 11, 12};
  s.mtu = 1400;
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  EXPECT_EQ(IfMtu("usdp0"), 1400);
  EXPECT_TRUE(IfUp("usdp0"));

  Observation obs = Observe();
  ASSERT_EQ(obs.tunnels.size(), 1u);
  EXPECT_EQ(obs.tunnels[0].config, UdpTunnel(1));
  ASSERT_EQ(obs.sessions.size(), 1u);
  EXPECT_EQ(obs.sessions[0].config, s);

  s.send_sequence = true;
  s.reorder_timeout_ms = 50;
  s.mtu = 1300;
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  EXPECT_EQ(IfMtu("usdp0"), 1300);
  EXPECT_EQ(Observe().sessions.at(0).config, s);

  ASSERT_TRUE(dp_->DeleteSession(1, 1).ok());
  EXPECT_EQ(if_nametoindex("usdp0"), 0u);  // TAP removed
  ASSERT_TRUE(dp_->CreateSession(Session(1, 2, "usdp1")).ok());
  ASSERT_TRUE(dp_->DeleteTunnel(1).ok());
  EXPECT_EQ(if_nametoindex("usdp1"), 0u);  // sessions die with their tunnel
  EXPECT_TRUE(Observe().sessions.empty());
}

// An underlay of a chosen MTU: the veth usdpu0 holds the tunnels' local
// addresses (10.77.0.1, fd77::1) and reaches their remotes, on-link at its
// own MTU (10.77.0.0/24, fd77::/64) or through a route that sets 1400
// (10.78.0.0/24, fd78::/64). Nothing answers there: the MTU is the route's.
class Underlay {
 public:
  explicit Underlay(int mtu) {
    system("ip link del usdpu0 2>/dev/null");  // left by a failed run
    ok_ = Run("ip link add usdpu0 mtu " + std::to_string(mtu) + " type veth peer name usdpu1") &&
          Run("echo 0 >/proc/sys/net/ipv6/conf/usdpu0/disable_ipv6") && Run("ip link set usdpu1 up") &&
          Run("ip link set usdpu0 up") && Run("ip addr add 10.77.0.1/24 dev usdpu0") &&
          Run("ip -6 addr add fd77::1/64 dev usdpu0 nodad") &&
          Run("ip route add 10.78.0.0/24 dev usdpu0 mtu 1400") &&
          Run("ip -6 route add fd78::/64 dev usdpu0 mtu 1400");
  }
  ~Underlay() { system("ip link del usdpu0 2>/dev/null"); }
  bool ok() const { return ok_; }
  bool SetMtu(int mtu) {
    return Run("ip link set usdpu1 mtu " + std::to_string(mtu)) &&
           Run("ip link set usdpu0 mtu " + std::to_string(mtu));
  }

 private:
  static bool Run(const std::string& command) { return system(command.c_str()) == 0; }
  bool ok_ = false;
};

TunnelConfig UnderlayTunnel(uint32_t id, bool ipv6, Encap encap, const char* remote) {
  TunnelConfig t = UdpTunnel(id);
  t.encap = encap;
  t.local = *IpAddress::Parse(ipv6 ? "fd77::1" : "10.77.0.1");
  t.remote = *IpAddress::Parse(remote);
  return t;
}

// Worked out here by hand, not by encap_overhead.h: outer IP, UDP and its
// L2TPv3 flags word, session id, cookie, sublayer, inner Ethernet header.
uint32_t Overhead(bool ipv6, Encap encap, size_t cookie, L2Spec l2spec) {
  return (ipv6 ? 40 : 20) + (encap == Encap::kUdp ? 8 + 4 : 0) + 4 + static_cast<uint32_t>(cookie) +
         (l2spec == L2Spec::kDefault ? 4 : 0) + 14;
}

const ObservedSession* FindObserved(const Observation& obs, uint32_t tunnel_id, uint32_t session_id) {
  for (const auto& s : obs.sessions) {
    if (s.config.tunnel_id == tunnel_id && s.config.session_id == session_id) return &s;
  }
  return nullptr;
}

// An unset MTU is the underlay's less the exact overhead, for every variant.
TEST_P(UserspaceDatapathTest, UnsetMtuIsTheUnderlaysLessTheOverhead) {
  Underlay underlay(1500);
  ASSERT_TRUE(underlay.ok());
  uint32_t tid = 0, sid = 0;
  for (bool ipv6 : {false, true}) {
    for (Encap encap : {Encap::kUdp, Encap::kIp}) {
      ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(++tid, ipv6, encap, ipv6 ? "fd77::2" : "10.77.0.2")).ok());
      for (size_t cookie : {0, 4, 8}) {
        for (L2Spec l2spec : {L2Spec::kDefault, L2Spec::kNone}) {
          const std::string what = std::string(ipv6 ? "ipv6" : "ipv4") +
                                   (encap == Encap::kUdp ? "/udp" : "/ip") + "/cookie " +
                                   std::to_string(cookie) + (l2spec == L2Spec::kNone ? "/no sublayer" : "");
          ++sid;
          SessionConfig s = Session(tid, sid, "usdpm" + std::to_string(sid));
          s.cookie.assign(cookie, 0x5a);
          s.l2spec = l2spec;
          ASSERT_TRUE(dp_->CreateSession(s).ok()) << what;
          EXPECT_EQ(IfMtu(s.interface_name), static_cast<int>(1500 - Overhead(ipv6, encap, cookie, l2spec)))
              << what;
          const Observation obs = Observe();
          const ObservedSession* o = FindObserved(obs, tid, sid);
          ASSERT_NE(o, nullptr) << what;
          EXPECT_EQ(o->config.mtu, 0u) << what;  // as asked: the spec compares equal
          EXPECT_EQ(o->underlay_mtu, 1500u) << what;
          EXPECT_EQ(o->fragmenting_bytes, 0u) << what;
        }
      }
    }
  }
  for (uint32_t t = 1; t <= tid; ++t) EXPECT_TRUE(dp_->DeleteTunnel(t).ok());
}

// The route's MTU counts where it is below the device's. After a change of
// the underlay a right-sized TAP is observed with its MTU (no longer what
// mtu 0 asks for), and modifying it with mtu 0 sizes it again.
TEST_P(UserspaceDatapathTest, UnsetMtuFollowsTheRouteAndItsChanges) {
  Underlay underlay(1500);
  ASSERT_TRUE(underlay.ok());
  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(1, false, Encap::kUdp, "10.78.0.2")).ok());
  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(2, true, Encap::kIp, "fd78::2")).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdpm1")).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(2, 2, "usdpm2")).ok());
  EXPECT_EQ(IfMtu("usdpm1"), 1400 - 54);
  EXPECT_EQ(IfMtu("usdpm2"), 1400 - 62);
  EXPECT_EQ(FindObserved(Observe(), 1, 1)->underlay_mtu, 1400u);

  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(3, false, Encap::kUdp, "10.77.0.2")).ok());
  SessionConfig s = Session(3, 3, "usdpm3");
  SessionConfig set = Session(3, 4, "usdpm4");
  set.mtu = 1300;
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  ASSERT_TRUE(dp_->CreateSession(set).ok());
  EXPECT_EQ(IfMtu("usdpm3"), 1446);
  ASSERT_TRUE(underlay.SetMtu(9000));
  Observation obs = Observe();
  EXPECT_EQ(FindObserved(obs, 3, 3)->underlay_mtu, 9000u);
  EXPECT_EQ(FindObserved(obs, 3, 3)->config.mtu, 1446u);  // not right-sized any more
  EXPECT_EQ(FindObserved(obs, 3, 4)->config, set);        // a set MTU is what it is
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  EXPECT_EQ(IfMtu("usdpm3"), 9000 - 54);
  set.mtu = 0;  // unset: sized for the underlay as it is now
  ASSERT_TRUE(dp_->ModifySession(set).ok());
  EXPECT_EQ(IfMtu("usdpm4"), 9000 - 54);
  obs = Observe();
  EXPECT_EQ(FindObserved(obs, 3, 3)->config, s);
  EXPECT_EQ(FindObserved(obs, 3, 4)->config, set);
  for (uint32_t t = 1; t <= 3; ++t) EXPECT_TRUE(dp_->DeleteTunnel(t).ok());
}

// A set MTU that does not fit is taken, as Linux takes it, and the
// observation says by how much every full-size frame is over.
TEST_P(UserspaceDatapathTest, OversizedMtuIsAcceptedAndReported) {
  Underlay underlay(1500);
  ASSERT_TRUE(underlay.ok());
  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(1, false, Encap::kUdp, "10.77.0.2")).ok());
  ASSERT_TRUE(dp_->CreateTunnel(UnderlayTunnel(2, true, Encap::kUdp, "fd78::2")).ok());
  SessionConfig s = Session(1, 1, "usdpm1");
  s.cookie = {1, 2, 3, 4};
  s.mtu = 1450;  // issue 15's: 1450 + 58 is 8 bytes over 1500
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  EXPECT_EQ(IfMtu("usdpm1"), 1450);
  SessionConfig v6 = Session(2, 2, "usdpm2");
  v6.mtu = 1400;  // 1400 + 74 over a route of 1400
  ASSERT_TRUE(dp_->CreateSession(v6).ok());
  Observation obs = Observe();
  ASSERT_NE(FindObserved(obs, 1, 1), nullptr);
  EXPECT_EQ(FindObserved(obs, 1, 1)->config, s);
  EXPECT_EQ(FindObserved(obs, 1, 1)->underlay_mtu, 1500u);
  EXPECT_EQ(FindObserved(obs, 1, 1)->fragmenting_bytes, 8u);
  EXPECT_EQ(FindObserved(obs, 2, 2)->underlay_mtu, 1400u);
  EXPECT_EQ(FindObserved(obs, 2, 2)->fragmenting_bytes, 74u);

  s.mtu = 1442;  // fits exactly
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  EXPECT_EQ(FindObserved(Observe(), 1, 1)->fragmenting_bytes, 0u);
  s.mtu = 9000;
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  EXPECT_EQ(IfMtu("usdpm1"), 9000);
  EXPECT_EQ(FindObserved(Observe(), 1, 1)->fragmenting_bytes, 9000u + 58 - 1500);
  ASSERT_TRUE(underlay.SetMtu(9000 + 58));  // the underlay grows: the same MTU now just fits
  EXPECT_EQ(FindObserved(Observe(), 1, 1)->fragmenting_bytes, 0u);
  EXPECT_TRUE(dp_->DeleteTunnel(1).ok());
  EXPECT_TRUE(dp_->DeleteTunnel(2).ok());
}

TEST_P(UserspaceDatapathTest, TapDeletedBehindOurBackIsDropped) {
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  ASSERT_EQ(system("ip link del usdp0"), 0);
  EXPECT_TRUE(Observe().sessions.empty());
  EXPECT_EQ(Observe().tunnels.size(), 1u);
  // The agent's repair: create it again.
  EXPECT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  EXPECT_NE(if_nametoindex("usdp0"), 0u);
}

TEST_P(UserspaceDatapathTest, PersistentTapIsReattachedAfterRestart) {
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  unsigned index = if_nametoindex("usdp0");
  ASSERT_EQ(system("ip addr add 10.200.0.1/24 dev usdp0"), 0);
  dp_.reset();  // agent stops: the TAP stays, with what users put on it
  EXPECT_EQ(if_nametoindex("usdp0"), index);

  auto dp = UserspaceDatapath::Create(1, GetParam());
  ASSERT_TRUE(dp.ok());
  dp_ = std::move(*dp);
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdp0")).ok());
  EXPECT_EQ(if_nametoindex("usdp0"), index);
  EXPECT_EQ(system("ip -4 addr show dev usdp0 | grep -q 10.200.0.1"), 0);
  ASSERT_TRUE(dp_->DeleteTunnel(1).ok());
}

TEST_P(UserspaceDatapathTest, NameOfAnotherKindOfLinkIsRefused) {
  ASSERT_EQ(system("ip link add usdpdummy type veth peer name usdpdummy1"), 0);
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(1)).ok());
  EXPECT_FALSE(dp_->CreateSession(Session(1, 1, "usdpdummy")).ok());
  system("ip link del usdpdummy");
}

struct PathCase {
  Encap encap;
  std::vector<uint8_t> cookie;
  L2Spec l2spec;
  bool send_sequence;
};

class UserspacePacketPathTest : public DatapathFixture,
                                public ::testing::WithParamInterface<std::tuple<IoMode, PathCase>> {
 protected:
  void SetUp() override { Start(std::get<0>(GetParam())); }
};

TEST_P(UserspacePacketPathTest, EncapsulatesAndDecapsulates) {
  const PathCase& c = std::get<1>(GetParam());
  TunnelConfig t = UdpTunnel(1);
  t.encap = c.encap;
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  Peer peer(c.encap, t);
  ASSERT_TRUE(peer.ok());
  SessionConfig s = Session(1, 0x10, "usdp0");
  s.peer_session_id = 0x20;
  s.cookie = c.cookie;
  s.peer_cookie = c.cookie;
  s.l2spec = c.l2spec;
  s.send_sequence = c.send_sequence;
  s.lns_mode = true;  // keep our numbering fixed whatever the peer does
  ASSERT_TRUE(dp_->CreateSession(s).ok());

  std::vector<uint8_t> udp_word = c.encap == Encap::kUdp ? Hex("00030000") : std::vector<uint8_t>{};
  auto sublayer = [&](uint32_t seq) -> std::vector<uint8_t> {
    if (c.l2spec == L2Spec::kNone) return {};
    if (!c.send_sequence) return Hex("00000000");
    return {0x40, uint8_t(seq >> 16), uint8_t(seq >> 8), uint8_t(seq)};
  };
  size_t header_len = udp_word.size() + 4 + c.cookie.size() + sublayer(0).size();

  // Transmit: a frame sent on the TAP leaves as exactly header + frame.
  for (uint32_t seq = 0; seq < 2; ++seq) {
    SendOnInterface("usdp0", TestFrame(0x11));
    std::vector<uint8_t> want = Concat(Concat(Concat(udp_word, Hex("00000020")), c.cookie),
                                       Concat(sublayer(seq), TestFrame(0x11)));
    EXPECT_EQ(peer.ReceiveTest(header_len), want) << "seq " << seq;
  }

  // Receive: a packet for our session lands on the TAP.
  Capture capture("usdp0");
  std::vector<uint8_t> in = Concat(Concat(Concat(udp_word, Hex("00000010")), c.cookie),
                                   Concat(sublayer(0), TestFrame(0x22)));
  peer.Send(in);
  EXPECT_EQ(capture.Next(), TestFrame(0x22));
  Counters got = WaitSession(1, 0x10, [](const Counters& k) { return k.rx_packets >= 1; });
  EXPECT_EQ(got.rx_packets, 1u);
  EXPECT_EQ(got.rx_bytes, in.size());
  EXPECT_GE(got.tx_packets, 2u);
  EXPECT_EQ(WaitTunnel(1, [](const Counters& k) { return k.rx_packets >= 1; }).rx_bytes, in.size());
}

INSTANTIATE_TEST_SUITE_P(
    Variants, UserspacePacketPathTest,
    ::testing::Combine(
        ::testing::Values(IoMode::kUring, IoMode::kEpoll),
        ::testing::Values(PathCase{Encap::kUdp, {}, L2Spec::kDefault, false},
                          PathCase{Encap::kUdp, {1, 2, 3, 4}, L2Spec::kNone, false},
                          PathCase{Encap::kUdp, {1, 2, 3, 4, 5, 6, 7, 8}, L2Spec::kDefault, true},
                          PathCase{Encap::kIp, {}, L2Spec::kNone, false},
                          PathCase{Encap::kIp, {9, 8, 7, 6}, L2Spec::kDefault, true},
                          PathCase{Encap::kIp, {1, 2, 3, 4, 5, 6, 7, 8}, L2Spec::kDefault, false})),
    [](const auto& info) {
      return ModeName(std::get<0>(info.param)) + "_" + std::to_string(info.index % 6);
    });

// A peer that is not listening answers with ICMP port unreachable, which the
// socket reports on its next receive (an error completion in io_uring mode,
// EPOLLERR in epoll mode). The tunnel keeps receiving afterwards.
TEST_P(UserspaceDatapathTest, IcmpErrorsDoNotStopTheTunnel) {
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 0x10, "usdp0")).ok());
  for (int i = 0; i < 3; ++i) {
    SendOnInterface("usdp0", TestFrame(0x55));  // to 127.0.0.2, where nobody listens
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(WaitSession(1, 0x10, [](const Counters& k) { return k.tx_packets >= 3; }).tx_packets, 3u);
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  Capture capture("usdp0");
  peer.Send(Concat(Hex("000300000000001000000000"), TestFrame(0x66)));
  EXPECT_EQ(capture.Next(), TestFrame(0x66));
  SendOnInterface("usdp0", TestFrame(0x77));
  EXPECT_FALSE(peer.ReceiveTest(12).empty());
}

TEST_P(UserspaceDatapathTest, BadPacketsAreDroppedAndCounted) {
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  SessionConfig s = Session(1, 0x10, "usdp0");
  s.peer_cookie = Hex("a1a2a3a4");
  s.require_sequence = true;
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  auto frame = TestFrame(0x33);

  peer.Send(Hex("000300"));                                           // short: invalid
  peer.Send(Concat(Hex("0002000000000010a1a2a3a440000000"), frame));  // version 2: invalid
  peer.Send(Concat(Hex("0003000000000077a1a2a3a440000000"), frame));  // unknown session
  peer.Send(Hex("c803000c0000000100000000"));                         // control message
  peer.Send(Hex("0003000000000010a1a2"));                             // truncated cookie
  peer.Send(Hex("0003000000000010a1a2a3a44000"));                     // truncated sublayer
  peer.Send(Hex("0003000000000010a1a2a3a440000000aabb"));             // frame too short
  peer.Send(Concat(Hex("0003000000000010b1b2b3b440000000"), frame));  // bad cookie
  peer.Send(Concat(Hex("0003000000000010a1a2a3a400000000"), frame));  // no sequence
  peer.Send(Concat(Hex("0003000000000010a1a2a3a440000000"), frame));  // good

  Counters session = WaitSession(1, 0x10, [](const Counters& k) { return k.rx_packets >= 1; });
  Counters tunnel = WaitTunnel(1, [](const Counters& k) { return k.rx_packets >= 1; });
  EXPECT_EQ(session.rx_packets, 1u);
  EXPECT_EQ(session.rx_cookie_discards, 1u);
  EXPECT_EQ(session.rx_seq_discards, 1u);
  EXPECT_EQ(session.rx_errors, 2u);
  EXPECT_EQ(tunnel.rx_invalid, 5u);
  EXPECT_EQ(tunnel.rx_errors, 2u);  // unknown session + control message
  EXPECT_EQ(tunnel.rx_packets, 1u);
}

// IPv4 UDP tunnels send zero checksums unless asked (as Linux does); GSO
// sends need checksums on, and the socket goes back to zero checksums for
// the plain datagrams that follow.
TEST_P(UserspaceDatapathTest, ZeroUdpChecksumsComeBackAfterGsoSends) {
  TunnelConfig t = UdpTunnel(7);
  ASSERT_FALSE(t.udp_checksum);
  auto sock = TunnelSocket::Open(t);
  ASSERT_TRUE(sock.ok()) << sock.status();
  Peer peer(Encap::kUdp, t);  // a listener, so no ICMP error comes back
  ASSERT_TRUE(peer.ok());
  int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);  // sees every UDP packet
  ASSERT_GE(raw, 0);
  // The UDP checksum field of the next packet to the tunnel's peer port.
  auto next_checksum = [&]() -> int {
    for (int tries = 0; tries < 100; ++tries) {
      pollfd p{raw, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) return -1;
      uint8_t buf[65536];
      ssize_t n = recv(raw, buf, sizeof buf, 0);
      if (n < 28) continue;
      const uint8_t* udp = buf + (buf[0] & 0x0f) * 4;
      if ((udp[2] << 8 | udp[3]) == t.udp_destination_port) return udp[6] << 8 | udp[7];
    }
    return -1;
  };
  std::vector<uint8_t> data(4 * 100, 0x5a);
  auto plain = [&] {
    sock->PreparePlainSend();
    ASSERT_EQ(send(sock->fd(), data.data(), 100, 0), 100);
  };
  plain();
  EXPECT_EQ(next_checksum(), 0) << "plain datagram before any GSO send";
  const iovec all{data.data(), data.size()};
  ASSERT_TRUE(sock->SendGso({&all, 1}, 100)) << strerror(errno);
  EXPECT_GT(next_checksum(), 0) << "GSO send";
  plain();
  EXPECT_EQ(next_checksum(), 0) << "plain datagram after a GSO send";
  plain();
  EXPECT_EQ(next_checksum(), 0) << "second plain datagram";
  close(raw);
}

TEST_P(UserspaceDatapathTest, ReorderQueueIsReleasedByTheTimer) {
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  SessionConfig s = Session(1, 0x10, "usdp0");
  s.reorder_timeout_ms = 100;
  s.lns_mode = true;
  ASSERT_TRUE(dp_->CreateSession(s).ok());
  auto packet = [&](uint8_t seq) {
    return Concat(Hex("0003000000000010"), Concat({0x40, 0, 0, seq}, TestFrame(seq)));
  };
  Capture capture("usdp0");
  peer.Send(packet(0));
  auto start = std::chrono::steady_clock::now();
  peer.Send(packet(2));  // 1 never comes: 2 waits, expires; 3 is then delivered
  // Later than 2 by more than the timer's wake-up latency, so 3 has not
  // expired yet when 2 does.
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  peer.Send(packet(3));
  EXPECT_EQ(capture.Next(), TestFrame(0));
  EXPECT_EQ(capture.Next(), TestFrame(3));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(95));
  Counters c = WaitSession(1, 0x10, [](const Counters& k) { return k.rx_packets >= 2; });
  EXPECT_EQ(c.rx_packets, 2u);
  EXPECT_EQ(c.rx_seq_discards, 1u);
}

TEST_P(UserspaceDatapathTest, ControlChangesDuringTrafficDoNotDisturbOtherSessions) {
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  ASSERT_TRUE(dp_->CreateTunnel(UdpTunnel(2)).ok());
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  SessionConfig steady = Session(1, 0x10, "usdp0");
  ASSERT_TRUE(dp_->CreateSession(steady).ok());

  constexpr int kPackets = 2000;
  std::thread traffic([&] {
    auto packet = Concat(Hex("000300000000001000000000"), TestFrame(0x44));
    for (int i = 0; i < kPackets; ++i) {
      peer.Send(packet);
      if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  // Meanwhile: churn sessions next to it, in its tunnel and in another one,
  // modify it, and observe.
  for (int round = 0; round < 20; ++round) {
    EXPECT_TRUE(dp_->CreateSession(Session(1, 0x20, "usdp1")).ok());
    EXPECT_TRUE(dp_->CreateSession(Session(2, 0x30, "usdp2")).ok());
    steady.mtu = round % 2 ? 1400 : 1300;
    steady.reorder_timeout_ms = round % 2 ? 0 : 20;
    EXPECT_TRUE(dp_->ModifySession(steady).ok());
    EXPECT_TRUE(dp_->Observe().ok());
    EXPECT_TRUE(dp_->DeleteSession(1, 0x20).ok());
    EXPECT_TRUE(dp_->DeleteTunnel(2).ok());
    EXPECT_TRUE(dp_->CreateTunnel(UdpTunnel(2)).ok());
  }
  traffic.join();
  Counters c = WaitSession(1, 0x10, [](const Counters& k) { return k.rx_packets >= kPackets; });
  EXPECT_EQ(c.rx_packets, static_cast<uint64_t>(kPackets));
  EXPECT_EQ(c.rx_errors, 0u);
}

#if defined(__x86_64__)
// In a child process: refuses io_uring_setup with EPERM, as container
// runtimes' default seccomp profiles do, then checks what the datapath makes
// of it. Exits 0 when all is as it should be.
[[noreturn]] void CheckDatapathWithIoUringRefused() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    _exit(10);
  }
  // auto runs on epoll; an explicit io_uring fails and says why.
  auto fallback = UserspaceDatapath::Create(1, IoMode::kAuto);
  if (!fallback.ok() || (*fallback)->io() != "epoll") _exit(11);
  fallback->reset();
  auto refused = UserspaceDatapath::Create(1, IoMode::kUring);
  if (refused.ok() || refused.status().message().find("io_uring") == std::string::npos) _exit(12);
  _exit(0);
}
#endif

// Container runtimes' default seccomp profiles refuse io_uring (seccomp
// cannot be undone, so a child process installs the filter).
// An IPv4/UDP frame of flow `flow` (its source port and address differ per
// flow) carrying "SPRD" and `index`: what the steering program hashes.
std::vector<uint8_t> FlowFrame(uint16_t flow, uint32_t index) {
  auto f = Hex("0200000000020200000000010800");
  const uint16_t total = 20 + 8 + 8;
  auto ip = Hex("4500000000000000401100000a6300010a630002");  // 10.99.0.1 -> 10.99.0.2, UDP
  ip[2] = total >> 8;
  ip[3] = total & 0xff;
  ip[15] = static_cast<uint8_t>(flow);  // source 10.99.0.<flow>
  f = Concat(f, ip);
  f = Concat(f, {uint8_t(0x80 | flow >> 8), uint8_t(flow), 0x00, 0x09, 0x00, 0x10, 0x00, 0x00});
  f = Concat(f, {'S', 'P', 'R', 'D', uint8_t(index >> 24), uint8_t(index >> 16), uint8_t(index >> 8),
                 uint8_t(index)});
  while (f.size() < 60) f.push_back(0);
  return f;
}

// The index of the FlowFrame an L2TP packet (12 bytes of header: UDP word,
// session id, sublayer) carries, if it carries one.
std::optional<uint32_t> FlowFrameIndex(const std::vector<uint8_t>& packet) {
  constexpr size_t kMarker = 12 + 14 + 20 + 8;
  if (packet.size() < kMarker + 8 || std::memcmp(packet.data() + kMarker, "SPRD", 4) != 0)
    return std::nullopt;
  const uint8_t* i = packet.data() + kMarker + 4;
  return uint32_t{i[0]} << 24 | i[1] << 16 | i[2] << 8 | i[3];
}
bool CarriesFlowFrame(const std::vector<uint8_t>& packet) { return FlowFrameIndex(packet).has_value(); }

// Transmit spreading: a session without sequence numbers is read from one
// TAP queue per I/O thread, and different flows leave from both threads;
// one that sends sequence numbers stays on one thread, its numbers in order
// across flows. Every frame leaves exactly once either way, and the
// session's counters add up what every thread sent.
TEST_P(UserspaceDatapathTest, TransmitIsSpreadOverThreadsBySessionsWithoutSequencing) {
  constexpr uint32_t kFrames = 256;
  constexpr uint16_t kFlows = 64;
  for (bool sequenced : {false, true}) {
    SCOPED_TRACE(sequenced ? "sequence numbers" : "no sequence numbers");
    SpreadCase setup;
    ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, sequenced ? 2 : 1, sequenced ? "usdspread1" : "usdspread0",
                                           true, [&](SessionConfig& s) { s.send_sequence = sequenced; }));
    if (IsSkipped()) return;
    const TunnelConfig& t = setup.tunnel;
    Peer& peer = *setup.peer;
    SessionConfig& s = setup.session;
    for (uint32_t i = 0; i < kFrames; ++i) SendOnInterface(s.interface_name, FlowFrame(i % kFlows + 1, i));

    std::vector<int> seen(kFrames, 0);
    std::vector<uint32_t> sequence;
    for (uint32_t got = 0; got < kFrames; ++got) {
      auto p = peer.ReceiveMatching(CarriesFlowFrame);
      if (p.empty()) {
        auto threads = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
        std::string counts;
        for (const Counters& c : threads.ok() ? *threads : std::vector<Counters>{}) {
          counts += " " + std::to_string(c.tx_packets) + "/" + std::to_string(c.tx_errors);
        }
        FAIL() << "frame " << got << " of " << kFrames
               << " did not arrive; sent/errors per thread:" << counts;
      }
      const uint32_t index = *FlowFrameIndex(p);
      ASSERT_LT(index, kFrames);
      ++seen[index];
      sequence.push_back(uint32_t{p[9]} << 16 | p[10] << 8 | p[11]);
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(kFrames)) << "each frame once";

    auto by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
    ASSERT_TRUE(by_thread.ok()) << by_thread.status();
    uint64_t sum = 0;
    for (const Counters& c : *by_thread) sum += c.tx_packets;
    EXPECT_EQ(sum, kFrames);
    EXPECT_EQ(
        WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.tx_packets >= kFrames; }).tx_packets,
        kFrames);
    if (sequenced) {
      EXPECT_EQ(by_thread->size(), 1u) << "a sequenced session sends from one thread";
      for (uint32_t i = 0; i < kFrames; ++i) ASSERT_EQ(sequence[i], i) << "sequence numbers in order";
    } else {
      ASSERT_EQ(by_thread->size(), 2u) << "one replica on the second thread";
      EXPECT_GT((*by_thread)[0].tx_packets, 0u) << "the tunnel's thread sent some flows";
      EXPECT_GT((*by_thread)[1].tx_packets, 0u) << "the replica sent others";
      // Turning sequence numbers on takes the replica away; off brings it back.
      s.send_sequence = true;
      ASSERT_TRUE(dp_->ModifySession(s).ok());
      EXPECT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 1u);
      EXPECT_EQ(WaitSession(t.tunnel_id, 0x10, [](const Counters&) { return true; }).tx_packets, kFrames)
          << "what the replica sent still counts";
      s.send_sequence = false;
      ASSERT_TRUE(dp_->ModifySession(s).ok());
      EXPECT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 2u);
    }
    ASSERT_TRUE(dp_->DeleteSession(t.tunnel_id, 0x10).ok());
    EXPECT_EQ(if_nametoindex(s.interface_name.c_str()), 0u) << "the TAP goes with its last queue";
  }
}

// Frames without ports (ICMP here, whose checksum and identifier vary from
// frame to frame) all leave from the tunnel's own thread, the one that
// received what they may answer: no other thread is woken for them.
TEST_P(UserspaceDatapathTest, FramesWithoutPortsLeaveFromTheTunnelsThread) {
  constexpr uint32_t kFrames = 64;
  SpreadCase setup;
  ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, 6, "usdpicmp0", true));
  if (IsSkipped()) return;
  const TunnelConfig& t = setup.tunnel;
  Peer& peer = *setup.peer;
  const SessionConfig& s = setup.session;
  for (uint32_t i = 0; i < kFrames; ++i) {
    std::vector<uint8_t> f = FlowFrame(static_cast<uint16_t>(i + 1), i);
    f[14 + 9] = 1;  // ICMP: the "ports" are now type, code and checksum
    f[14 + 20] = 8;
    f[14 + 22] = static_cast<uint8_t>(i * 37);
    f[14 + 23] = static_cast<uint8_t>(i * 91);
    SendOnInterface(s.interface_name, f);
  }
  for (uint32_t i = 0; i < kFrames; ++i) {
    ASSERT_FALSE(peer.ReceiveMatching(CarriesFlowFrame).empty()) << "frame " << i;
  }
  auto by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
  ASSERT_TRUE(by_thread.ok() && by_thread->size() == 2u);
  EXPECT_EQ((*by_thread)[0].tx_packets, kFrames);
  EXPECT_EQ((*by_thread)[1].tx_packets, 0u);
  ASSERT_TRUE(dp_->DeleteTunnel(t.tunnel_id).ok());
}

// A LAC (lns_mode off) that does not send sequence numbers starts sending
// them when its peer does, as Linux's does; frames sent by replicas would
// leave without, so the session goes back to one thread (at the next
// Observe) while it sends them, its counters kept, and is spread again
// once the peer stops.
TEST_P(UserspaceDatapathTest, LacFollowingItsPeersSequencingSendsFromOneThread) {
  constexpr uint16_t kFlows = 64;
  SpreadCase setup;
  ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, 4, "usdplac0", false));
  if (IsSkipped()) return;
  const TunnelConfig& t = setup.tunnel;
  Peer& peer = *setup.peer;
  const SessionConfig& s = setup.session;
  ASSERT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 2u);
  for (uint32_t i = 0; i < kFlows; ++i) SendOnInterface(s.interface_name, FlowFrame(i + 1, i));
  for (uint32_t i = 0; i < kFlows; ++i) ASSERT_FALSE(peer.ReceiveMatching(CarriesFlowFrame).empty()) << i;
  const uint64_t sent = WaitSession(t.tunnel_id, 0x10, [&](const Counters& k) {
                          return k.tx_packets >= kFlows;
                        }).tx_packets;

  peer.Send(Concat(Hex("000300000000001040000000"), TestFrame(1)));  // sequence number 0
  WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= 1; });
  EXPECT_EQ(Observe().sessions.size(), 1u);
  EXPECT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 1u) << "back to one thread";
  EXPECT_GE(WaitSession(t.tunnel_id, 0x10, [](const Counters&) { return true; }).tx_packets, sent)
      << "the replicas' counts are kept";
  for (uint32_t i = 0; i < kFlows; ++i) SendOnInterface(s.interface_name, FlowFrame(i + 1, kFlows + i));
  std::vector<uint32_t> numbers;
  for (uint32_t i = 0; i < kFlows; ++i) {
    auto p = peer.ReceiveMatching(CarriesFlowFrame);
    ASSERT_FALSE(p.empty()) << i;
    ASSERT_EQ(p[8] & 0x40, 0x40) << "frame " << i << " left without a sequence number";
    numbers.push_back(uint32_t{p[9]} << 16 | p[10] << 8 | p[11]);
  }
  for (uint32_t i = 1; i < kFlows; ++i) EXPECT_EQ(numbers[i], numbers[i - 1] + 1) << "one series, in order";

  peer.Send(Concat(Hex("000300000000001000000000"), TestFrame(2)));  // none: the LAC stops
  WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= 2; });
  Observe();
  EXPECT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 2u) << "spread again";
  ASSERT_TRUE(dp_->DeleteSession(t.tunnel_id, 0x10).ok());
  ASSERT_TRUE(dp_->DeleteTunnel(t.tunnel_id).ok());
}

// Receive spreading: what the tunnel receives for a spread session is
// written to the TAP from both threads, each flow from one of them and in
// order; every frame arrives once, and the session's counters add up both
// threads. Sequenced packets, and every packet of a session that requires
// sequence numbers, are received on the tunnel's own thread. Epoll mode
// does not spread receiving.
TEST_P(UserspaceDatapathTest, ReceiveIsSpreadOverThreadsByFlow) {
  constexpr uint32_t kFrames = 256;
  constexpr uint16_t kFlows = 64;
  SpreadCase setup;
  ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, 3, "usdprx0", true));
  if (IsSkipped()) return;
  EXPECT_EQ(dp_->spreads_rx(), GetParam() == IoMode::kUring);
  const TunnelConfig& t = setup.tunnel;
  Peer& peer = *setup.peer;
  SessionConfig& s = setup.session;
  ASSERT_EQ(dp_->SessionCountersByThread(t.tunnel_id, 0x10)->size(), 2u);
  Capture capture(s.interface_name, ETH_P_IP);
  auto packet = [](uint32_t i, std::optional<uint32_t> seq) {
    std::vector<uint8_t> sublayer = {0, 0, 0, 0};
    if (seq) sublayer = {0x40, uint8_t(*seq >> 16), uint8_t(*seq >> 8), uint8_t(*seq)};
    return Concat(Concat(Hex("0003000000000010"), sublayer), FlowFrame(i % kFlows + 1, i));
  };
  // Reads frames until `count` marked ones arrived (a USO frame written to
  // the TAP carries several: each datagram's 8 bytes after the first's
  // headers); returns their indices in arrival order per flow.
  auto receive = [&](uint32_t count) {
    std::map<uint8_t, std::vector<uint32_t>> by_flow;
    uint32_t got = 0;
    while (got < count) {
      std::vector<uint8_t> f = capture.Next();
      if (f.empty()) {
        ADD_FAILURE() << "only " << got << " of " << count << " frames arrived";
        break;
      }
      if (f.size() < 42 || f[14 + 9] != 17) continue;
      const size_t end = std::min(f.size(), size_t{14} + (f[16] << 8 | f[17]));
      for (size_t at = 42; at + 8 <= end; at += 8) {
        if (std::memcmp(&f[at], "SPRD", 4) != 0) continue;
        by_flow[f[14 + 15]].push_back(uint32_t{f[at + 4]} << 24 | f[at + 5] << 16 | f[at + 6] << 8 |
                                      f[at + 7]);
        ++got;
      }
    }
    return by_flow;
  };

  // Every flow in each batch: one GSO send of 64 packets, one per flow.
  for (uint32_t i = 0; i < kFrames; i += kFlows) {
    std::vector<std::vector<uint8_t>> batch;
    for (uint32_t k = i; k < i + kFlows; ++k) batch.push_back(packet(k, std::nullopt));
    peer.SendGso(batch);
  }
  std::set<uint32_t> seen;
  for (const auto& [flow, indices] : receive(kFrames)) {
    for (size_t k = 0; k < indices.size(); ++k) {
      EXPECT_TRUE(seen.insert(indices[k]).second) << "frame " << indices[k] << " twice";
      if (k > 0) {
        EXPECT_LT(indices[k - 1], indices[k]) << "flow " << int{flow} << " out of order";
      }
    }
  }
  EXPECT_EQ(seen.size(), kFrames);
  EXPECT_EQ(
      WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= kFrames; }).rx_packets,
      kFrames);
  auto by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
  ASSERT_TRUE(by_thread.ok() && by_thread->size() == 2u);
  EXPECT_EQ((*by_thread)[0].rx_packets + (*by_thread)[1].rx_packets, kFrames);
  EXPECT_GT((*by_thread)[0].rx_packets, 0u) << "the tunnel's thread wrote some flows";
  if (dp_->spreads_rx()) {
    EXPECT_GT((*by_thread)[1].rx_packets, 0u) << "the replica wrote others";
  } else {
    EXPECT_EQ((*by_thread)[1].rx_packets, 0u);
  }
  uint64_t replica_before = (*by_thread)[1].rx_packets;

  // A batch of one flow only, one that belongs to the replica's thread:
  // nothing to do in parallel, so the tunnel's thread writes it itself
  // (once what it handed over before is done, as it is by now).
  uint16_t remote_flow = 1;
  while (InnerFlowHash(FlowFrame(remote_flow, 0)) % 2 != 1) ++remote_flow;
  {
    std::vector<std::vector<uint8_t>> batch;
    for (uint32_t k = 0; k < kFlows; ++k) batch.push_back(packet(kFrames + k * kFlows + remote_flow - 1, {}));
    peer.SendGso(batch);
    uint32_t got = 0;
    for (const auto& [flow, indices] : receive(kFlows)) {
      EXPECT_EQ(flow, remote_flow);
      got += indices.size();
    }
    EXPECT_EQ(got, kFlows);
    WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= kFrames + kFlows; });
    by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
    EXPECT_EQ((*by_thread)[1].rx_packets, replica_before) << "a single flow is received where it arrives";
    EXPECT_EQ((*by_thread)[0].rx_packets + (*by_thread)[1].rx_packets, kFrames + kFlows);
  }

  // Sequenced packets of every flow: all on the tunnel's thread, in order.
  for (uint32_t i = 0; i < kFlows; ++i) peer.Send(packet(2 * kFrames + i, i));
  uint32_t sequenced = 0;
  for (const auto& [flow, indices] : receive(kFlows)) sequenced += indices.size();
  EXPECT_EQ(sequenced, kFlows);
  by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
  EXPECT_EQ((*by_thread)[1].rx_packets, replica_before) << "sequenced packets stay on one thread";
  EXPECT_EQ((*by_thread)[0].rx_seq_discards, 0u);

  // Sequence numbers required: nothing is spread; the unsequenced packets
  // are all judged (and dropped) on the tunnel's thread.
  s.require_sequence = true;
  ASSERT_TRUE(dp_->ModifySession(s).ok());
  for (uint32_t i = 0; i < kFlows; ++i) peer.Send(packet(i, std::nullopt));
  Counters c = WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_seq_discards >= kFlows; });
  EXPECT_EQ(c.rx_seq_discards, kFlows);
  by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
  EXPECT_EQ((*by_thread)[1].rx_seq_discards, 0u);
  EXPECT_EQ((*by_thread)[0].rx_seq_discards, kFlows);
  ASSERT_TRUE(dp_->DeleteSession(t.tunnel_id, 0x10).ok());
  ASSERT_TRUE(dp_->DeleteTunnel(t.tunnel_id).ok());
}

// Receive spreading under churn: while batches of many flows arrive (so
// that packets are handed to the replica and in flight there), the session
// loses and regains its replicas (sequence numbers on and off), sessions
// come and go beside it, and Observe runs. Every packet is still counted
// once and nothing is lost; afterwards a long run still arrives whole (no
// ring buffer stayed held).
TEST_P(UserspaceDatapathTest, ReceiveSpreadingLosesNothingThroughChurn) {
  constexpr uint32_t kFlows = 64, kBatches = 32;
  SpreadCase setup;
  ASSERT_NO_FATAL_FAILURE(OpenSpreadCase(setup, 5, "usdpchurn0", false));
  if (IsSkipped()) return;
  const TunnelConfig& t = setup.tunnel;
  Peer& peer = *setup.peer;
  SessionConfig& steady = setup.session;
  auto send_batches = [&](uint32_t batches, std::chrono::milliseconds pause) {
    for (uint32_t b = 0; b < batches; ++b) {
      std::vector<std::vector<uint8_t>> batch;
      for (uint32_t k = 0; k < kFlows; ++k) {
        batch.push_back(Concat(Hex("000300000000001000000000"), FlowFrame(k + 1, b * kFlows + k)));
      }
      peer.SendGso(batch);
      std::this_thread::sleep_for(pause);
    }
  };
  std::thread traffic([&] { send_batches(kBatches, std::chrono::milliseconds(3)); });
  for (int round = 0; round < 10; ++round) {
    steady.send_sequence = round % 2 == 0;  // replicas go, and come back
    EXPECT_TRUE(dp_->ModifySession(steady).ok());
    EXPECT_TRUE(dp_->CreateSession(Session(t.tunnel_id, 0x20, "usdpchurn1")).ok());
    EXPECT_TRUE(dp_->Observe().ok());
    EXPECT_TRUE(dp_->DeleteSession(t.tunnel_id, 0x20).ok());
  }
  traffic.join();
  constexpr uint64_t kPackets = kFlows * kBatches;
  Counters c = WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= kPackets; });
  EXPECT_EQ(c.rx_packets, kPackets);
  EXPECT_EQ(c.rx_errors, 0u);

  steady.send_sequence = false;
  ASSERT_TRUE(dp_->ModifySession(steady).ok());
  send_batches(4 * kBatches, std::chrono::milliseconds(1));
  c = WaitSession(t.tunnel_id, 0x10, [](const Counters& k) { return k.rx_packets >= 5 * kPackets; });
  EXPECT_EQ(c.rx_packets, 5 * kPackets);
  EXPECT_EQ(c.rx_errors, 0u);
  if (dp_->spreads_rx()) {
    auto by_thread = dp_->SessionCountersByThread(t.tunnel_id, 0x10);
    ASSERT_TRUE(by_thread.ok() && by_thread->size() == 2u);
    EXPECT_GT((*by_thread)[1].rx_packets, 0u) << "spread again after the churn";
  }
  ASSERT_TRUE(dp_->DeleteTunnel(t.tunnel_id).ok());
}

// A TAP left single-queue by an agent that did not spread (or an older one)
// is re-attached as it is by one that does: the session works, unspread.
TEST_P(UserspaceDatapathTest, SingleQueueTapFromBeforeIsReattachedUnspread) {
  {
    auto plain = UserspaceDatapath::Create(2, GetParam(), "default", /*spread_tx=*/false);
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_FALSE((*plain)->spreads_tx());
    ASSERT_TRUE((*plain)->CreateTunnel(UdpTunnel(1)).ok());
    ASSERT_TRUE((*plain)->CreateSession(Session(1, 1, "usdpsq0")).ok());
    EXPECT_EQ((*plain)->SessionCountersByThread(1, 1)->size(), 1u);
  }  // that agent stops; its TAP stays
  if (!dp_->spreads_tx()) GTEST_SKIP() << "no TAP steering program here (needs CAP_BPF)";
  TunnelConfig t = UdpTunnel(1);
  ASSERT_TRUE(dp_->CreateTunnel(t).ok());
  Peer peer(Encap::kUdp, t);
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(dp_->CreateSession(Session(1, 1, "usdpsq0")).ok());
  EXPECT_EQ(dp_->SessionCountersByThread(1, 1)->size(), 1u) << "a single-queue TAP gets no replica";
  SendOnInterface("usdpsq0", TestFrame(0x12));
  EXPECT_FALSE(peer.ReceiveTest(12).empty()) << "frames still leave";
  ASSERT_TRUE(dp_->DeleteSession(1, 1).ok());
  EXPECT_EQ(if_nametoindex("usdpsq0"), 0u);
}

TEST(UserspaceDatapathIo, FallsBackToEpollWhereSeccompRefusesIoUring) {
#if defined(__x86_64__)
  EXPECT_EXIT(CheckDatapathWithIoUringRefused(), ::testing::ExitedWithCode(0), "");
#else
  GTEST_SKIP() << "the filter is written for x86-64 system call numbers";
#endif
}

}  // namespace
}  // namespace l2tp::userspace
