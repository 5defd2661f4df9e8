#include "agent/api/unix_listener.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string_view>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/api/listener.h"
#include "common/log.h"
#include "grpcpp/server.h"
#include "grpcpp/server_posix.h"

namespace l2tp {
namespace {

std::string Errno() { return std::strerror(errno); }

// The peer's credentials at connect time.
std::optional<UnixPeer> ReadPeer(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
  UnixPeer peer;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  peer.pid = cred.pid;
#ifdef SO_PEERGROUPS
  std::vector<gid_t> groups(64);
  len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len);
  if (rc != 0 && errno == ERANGE) {
    groups.resize(len / sizeof(gid_t));
    rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len);
  }
  if (rc == 0) {
    groups.resize(len / sizeof(gid_t));
    peer.groups.assign(groups.begin(), groups.end());
  }
#endif
  return peer;
}

}  // namespace

absl::StatusOr<gid_t> ParseSocketGroup(const std::string& text) {
  uint32_t gid;
  if (absl::SimpleAtoi(text, &gid)) return static_cast<gid_t>(gid);
  std::vector<char> buf(16384);
  struct group g, *found = nullptr;
  if (getgrnam_r(text.c_str(), &g, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return found->gr_gid;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--socket-group: \"", text, "\" is neither a gid nor a known group"));
}

absl::StatusOr<std::unique_ptr<UnixListener>> UnixListener::Create(const std::string& path,
                                                                   std::optional<gid_t> group,
                                                                   ConnectionLimits limits,
                                                                   RefusalObserver on_refused) {
  if (auto st = PrepareUnixSocketPath(path); !st.ok()) return st;  // also checks the length
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("--socket: socket: ", Errno()));
  bool bound = false;
  auto fail = [&](const std::string& what) {
    std::string message = absl::StrCat("--socket: ", what, " ", path, ": ", Errno());
    if (bound) unlink(path.c_str());
    close(fd);
    return absl::InternalError(message);
  };
  // Nobody can connect before listen(), so setting the mode and group after
  // bind() leaves no window.
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("cannot bind");
  bound = true;
  if (chmod(path.c_str(), 0660) != 0) return fail("cannot chmod 0660");
  if (chown(path.c_str(), geteuid(), group ? *group : getegid()) != 0) {
    std::string message = absl::StrCat("--socket-group: cannot chown ", path, " to gid ",
                                       group ? *group : getegid(), ": ", Errno());
    unlink(path.c_str());
    close(fd);
    return absl::InternalError(message);
  }
  if (listen(fd, 128) != 0) return fail("cannot listen on");
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return fail("pipe for");
  std::unique_ptr<UnixListener> listener(new UnixListener(path, fd, wake[0], wake[1]));
  listener->limits_ = limits;
  listener->on_refused_ = std::move(on_refused);
  return listener;
}

UnixListener::~UnixListener() {
  Stop();
  close(fd_);
  close(wake_read_);
  close(wake_write_);
}

void UnixListener::Start(grpc::Server* server) {
  thread_ = std::thread([this, server] { AcceptLoop(server); });
}

void UnixListener::Stop() {
  if (stopped_.exchange(true)) return;
  char c = 0;
  (void)!write(wake_write_, &c, 1);
  if (thread_.joinable()) thread_.join();
  unlink(path_.c_str());
}

void UnixListener::AcceptLoop(grpc::Server* server) {
  while (!stopped_) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      L2TP_LOG(kError) << "unix socket: poll: " << Errno();
      return;
    }
    if (fds[1].revents != 0 || stopped_) return;
    int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      L2TP_LOG(kWarning) << "unix socket: accept: " << Errno();
      if (errno == EMFILE || errno == ENFILE) poll(nullptr, 0, 100);  // let fds free up
      continue;
    }
    std::optional<UnixPeer> peer = ReadPeer(conn);
    if (!peer) {
      L2TP_LOG(kWarning) << "unix socket: SO_PEERCRED: " << Errno() << "; closing the connection";
      close(conn);
      continue;
    }
    if (const char* refused = RefusalReason(*peer)) {
      close(conn);
      if (on_refused_) on_refused_(refused);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_refusal_log_ > std::chrono::seconds(1)) {  // a flood must not flood the log
        last_refusal_log_ = now;
        L2TP_LOG(kWarning) << "unix socket: closed a connection from uid " << peer->uid << " (pid "
                           << peer->pid << "): "
                           << (std::string_view(refused) == "total" ? "too many connections in all"
                                                                    : "too many connections from this uid")
                           << " (--max-connections " << limits_.total << ", --max-connections-per-peer "
                           << limits_.per_peer << ")";
      }
      continue;
    }
    struct stat info {};
    fstat(conn, &info);
    {
      std::lock_guard<std::mutex> lock(mu_);
      peers_[conn] = {*peer, info.st_ino};  // before gRPC sees the fd: no call on it exists yet
    }
    L2TP_LOG(kDebug) << "unix socket: connection fd " << conn << " from uid " << peer->uid << " gid "
                     << peer->gid << " pid " << peer->pid;
    grpc::AddInsecureChannelFromFd(server, conn);  // gRPC owns and closes the fd now
  }
}

void UnixListener::ForgetClosed() {
  // gRPC closes a connection's fd without telling us: an entry whose fd is
  // closed, or now names another file, is a connection that has ended.
  std::erase_if(peers_, [](const auto& entry) {
    struct stat info {};
    return fstat(entry.first, &info) != 0 || info.st_ino != entry.second.inode;
  });
}

const char* UnixListener::RefusalReason(const UnixPeer& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  ForgetClosed();
  if (limits_.per_peer > 0) {
    uint32_t from_peer = 0;
    for (const auto& [fd, c] : peers_) from_peer += c.peer.uid == peer.uid;
    if (from_peer >= limits_.per_peer) return "per_peer";
  }
  if (limits_.total > 0) {
    const bool operator_uid = peer.uid == 0 || peer.uid == geteuid();
    const uint64_t bound = uint64_t{limits_.total} + (operator_uid ? limits_.reserve : 0);
    if (peers_.size() >= bound) return "total";
  }
  return nullptr;
}

std::optional<UnixPeer> UnixListener::PeerOf(int fd) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(fd);
  if (it == peers_.end()) return std::nullopt;
  return it->second.peer;
}

}  // namespace l2tp
