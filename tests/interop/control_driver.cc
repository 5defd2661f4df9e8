// control_driver: one control connection of the control library (control/)
// over a real UDP socket, for interop tests against other L2TP
// implementations (tests/interop/xl2tpd_control_test.sh). It prints every
// tunnel and session transition as a line on stdout and exits after --run.
//
//   control_driver --version=2 --role=initiator --local=IP:PORT --remote=IP:PORT
//                  --tunnel-id=N --host-name=NAME [--secret=S] [--sessions=N]
//                  [--hello=SECONDS] [--run=SECONDS] [--close-at=SECONDS]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include "control/codec.h"
#include "control/connection.h"

namespace {

using namespace l2tp::control;

bool ParseEndpoint(const std::string& s, sockaddr_in* out) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  *out = sockaddr_in{};
  out->sin_family = AF_INET;
  out->sin_port = htons(static_cast<uint16_t>(std::atoi(s.c_str() + colon + 1)));
  return inet_pton(AF_INET, s.substr(0, colon).c_str(), &out->sin_addr) == 1;
}

struct Driver : ConnectionEvents {
  int fd = -1;
  sockaddr_in peer{};
  bool peer_known = false;
  std::string secret;
  std::mt19937_64 rng{std::random_device{}()};

  void Transmit(const ControlMessage& m) override {
    auto bytes = EncodeControlMessage(m, Transport::kUdp, secret);
    if (!bytes.ok()) {
      std::cout << "encode-error " << bytes.status().message() << std::endl;
      return;
    }
    if (!peer_known) return;
    sendto(fd, bytes->data(), bytes->size(), 0, reinterpret_cast<const sockaddr*>(&peer), sizeof peer);
  }
  void TunnelChanged(const TunnelStatus& s) override {
    std::cout << "tunnel " << TunnelStateName(s.state) << " peer_tunnel_id=" << s.peer_tunnel_id
              << " peer_host=" << s.peer_host_name << " peer_vendor=\"" << s.peer_vendor << "\""
              << " rtt_ms="
              << (s.hello_rtt ? std::chrono::duration_cast<std::chrono::milliseconds>(*s.hello_rtt).count()
                              : -1)
              << " retransmissions=" << s.retransmissions << " message=\"" << s.message << "\" stop=\""
              << s.last_stop_reason << "\"" << std::endl;
  }
  void SessionChanged(const SessionStatus& s) override {
    std::cout << "session " << s.local_session_id << " " << SessionStateName(s.state)
              << " peer_session_id=" << s.peer.session_id << " message=\"" << s.message << "\"" << std::endl;
  }
  void Random(std::span<uint8_t> out) override {
    for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) {
      std::cerr << "usage: see the top of tests/interop/control_driver.cc\n";
      return 2;
    }
    flags[a.substr(2, eq - 2)] = a.substr(eq + 1);
  }
  auto flag = [&](const std::string& k, const std::string& def) { return flags.count(k) ? flags[k] : def; };

  TunnelOptions o;
  o.version = static_cast<uint8_t>(std::stoi(flag("version", "2")));
  o.initiator = flag("role", "initiator") == "initiator";
  o.local_tunnel_id = static_cast<uint32_t>(std::stoul(flag("tunnel-id", "1")));
  o.host_name = flag("host-name", "l2tp-agent");
  o.secret = flag("secret", "");
  o.hello_interval = std::chrono::seconds(std::stoi(flag("hello", "60")));
  o.router_id = o.local_tunnel_id;
  const int run_seconds = std::stoi(flag("run", "20"));
  const int close_at = std::stoi(flag("close-at", "-1"));
  const int sessions = std::stoi(flag("sessions", "1"));

  Driver d;
  d.secret = o.secret;
  sockaddr_in local{};
  if (!ParseEndpoint(flag("local", ""), &local)) {
    std::cerr << "--local: want IPv4:PORT\n";
    return 2;
  }
  if (o.initiator) {
    if (!ParseEndpoint(flag("remote", ""), &d.peer)) {
      std::cerr << "--remote: want IPv4:PORT\n";
      return 2;
    }
    d.peer_known = true;
  }
  d.fd = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  setsockopt(d.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(d.fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    std::cerr << "bind: " << std::strerror(errno) << "\n";
    return 1;
  }

  ControlConnection c(o, &d);
  const TimePoint start = Clock::now();
  for (int i = 0; i < sessions; ++i) {
    LocalSession s;
    s.session_id = static_cast<uint32_t>(100 + i);
    c.AddSession(start, s);
  }
  if (o.initiator) c.Open(start);
  bool closed = false;
  while (Clock::now() - start < std::chrono::seconds(run_seconds)) {
    TimePoint now = Clock::now();
    if (!closed && close_at >= 0 && now - start >= std::chrono::seconds(close_at)) {
      closed = true;
      c.Close(now, "control_driver --close-at");
    }
    int timeout_ms = 100;
    if (auto next = c.NextDeadline()) {
      timeout_ms = static_cast<int>(
          std::clamp<int64_t>(std::chrono::duration_cast<Duration>(*next - now).count(), 0, 100));
    }
    pollfd p{d.fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) > 0) {
      uint8_t buf[4096];
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      const ssize_t n = recvfrom(d.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n > 0) {
        std::span<const uint8_t> frame(buf, static_cast<size_t>(n));
        if (!IsControlFrame(frame, Transport::kUdp)) continue;  // data: not ours to carry here
        auto m = DecodeControlMessage(frame, Transport::kUdp, o.secret);
        if (!m.ok()) {
          std::cout << "drop " << m.status().message() << std::endl;
          continue;
        }
        if (!d.peer_known) {
          d.peer = from;
          d.peer_known = true;
        }
        c.Receive(Clock::now(), *m);
      }
    }
    now = Clock::now();
    if (auto next = c.NextDeadline(); next && *next <= now) c.OnTimer(now);
  }
  const auto& st = c.stats();
  std::cout << "exit malformed=" << st.malformed << " illegal=" << st.illegal
            << " auth_failures=" << st.auth_failures << std::endl;
  return 0;
}
