// udp-flood: offers more small UDP datagrams than a tunnel forwarder can take,
// so bench/datapath.sh can measure the forwarder's cost per frame when it is
// never short of work (its per-core capacity), which iperf3's one sending
// thread cannot do.
//
//   udp-flood send SRC_IP DST_IP PORT SECONDS [PAYLOAD_BYTES] [THREADS]
//   udp-flood sink IP PORT SECONDS
//
// `send` blasts PAYLOAD_BYTES-byte datagrams (default 18: a 60-byte Ethernet
// frame on the overlay) from SRC_IP to DST_IP:PORT with sendmmsg, THREADS
// threads (default 1), for SECONDS; `sink` counts what arrives at IP:PORT
// until SECONDS have passed. Each prints one JSON object at the end.
// IPv4 only. Bounded in time by SECONDS.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kBatch = 64;
using Clock = std::chrono::steady_clock;

bool Address(const char* ip, int port, sockaddr_in* out) {
  *out = {};
  out->sin_family = AF_INET;
  out->sin_port = htons(static_cast<uint16_t>(port));
  return inet_pton(AF_INET, ip, &out->sin_addr) == 1;
}

// One sending thread: its own socket, connected, a batch of equal datagrams.
long SendFor(const sockaddr_in& from, const sockaddr_in& to, size_t payload, Clock::time_point end) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  sockaddr_in local = from;
  local.sin_port = 0;  // one source port per thread
  if (bind(s, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0 ||
      connect(s, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    close(s);
    return -1;
  }
  std::vector<char> data(payload, 0);
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {data.data(), payload};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  long sent = 0;
  while (Clock::now() < end) {
    int n = sendmmsg(s, msgs, kBatch, 0);
    if (n > 0) sent += n;
  }
  close(s);
  return sent;
}

int Send(int argc, char** argv) {
  if (argc < 6) return 2;
  sockaddr_in from, to;
  if (!Address(argv[2], 0, &from) || !Address(argv[3], atoi(argv[4]), &to)) return 2;
  double seconds = atof(argv[5]);
  size_t payload = argc > 6 ? static_cast<size_t>(atoi(argv[6])) : 18;
  int threads = argc > 7 ? atoi(argv[7]) : 1;
  if (seconds <= 0 || seconds > 600 || payload < 1 || payload > 1400 || threads < 1 || threads > 16) {
    return 2;
  }
  auto end = Clock::now() +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::atomic<long> total{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      long n = SendFor(from, to, payload, end);
      if (n < 0) failed = true;
      else total += n;
    });
  }
  for (auto& w : workers) w.join();
  if (failed) {
    std::perror("udp-flood send");
    return 1;
  }
  std::printf("{\"sent\": %ld, \"seconds\": %.3f, \"payload\": %zu, \"threads\": %d}\n", total.load(),
              seconds, payload, threads);
  return 0;
}

int Sink(int argc, char** argv) {
  if (argc < 5) return 2;
  sockaddr_in on;
  if (!Address(argv[2], atoi(argv[3]), &on)) return 2;
  double seconds = atof(argv[4]);
  if (seconds <= 0 || seconds > 600) return 2;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int buffer = 8 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
  if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&on), sizeof on) < 0) {
    std::perror("udp-flood sink");
    return 1;
  }
  static char slots[kBatch][2048];
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {slots[i], sizeof slots[i]};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  long received = 0;
  auto end = Clock::now() +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    pollfd p{s, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int n = recvmmsg(s, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n > 0) received += n;
  }
  close(s);
  std::printf("{\"received\": %ld}\n", received);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  int rc = mode == "send" ? Send(argc, argv) : mode == "sink" ? Sink(argc, argv) : 2;
  if (rc == 2) {
    std::fprintf(stderr,
                 "usage: udp-flood send SRC_IP DST_IP PORT SECONDS [PAYLOAD_BYTES] [THREADS]\n"
                 "       udp-flood sink IP PORT SECONDS\n");
  }
  return rc;
}
