// What the UserspaceDatapath tests share: frames, configs, a far end of the
// tunnel (a plain socket), a way to send on and capture from a TAP, and the
// fixture that runs every case in both I/O modes. Each test binary keeps its
// own private-namespace environment (private_netns.h).
#pragma once

#include <net/if.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "datapath/userspace/tunnel_socket.h"
#include "datapath/userspace/userspace_datapath.h"
#include "tests/unit/datapath/private_netns.h"

namespace l2tp::userspace {

// Ethertype reserved for local experiments: nothing else on the TAP uses it.
inline constexpr uint16_t kTestEthertype = 0x88b5;

inline std::vector<uint8_t> Hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// dst 02:00:00:00:00:02, src 02:00:00:00:00:01, test ethertype, payload.
inline std::vector<uint8_t> TestFrame(uint8_t tag) {
  auto f = Hex("020000000002020000000001");
  f.push_back(kTestEthertype >> 8);
  f.push_back(kTestEthertype & 0xff);
  for (int i = 0; i < 46; ++i) f.push_back(tag);
  return f;
}

inline TunnelConfig UdpTunnel(uint32_t id = 1) {
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

inline SessionConfig Session(uint32_t tunnel_id, uint32_t session_id, const std::string& ifname) {
  SessionConfig s;
  s.tunnel_id = tunnel_id;
  s.session_id = session_id;
  s.peer_session_id = session_id + 1000;
  s.interface_name = ifname;
  return s;
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
inline void WaitUntilTransmitting(const std::string& ifname) {
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

inline void SendOnInterface(const std::string& ifname, const std::vector<uint8_t>& frame) {
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

inline std::string ModeName(IoMode mode) { return mode == IoMode::kUring ? "io_uring" : "epoll"; }

// Every case runs with both ways of doing I/O (io_loop.h).
class DatapathFixture : public ::testing::Test {
 protected:
  void Start(IoMode mode) {
    if (!private_netns::g_in_private_netns) GTEST_SKIP() << "needs CAP_NET_ADMIN and /dev/net/tun";
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

class UserspaceDatapathTest : public DatapathFixture, public ::testing::WithParamInterface<IoMode> {
 protected:
  void SetUp() override { Start(GetParam()); }
};

}  // namespace l2tp::userspace
