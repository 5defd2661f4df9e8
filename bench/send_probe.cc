// send-probe: the sender side of bench/send-probe.sh (issue 15). It measures
// two techniques the userspace datapath could adopt for sending:
//   - zero-copy for large UDP GSO sends (MSG_ZEROCOPY, io_uring SENDMSG_ZC);
//   - a packet socket instead of a raw IP socket for L2TPv3/IP, and whether
//     PACKET_VNET_HDR can hand the kernel an L2TP/IP super-frame to segment.
//
//   send-probe send MODE SECONDS SRC_IP DST_IP [IFNAME DST_MAC]
//   send-probe vnet VARIANT IFNAME DST_MAC SRC_IP DST_IP [COUNT] [nobypass]
//   send-probe check
//
// `send` sends L2TPv3-shaped 1400-byte packets (an L2TPv3 data header, then a
// fake Ethernet frame) from one thread, as fast as it can, for SECONDS:
//   gso        UDP (to port 1701), sendmsg with UDP_SEGMENT: 44 x 1400 bytes
//              from one 64 KiB buffer per call (what the datapath does)
//   gso-zc     the same with SO_ZEROCOPY + MSG_ZEROCOPY, from a pool of 16
//              buffers, each reused only after its completion was read from
//              the error queue (SO_EE_ORIGIN_ZEROCOPY)
//   uring      the same GSO sends as IORING_OP_SENDMSG through io_uring (the
//              control for uring-zc: io_uring without zero-copy)
//   uring-zc   IORING_OP_SENDMSG_ZC, buffers reused after the notification CQE
//   raw-ip     raw IPv4 socket, protocol 115 (L2TPv3/IP), sendmmsg of 32
//   raw-hdrincl  the same with IP_HDRINCL: the probe writes the IPv4 header
//              (the kernel's other raw send path: no ip_append_data)
//   raw-uring  raw-ip's packets as 32 IORING_OP_SENDMSG per io_uring_enter
//   packet     AF_PACKET SOCK_RAW on IFNAME with PACKET_QDISC_BYPASS: whole
//              Ethernet + IPv4 (protocol 115) frames to DST_MAC, sendmmsg of 32
// It prints one JSON object: packets and bytes the kernel accepted, system
// calls, errors, the process's CPU time (the run time of all its threads, from
// /proc/self/task/*/schedstat, and getrusage's user/system split) over the
// sending loop, and for the zero-copy modes how many completions said the
// kernel copied after all.
//
// `vnet` sends COUNT (default 20) 64 KiB frames through an AF_PACKET socket
// with PACKET_VNET_HDR (and PACKET_QDISC_BYPASS unless `nobypass`) and
// reports what sendmsg returned; the caller reads the devices' counters:
//   l2tpip-nogso      IPv4 protocol 115 super-frame, no GSO in the header
//   l2tpip-tcpv4      ... gso_type TCPV4, gso_size 1400, no checksum offload
//   l2tpip-tcpv4-csum ... TCPV4 with NEEDS_CSUM at the TCP checksum's offset
//                     after the IP header (the "transport header" the kernel
//                     is told about is the L2TP header)
//   l2tpip-udpl4-csum ... gso_type UDP_L4 with NEEDS_CSUM at the UDP offset
//   udp-udpl4-csum    control: a real UDP/IPv4 super-frame, UDP_L4
//
// `check` prints what this kernel offers (io_uring opcodes, SO_ZEROCOPY).
// IPv4 only; every loop is bounded by SECONDS (or COUNT).
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <liburing.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// Newer than some installed headers; the values are the kernel's ABI.
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

namespace {

// include/uapi/linux/virtio_net.h's header (that file is not C++-clean: a
// member is named `class`), host byte order as PACKET_VNET_HDR wants on x86.
struct VirtioNetHdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
static_assert(sizeof(VirtioNetHdr) == 10);
constexpr uint8_t kNeedsCsum = 1;  // kNeedsCsum
constexpr uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoUdpL4 = 5;

constexpr size_t kSegment = 1400;  // one L2TP packet (UDP or IP payload)
constexpr size_t kSegments = 44;   // per GSO send: 61,600 bytes, under 64 KiB
constexpr size_t kGsoBytes = kSegment * kSegments;
constexpr size_t kBufferBytes = 64 * 1024;
constexpr int kBatch = 32;       // sendmmsg batch
constexpr int kPool = 16;        // zero-copy buffers in flight
constexpr int kL2tpProto = 115;  // IPPROTO_L2TP
constexpr uint16_t kL2tpPort = 1701;
constexpr size_t kEthIp = 14 + 20;
using Clock = std::chrono::steady_clock;

struct Result {
  std::string mode;
  std::string error;  // why the mode could not run, if it could not
  double seconds = 0;
  long calls = 0;    // system calls (or SQEs) that sent
  long packets = 0;  // L2TP packets the kernel accepted
  long bytes = 0;    // L2TP bytes accepted
  long errors = 0;
  int first_errno = 0;
  long completions = 0;         // zero-copy completion notifications read
  long completed_sends = 0;     // sends they covered
  long copied_completions = 0;  // ... flagged "copied" by the kernel
  long copied_sends = 0;
  long cpu_ns = 0;  // run time of all threads over the loop
  long utime_us = 0, stime_us = 0;
  int threads = 0;
};

// Sum of the first field of every task's schedstat: exact nanoseconds on CPU.
long TaskCpuNs(int* threads) {
  long total = 0;
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::string path = std::string("/proc/self/task/") + e->d_name + "/schedstat";
      if (FILE* f = fopen(path.c_str(), "r")) {
        long ns = 0;
        if (fscanf(f, "%ld", &ns) == 1) total += ns;
        fclose(f);
        ++n;
      }
    }
    closedir(d);
  }
  if (threads) *threads = n;
  return total;
}

long TvUs(const timeval& t) { return t.tv_sec * 1000000L + t.tv_usec; }

// Brackets the sending loop: CPU and wall time from construction to Stop.
class Meter {
 public:
  Meter() {
    getrusage(RUSAGE_SELF, &ru_);
    cpu_ = TaskCpuNs(nullptr);
    start_ = Clock::now();
  }
  void Stop(Result* r) {
    r->seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    r->cpu_ns = TaskCpuNs(&r->threads) - cpu_;
    rusage now;
    getrusage(RUSAGE_SELF, &now);
    r->utime_us = TvUs(now.ru_utime) - TvUs(ru_.ru_utime);
    r->stime_us = TvUs(now.ru_stime) - TvUs(ru_.ru_stime);
  }

 private:
  rusage ru_;
  long cpu_;
  Clock::time_point start_;
};

void Fail(Result* r, int err) {
  ++r->errors;
  if (!r->first_errno) r->first_errno = err;
}

// Sends the kBatch prepared messages with sendmmsg, again and again, for
// `secs` seconds (kSegment L2TP bytes each), measuring into r; closes fd.
void SendBatchesFor(int fd, mmsghdr* msgs, double secs, Result* r) {
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  Meter meter;
  while (Clock::now() < end) {
    int n = sendmmsg(fd, msgs, kBatch, 0);
    ++r->calls;
    if (n < 0) {
      Fail(r, errno);
      continue;
    }
    r->packets += n;
    r->bytes += static_cast<long>(n) * kSegment;
  }
  meter.Stop(r);
  close(fd);
}

// An L2TPv3 data packet of kSegment bytes at p: header (UDP: flags/version,
// session id, 4-byte cookie, default sublayer; IP: the same without the
// first word), then an Ethernet frame carrying IPv4. Content does not matter
// to the kernel; it only makes captures look right.
void FillL2tp(uint8_t* p, bool over_udp, uint32_t seq) {
  memset(p, 0, kSegment);
  size_t at = 0;
  if (over_udp) {
    p[1] = 0x03;  // T=0, version 3
    at = 4;
  }
  uint32_t session = htonl(0x1234), cookie = htonl(0xc0ffee00),
           sublayer = htonl(0x40000000 | (seq & 0xffffff));
  memcpy(p + at, &session, 4);
  memcpy(p + at + 4, &cookie, 4);
  memcpy(p + at + 8, &sublayer, 4);
  uint8_t* eth = p + at + 12;
  const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  memcpy(eth, macs, 12);
  eth[12] = 0x08;
  for (size_t i = at + 26; i < kSegment; ++i) p[i] = static_cast<uint8_t>(i);
}

void FillGso(uint8_t* buf) {
  for (size_t s = 0; s < kSegments; ++s) FillL2tp(buf + s * kSegment, true, static_cast<uint32_t>(s));
}

uint16_t IpChecksum(const void* data, size_t len) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (len & 1) sum += p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

void FillIpv4(uint8_t* p, size_t payload, int proto, in_addr src, in_addr dst) {
  iphdr ip{};
  ip.version = 4;
  ip.ihl = 5;
  ip.tot_len = htons(static_cast<uint16_t>(20 + payload));
  ip.frag_off = htons(IP_DF);
  ip.ttl = 64;
  ip.protocol = static_cast<uint8_t>(proto);
  ip.saddr = src.s_addr;
  ip.daddr = dst.s_addr;
  ip.check = IpChecksum(&ip, sizeof ip);
  memcpy(p, &ip, sizeof ip);
}

bool ParseMac(const char* s, uint8_t out[6]) {
  unsigned v[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return false;
  for (int i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(v[i]);
  return true;
}

bool OwnMac(int fd, const char* ifname, uint8_t out[6]) {
  ifreq ifr{};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) return false;
  memcpy(out, ifr.ifr_hwaddr.sa_data, 6);
  return true;
}

std::vector<uint8_t*> AlignedBuffers(int n, size_t bytes) {
  std::vector<uint8_t*> v;
  for (int i = 0; i < n; ++i) {
    void* p = nullptr;
    if (posix_memalign(&p, 4096, bytes) != 0) abort();
    memset(p, 0, bytes);  // touch every page before the clock starts
    v.push_back(static_cast<uint8_t*>(p));
  }
  return v;
}

// A socket of `type` and `proto` bound to src and connected to dst (UDP:
// port 1701); raw IPv4 with IP_HDRINCL where `hdrincl`. -1 on failure, with
// r->error saying why.
int ConnectedSocket(int type, int proto, in_addr src, in_addr dst, bool hdrincl, Result* r) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, proto);
  int one = 1;
  sockaddr_in a{}, b{};
  a.sin_family = b.sin_family = AF_INET;
  a.sin_addr = src;
  b.sin_addr = dst;
  if (type == SOCK_DGRAM) b.sin_port = htons(kL2tpPort);
  if (fd < 0 || (hdrincl && setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) ||
      bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&b), sizeof b) < 0) {
    r->error = std::string(type == SOCK_DGRAM ? "udp" : "raw") + " socket: " + strerror(errno);
    return -1;
  }
  return fd;
}

int UdpSocket(in_addr src, in_addr dst, Result* r) {
  return ConnectedSocket(SOCK_DGRAM, 0, src, dst, false, r);
}

// One GSO send's message: the buffer and a UDP_SEGMENT control message.
struct GsoMsg {
  iovec iov;
  msghdr msg;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))];
  void Init(uint8_t* buf) {
    iov = {buf, kGsoBytes};
    msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t seg = kSegment;
    memcpy(CMSG_DATA(c), &seg, sizeof seg);
  }
};

void RunGso(in_addr src, in_addr dst, double secs, Result* r) {
  int fd = UdpSocket(src, dst, r);
  if (fd < 0) return;
  uint8_t* buf = AlignedBuffers(1, kBufferBytes)[0];
  FillGso(buf);
  GsoMsg m;
  m.Init(buf);
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  Meter meter;
  while (Clock::now() < end) {
    ssize_t n = sendmsg(fd, &m.msg, 0);
    ++r->calls;
    if (n < 0) {
      Fail(r, errno);
      continue;
    }
    r->packets += kSegments;
    r->bytes += n;
  }
  meter.Stop(r);
  close(fd);
}

// MSG_ZEROCOPY: each successful send gets the socket's next id; completions
// arrive on the error queue as id ranges [lo, hi].
class ZcPool {
 public:
  explicit ZcPool(int fd) : fd_(fd) {
    for (int i = 0; i < kPool; ++i) busy_[i] = false;
  }
  bool busy(int b) const { return busy_[b]; }
  void Sent(int b) {
    busy_[b] = true;
    id_[b] = next_id_++;
  }
  // Reads every queued completion; returns how many notifications it read.
  int Drain(Result* r) {
    int got = 0;
    for (;;) {
      char control[128];
      msghdr m{};
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      if (recvmsg(fd_, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return got;
      for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_IP || c->cmsg_type != IP_RECVERR) continue;
        sock_extended_err serr;
        memcpy(&serr, CMSG_DATA(c), sizeof serr);
        if (serr.ee_origin != SO_EE_ORIGIN_ZEROCOPY || serr.ee_errno != 0) continue;
        uint32_t lo = serr.ee_info, hi = serr.ee_data;
        long n = static_cast<long>(hi - lo) + 1;
        ++got;
        ++r->completions;
        r->completed_sends += n;
        if (serr.ee_code & SO_EE_CODE_ZEROCOPY_COPIED) {
          ++r->copied_completions;
          r->copied_sends += n;
        }
        for (int b = 0; b < kPool; ++b) {
          if (busy_[b] && id_[b] - lo <= hi - lo) busy_[b] = false;
        }
      }
    }
  }
  // Blocks (at most ms) until a completion is queued.
  void Wait(int ms) {
    pollfd p{fd_, 0, 0};  // POLLERR is always reported
    poll(&p, 1, ms);
  }
  int in_flight() const {
    int n = 0;
    for (int b = 0; b < kPool; ++b) n += busy_[b];
    return n;
  }

 private:
  int fd_;
  bool busy_[kPool];
  uint32_t id_[kPool] = {};
  uint32_t next_id_ = 0;
};

void RunGsoZc(in_addr src, in_addr dst, double secs, Result* r) {
  int fd = UdpSocket(src, dst, r);
  if (fd < 0) return;
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one) < 0) {
    r->error = std::string("SO_ZEROCOPY: ") + strerror(errno);
    return;
  }
  std::vector<uint8_t*> bufs = AlignedBuffers(kPool, kBufferBytes);
  std::vector<GsoMsg> msgs(kPool);
  for (int b = 0; b < kPool; ++b) {
    FillGso(bufs[b]);
    msgs[b].Init(bufs[b]);
  }
  ZcPool pool(fd);
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  Meter meter;
  int b = 0;
  while (Clock::now() < end) {
    if (pool.busy(b)) {
      pool.Drain(r);
      if (pool.busy(b)) {
        pool.Wait(10);
        continue;
      }
    }
    ssize_t n = sendmsg(fd, &msgs[b].msg, MSG_ZEROCOPY);
    ++r->calls;
    if (n < 0) {
      // ENOBUFS: too much notification memory outstanding (optmem); read
      // completions and try again.
      if (errno == ENOBUFS) {
        pool.Drain(r);
        pool.Wait(1);
      }
      Fail(r, errno);
      continue;
    }
    pool.Sent(b);
    r->packets += kSegments;
    r->bytes += n;
    b = (b + 1) % kPool;
  }
  meter.Stop(r);
  for (int i = 0; i < 100 && pool.in_flight(); ++i) {  // bounded: 1 s
    pool.Drain(r);
    if (pool.in_flight()) pool.Wait(10);
  }
  close(fd);
}

// A ring of `entries` set up as the datapath sets its rings up (single
// issuer, deferred task work), with plain flags on kernels without them;
// false, with r->error saying why, if neither works.
bool SetUpRing(io_uring* ring, unsigned entries, Result* r) {
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int e = io_uring_queue_init_params(entries, ring, &p);
  if (e < 0) {
    p = {};
    e = io_uring_queue_init_params(entries, ring, &p);
  }
  if (e < 0) r->error = std::string("io_uring_queue_init: ") + strerror(-e);
  return e >= 0;
}

bool UringOpSupported(io_uring* ring, int op, std::string* why) {
  io_uring_probe* probe = io_uring_get_probe_ring(ring);
  if (!probe) {
    *why = "io_uring_get_probe_ring failed";
    return false;
  }
  bool ok = io_uring_opcode_supported(probe, op);
  io_uring_free_probe(probe);
  if (!ok) *why = "opcode " + std::to_string(op) + " not supported by this kernel";
  return ok;
}

void RunUring(in_addr src, in_addr dst, double secs, bool zc, Result* r) {
  int fd = UdpSocket(src, dst, r);
  if (fd < 0) return;
  io_uring ring;
  if (!SetUpRing(&ring, 64, r)) return;
  std::string why;
  if (!UringOpSupported(&ring, zc ? IORING_OP_SENDMSG_ZC : IORING_OP_SENDMSG, &why)) {
    r->error = why;
    return;
  }
  std::vector<uint8_t*> bufs = AlignedBuffers(kPool, kBufferBytes);
  std::vector<GsoMsg> msgs(kPool);
  for (int b = 0; b < kPool; ++b) {
    FillGso(bufs[b]);
    msgs[b].Init(bufs[b]);
  }
  bool busy[kPool] = {};
  int in_flight = 0;
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  Meter meter;
  bool sending = true;
  while (sending || in_flight) {
    if (sending && Clock::now() >= end) {
      sending = false;
      meter.Stop(r);  // CPU of the loop; the tail below only collects CQEs
    }
    if (sending) {
      for (int b = 0; b < kPool; ++b) {
        if (busy[b]) continue;
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        if (!sqe) break;
        if (zc) {
          io_uring_prep_sendmsg_zc(sqe, fd, &msgs[b].msg, 0);
          sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
        } else {
          io_uring_prep_sendmsg(sqe, fd, &msgs[b].msg, 0);
        }
        io_uring_sqe_set_data64(sqe, b);
        busy[b] = true;
        ++in_flight;
        ++r->calls;
      }
    }
    __kernel_timespec ts{0, 200 * 1000 * 1000};  // bounds the tail
    io_uring_cqe* cqe = nullptr;
    int w = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, sending ? nullptr : &ts, nullptr);
    if (w < 0 && w != -ETIME && w != -EINTR) {
      r->error = std::string("io_uring_submit_and_wait: ") + strerror(-w);
      break;
    }
    if (w == -ETIME && !sending) break;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      int b = static_cast<int>(io_uring_cqe_get_data64(cqe));
      if (cqe->flags & IORING_CQE_F_NOTIF) {
        ++r->completions;
        ++r->completed_sends;
        if (static_cast<uint32_t>(cqe->res) & IORING_NOTIF_USAGE_ZC_COPIED) {
          ++r->copied_completions;
          ++r->copied_sends;
        }
        busy[b] = false;
        --in_flight;
        continue;
      }
      if (cqe->res < 0) {
        Fail(r, -cqe->res);
      } else {
        r->packets += kSegments;
        r->bytes += cqe->res;
      }
      // Without F_MORE no notification follows: the buffer is free now.
      if (!(cqe->flags & IORING_CQE_F_MORE)) {
        busy[b] = false;
        --in_flight;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  if (sending) meter.Stop(r);
  io_uring_queue_exit(&ring);
  close(fd);
}

// kBatch distinct L2TP/IP packets, as the datapath's batches hold them, one
// iovec and message each; with `ip_header`, an IPv4 header in front of each
// (for IP_HDRINCL).
struct RawBatch {
  RawBatch(bool ip_header, in_addr src, in_addr dst) {
    const size_t length = (ip_header ? 20 : 0) + kSegment;
    uint8_t* buf = AlignedBuffers(1, kBatch * length)[0];
    for (int i = 0; i < kBatch; ++i) {
      uint8_t* p = buf + i * length;
      if (ip_header) FillIpv4(p, kSegment, kL2tpProto, src, dst);
      FillL2tp(p + length - kSegment, false, i);
      iov[i] = {p, length};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
};

// Raw IPv4 sends, sendmmsg of kBatch; `hdrincl`: with IP_HDRINCL.
void RunRawIp(in_addr src, in_addr dst, double secs, bool hdrincl, Result* r) {
  int fd = ConnectedSocket(SOCK_RAW, kL2tpProto, src, dst, hdrincl, r);
  if (fd < 0) return;
  RawBatch batch(hdrincl, src, dst);
  SendBatchesFor(fd, batch.msgs, secs, r);
}

// RunRawIp's batches as kBatch IORING_OP_SENDMSG per io_uring_enter, which
// waits for all of them (raw sends complete inline).
void RunRawUring(in_addr src, in_addr dst, double secs, Result* r) {
  int fd = ConnectedSocket(SOCK_RAW, kL2tpProto, src, dst, false, r);
  if (fd < 0) return;
  io_uring ring;
  if (!SetUpRing(&ring, kBatch, r)) return;
  RawBatch batch(false, src, dst);
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  Meter meter;
  while (Clock::now() < end) {
    for (int i = 0; i < kBatch; ++i) {
      io_uring_prep_sendmsg(io_uring_get_sqe(&ring), fd, &batch.msgs[i].msg_hdr, MSG_DONTWAIT);
    }
    ++r->calls;
    int w = io_uring_submit_and_wait(&ring, kBatch);
    if (w < 0) {
      Fail(r, -w);
      continue;
    }
    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      if (cqe->res < 0) {
        Fail(r, -cqe->res);
      } else {
        ++r->packets;
        r->bytes += cqe->res;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  meter.Stop(r);
  io_uring_queue_exit(&ring);
  close(fd);
}

// A packet socket bound to ifname for sending only (protocol 0: it receives
// nothing), optionally bypassing the qdisc and taking a virtio_net_hdr.
int PacketSocket(const char* ifname, bool bypass, bool vnet, Result* r) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r->error = std::string("packet socket: ") + strerror(errno);
    return -1;
  }
  int one = 1;
  if (bypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) {
    r->error = std::string("PACKET_QDISC_BYPASS: ") + strerror(errno);
    return -1;
  }
  if (vnet && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) {
    r->error = std::string("PACKET_VNET_HDR: ") + strerror(errno);
    return -1;
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname));
  if (!sll.sll_ifindex || bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    r->error = std::string("packet bind ") + ifname + ": " + strerror(errno);
    return -1;
  }
  return fd;
}

void FillEth(uint8_t* p, const uint8_t dst_mac[6], const uint8_t src_mac[6]) {
  memcpy(p, dst_mac, 6);
  memcpy(p + 6, src_mac, 6);
  p[12] = 0x08;  // IPv4
  p[13] = 0x00;
}

void RunPacket(const char* ifname, const uint8_t dst_mac[6], in_addr src, in_addr dst, double secs,
               Result* r) {
  int fd = PacketSocket(ifname, true, false, r);
  if (fd < 0) return;
  uint8_t src_mac[6];
  if (!OwnMac(fd, ifname, src_mac)) {
    r->error = std::string("SIOCGIFHWADDR: ") + strerror(errno);
    return;
  }
  constexpr size_t kFrame = kEthIp + kSegment;
  uint8_t* buf = AlignedBuffers(1, kBatch * kFrame)[0];
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  for (int i = 0; i < kBatch; ++i) {
    uint8_t* f = buf + i * kFrame;
    FillEth(f, dst_mac, src_mac);
    FillIpv4(f + 14, kSegment, kL2tpProto, src, dst);
    FillL2tp(f + kEthIp, false, i);
    iov[i] = {f, kFrame};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  SendBatchesFor(fd, msgs, secs, r);
}

void PrintResult(const Result& r) {
  printf(
      "{\"mode\":\"%s\",\"error\":\"%s\",\"seconds\":%.4f,\"calls\":%ld,\"packets\":%ld,\"bytes\":%ld,"
      "\"errors\":%ld,\"first_errno\":\"%s\",\"zc_completions\":%ld,\"zc_completed_sends\":%ld,"
      "\"zc_copied_completions\":%ld,\"zc_copied_sends\":%ld,\"cpu_ns\":%ld,\"utime_us\":%ld,"
      "\"stime_us\":%ld,\"threads\":%d}\n",
      r.mode.c_str(), r.error.c_str(), r.seconds, r.calls, r.packets, r.bytes, r.errors,
      r.first_errno ? strerrorname_np(r.first_errno) : "", r.completions, r.completed_sends,
      r.copied_completions, r.copied_sends, r.cpu_ns, r.utime_us, r.stime_us, r.threads);
}

int Send(int argc, char** argv) {
  if (argc < 6) return 2;
  Result r;
  r.mode = argv[2];
  double secs = atof(argv[3]);
  in_addr src, dst;
  if (secs <= 0 || secs > 600 || inet_pton(AF_INET, argv[4], &src) != 1 ||
      inet_pton(AF_INET, argv[5], &dst) != 1) {
    return 2;
  }
  if (r.mode == "gso") {
    RunGso(src, dst, secs, &r);
  } else if (r.mode == "gso-zc") {
    RunGsoZc(src, dst, secs, &r);
  } else if (r.mode == "uring") {
    RunUring(src, dst, secs, false, &r);
  } else if (r.mode == "uring-zc") {
    RunUring(src, dst, secs, true, &r);
  } else if (r.mode == "raw-ip") {
    RunRawIp(src, dst, secs, false, &r);
  } else if (r.mode == "raw-hdrincl") {
    RunRawIp(src, dst, secs, true, &r);
  } else if (r.mode == "raw-uring") {
    RunRawUring(src, dst, secs, &r);
  } else if (r.mode == "packet") {
    uint8_t mac[6];
    if (argc < 8 || !ParseMac(argv[7], mac)) return 2;
    RunPacket(argv[6], mac, src, dst, secs, &r);
  } else {
    return 2;
  }
  PrintResult(r);
  return r.error.empty() ? 0 : 1;
}

// One 64 KiB frame for the vnet probe, after its virtio_net_hdr.
std::vector<uint8_t> VnetFrame(const std::string& variant, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                               in_addr src, in_addr dst, bool* ok) {
  VirtioNetHdr h{};
  bool udp = variant == "udp-udpl4-csum";
  size_t l4 = udp ? 8 : 0;  // UDP header before the L2TP packets
  size_t frame = kEthIp + l4 + kGsoBytes;
  *ok = true;
  if (variant == "l2tpip-nogso") {
    h.gso_type = kGsoNone;
  } else if (variant == "l2tpip-tcpv4") {
    h.gso_type = kGsoTcpV4;
  } else if (variant == "l2tpip-tcpv4-csum") {
    h.gso_type = kGsoTcpV4;
    h.flags = kNeedsCsum;
    h.csum_offset = 16;  // offsetof(tcphdr, check)
  } else if (variant == "l2tpip-udpl4-csum" || udp) {
    h.gso_type = kGsoUdpL4;
    h.flags = kNeedsCsum;
    h.csum_offset = 6;  // offsetof(udphdr, check)
  } else {
    *ok = false;
  }
  h.csum_start = kEthIp;
  h.hdr_len = static_cast<uint16_t>(kEthIp + (udp ? 8 : 12));
  h.gso_size = h.gso_type == kGsoNone ? 0 : kSegment;
  std::vector<uint8_t> out(sizeof h + frame);
  memcpy(out.data(), &h, sizeof h);
  uint8_t* f = out.data() + sizeof h;
  FillEth(f, dst_mac, src_mac);
  FillIpv4(f + 14, l4 + kGsoBytes, udp ? IPPROTO_UDP : kL2tpProto, src, dst);
  if (udp) {
    udphdr u{};
    u.source = htons(kL2tpPort);
    u.dest = htons(kL2tpPort);
    u.len = htons(static_cast<uint16_t>(8 + kGsoBytes));
    // CHECKSUM_PARTIAL wants the pseudo-header sum, not complemented.
    uint32_t sum = ntohs(src.s_addr & 0xffff) + ntohs(src.s_addr >> 16) + ntohs(dst.s_addr & 0xffff) +
                   ntohs(dst.s_addr >> 16) + IPPROTO_UDP + 8 + kGsoBytes;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    u.check = htons(static_cast<uint16_t>(sum));
    memcpy(f + kEthIp, &u, sizeof u);
  }
  for (size_t s = 0; s < kSegments; ++s) FillL2tp(f + kEthIp + l4 + s * kSegment, udp, s);
  return out;
}

int Vnet(int argc, char** argv) {
  if (argc < 7) return 2;
  Result r;
  r.mode = std::string("vnet:") + argv[2];
  const char* ifname = argv[3];
  uint8_t dst_mac[6], src_mac[6];
  in_addr src, dst;
  int count = argc > 7 ? atoi(argv[7]) : 20;
  bool bypass = !(argc > 8 && std::string(argv[8]) == "nobypass");
  if (!ParseMac(argv[4], dst_mac) || inet_pton(AF_INET, argv[5], &src) != 1 ||
      inet_pton(AF_INET, argv[6], &dst) != 1 || count < 1 || count > 10000) {
    return 2;
  }
  int fd = PacketSocket(ifname, bypass, true, &r);
  if (fd >= 0 && !OwnMac(fd, ifname, src_mac)) r.error = std::string("SIOCGIFHWADDR: ") + strerror(errno);
  if (fd >= 0 && r.error.empty()) {
    bool ok;
    std::vector<uint8_t> frame = VnetFrame(argv[2], dst_mac, src_mac, src, dst, &ok);
    if (!ok) return 2;
    Meter meter;
    for (int i = 0; i < count; ++i) {
      ssize_t n = send(fd, frame.data(), frame.size(), 0);
      ++r.calls;
      if (n < 0) {
        Fail(&r, errno);
        continue;
      }
      r.packets += 1;  // super-frames the kernel accepted
      r.bytes += n;
    }
    meter.Stop(&r);
  }
  if (!bypass) r.mode += ":nobypass";
  PrintResult(r);
  return r.error.empty() ? 0 : 1;
}

int Check() {
  io_uring ring;
  int e = io_uring_queue_init(8, &ring, 0);
  if (e < 0) {
    printf("io_uring: unavailable (%s)\n", strerror(-e));
  } else {
    const int ops[] = {IORING_OP_SENDMSG, IORING_OP_SEND_ZC, IORING_OP_SENDMSG_ZC};
    const char* names[] = {"IORING_OP_SENDMSG", "IORING_OP_SEND_ZC", "IORING_OP_SENDMSG_ZC"};
    for (int i = 0; i < 3; ++i) {
      std::string why;
      printf("%s: %s\n", names[i], UringOpSupported(&ring, ops[i], &why) ? "supported" : why.c_str());
    }
    io_uring_queue_exit(&ring);
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  printf("SO_ZEROCOPY on UDP: %s\n",
         setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one) == 0 ? "accepted" : strerror(errno));
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  int rc = 2;
  if (cmd == "send") rc = Send(argc, argv);
  if (cmd == "vnet") rc = Vnet(argc, argv);
  if (cmd == "check") rc = Check();
  if (rc == 2) {
    fprintf(
        stderr,
        "usage: send-probe send gso|gso-zc|uring|uring-zc|raw-ip|raw-hdrincl|raw-uring|packet SECONDS SRC_IP DST_IP "
        "[IFNAME DST_MAC]\n"
        "       send-probe vnet VARIANT IFNAME DST_MAC SRC_IP DST_IP [COUNT] [nobypass]\n"
        "       send-probe check\n");
  }
  return rc;
}
