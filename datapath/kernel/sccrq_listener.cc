// Register (the control plane's thread, from OpenManagedSocket) -> a
// listening L2TP/IP socket per local address, bound to connection id 0.
// Loop (this class's thread): epoll on the listeners -> ReadListener -> the
// registrations for (local, sender) -> ControlFrameSink::ControlFrame, called
// without mu_ held (the sink takes its own lock, and that lock is held while
// the control plane calls Register). Idle listeners are closed here too.
#include "datapath/kernel/sccrq_listener.h"

#include <linux/l2tp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "datapath/underlay_socket.h"

namespace l2tp::kernel {
namespace {

constexpr int kPruneIntervalMs = 2000;
constexpr int kReadBudget = 64;      // frames per wake-up and listener
constexpr size_t kMaxFrame = 65535;  // an L2TP/IP datagram without its session id

IpAddress SenderOf(const sockaddr_storage& from) {
  // The kernel fills a sockaddr_in (L2TP/IP) or sockaddr_l2tpip6, whose
  // address sits where sockaddr_in6 has it.
  IpAddress ip;
  if (from.ss_family == AF_INET) {
    ip.family = AF_INET;
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in&>(from).sin_addr, 4);
  } else if (from.ss_family == AF_INET6) {
    ip.family = AF_INET6;
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6&>(from).sin6_addr, 16);
  }
  return ip;
}

}  // namespace

SccrqListener::~SccrqListener() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  for (const Listener& l : listeners_) close(l.fd);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void SccrqListener::SetSink(ControlFrameSink* sink) {
  std::lock_guard lock(mu_);
  sink_ = sink;
}

size_t SccrqListener::listening() const {
  std::lock_guard lock(mu_);
  return listeners_.size();
}

bool SccrqListener::Alive(const Registration& r) {
  struct stat st {};
  return fstat(r.fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == r.dev && st.st_ino == r.ino;
}

absl::Status SccrqListener::Register(const TunnelConfig& config, int fd) {
  struct stat st {};
  if (fstat(fd, &st) < 0)
    return absl::ErrnoToStatus(errno, absl::StrCat("tunnel ", config.tunnel_id, ": fstat"));
  std::lock_guard lock(mu_);
  PruneLocked(/*close_idle=*/false);
  registrations_.push_back({config.local, config.remote, config.tunnel_id, fd, st.st_dev, st.st_ino});
  for (const Listener& l : listeners_) {
    if (l.local == config.local) return absl::OkStatus();
  }
  if (auto s = StartLocked(); !s.ok()) return s;
  return OpenListenerLocked(config.local);
}

absl::Status SccrqListener::StartLocked() {
  if (thread_.joinable()) return absl::OkStatus();
  if (epoll_fd_ < 0) epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return absl::ErrnoToStatus(errno, "SCCRQ listener: epoll_create1");
  if (wake_fd_ >= 0) close(wake_fd_);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return absl::ErrnoToStatus(errno, "SCCRQ listener: eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
    return absl::ErrnoToStatus(errno, "SCCRQ listener: epoll_ctl");
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

absl::Status SccrqListener::OpenListenerLocked(const IpAddress& local) {
  const std::string what = absl::StrCat("L2TP/IP socket for SCCRQs (connection id 0) on ", local.ToString());
  const int fd = socket(local.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, kIpProtoL2tp);
  if (fd < 0) return absl::ErrnoToStatus(errno, what);
  sockaddr_storage ss{};
  socklen_t len;
  if (local.is_v4()) {
    auto* a = reinterpret_cast<sockaddr_l2tpip*>(&ss);
    a->l2tp_family = AF_INET;
    std::memcpy(&a->l2tp_addr, local.bytes.data(), 4);
    a->l2tp_conn_id = 0;
    len = sizeof(sockaddr_l2tpip);
  } else {
    auto* a = reinterpret_cast<sockaddr_l2tpip6*>(&ss);
    a->l2tp_family = AF_INET6;
    std::memcpy(&a->l2tp_addr, local.bytes.data(), 16);
    a->l2tp_conn_id = 0;
    len = sizeof(sockaddr_l2tpip6);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat(what, ": bind"));
  }
  Listener l{next_key_++, local, fd};
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = l.key;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat(what, ": epoll_ctl"));
  }
  listeners_.push_back(l);
  L2TP_LOG(kDebug) << "kernel: listening for SCCRQs over L2TP/IP on " << local.ToString();
  return absl::OkStatus();
}

void SccrqListener::PruneLocked(bool close_idle) {
  std::erase_if(registrations_, [](const Registration& r) { return !Alive(r); });
  if (!close_idle) return;
  std::erase_if(listeners_, [&](const Listener& l) {
    const bool needed = std::any_of(registrations_.begin(), registrations_.end(),
                                    [&](const Registration& r) { return r.local == l.local; });
    if (needed) return false;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
    close(l.fd);
    L2TP_LOG(kDebug) << "kernel: no longer listening for SCCRQs on " << l.local.ToString();
    return true;
  });
}

void SccrqListener::Loop() {
  epoll_event events[16];
  auto last_prune = std::chrono::steady_clock::now();
  while (!stopping_) {
    const int n = epoll_wait(epoll_fd_, events, 16, kPruneIntervalMs);
    if (stopping_) break;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == 0) {
        uint64_t drain;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &drain, sizeof drain);
        continue;
      }
      ReadListener(events[i].data.u64);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_prune >= std::chrono::milliseconds(kPruneIntervalMs)) {
      last_prune = now;
      std::lock_guard lock(mu_);
      PruneLocked(/*close_idle=*/true);
    }
  }
}

// Only this thread closes listeners, so the descriptor stays valid here.
void SccrqListener::ReadListener(uint64_t key) {
  int fd = -1;
  IpAddress local;
  {
    std::lock_guard lock(mu_);
    for (const Listener& l : listeners_) {
      if (l.key == key) fd = l.fd, local = l.local;
    }
  }
  if (fd < 0) return;
  // The frame as it was on the wire: the zero session id, then what the
  // kernel delivered (it strips the session id of control frames).
  static thread_local std::vector<uint8_t> buf(4 + kMaxFrame);
  for (int i = 0; i < kReadBudget; ++i) {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    const ssize_t n = recvfrom(fd, buf.data() + 4, buf.size() - 4, MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    const IpAddress sender = SenderOf(from);
    std::vector<uint32_t> tunnels;
    ControlFrameSink* sink = nullptr;
    {
      std::lock_guard lock(mu_);
      PruneLocked(/*close_idle=*/false);
      for (const Registration& r : registrations_) {
        if (r.local == local && r.remote == sender &&
            std::find(tunnels.begin(), tunnels.end(), r.tunnel_id) == tunnels.end()) {
          tunnels.push_back(r.tunnel_id);
        }
      }
      sink = sink_;
    }
    if (sink == nullptr || tunnels.empty()) {
      ++dropped_;
      L2TP_LOG(kDebug) << "kernel: dropped an L2TP/IP control frame to connection id 0 from "
                       << sender.ToString() << ": no DYNAMIC tunnel to that peer";
      continue;
    }
    std::memset(buf.data(), 0, 4);
    for (uint32_t id : tunnels) {
      sink->ControlFrame(id, std::span<const uint8_t>(buf.data(), static_cast<size_t>(n) + 4));
      ++delivered_;
    }
  }
}

}  // namespace l2tp::kernel
