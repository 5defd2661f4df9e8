#include "agent/api/tcp_connection_limits.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "common/log.h"

namespace l2tp {
namespace {

constexpr const char* kEstablished = "01";

// Socket inodes of this process's descriptors, with the descriptor.
std::map<uint64_t, int> OwnSockets() {
  std::map<uint64_t, int> out;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long fd = strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    char target[64];
    ssize_t n = readlink((std::string("/proc/self/fd/") + e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    unsigned long long inode = 0;
    if (sscanf(target, "socket:[%llu]", &inode) == 1) out[inode] = static_cast<int>(fd);
  }
  closedir(dir);
  return out;
}

std::string ReadAll(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<ConnectionToClose> ConnectionsOverLimits(std::vector<TcpConnection> connections,
                                                     const ConnectionLimits& limits) {
  std::sort(connections.begin(), connections.end(),
            [](const TcpConnection& a, const TcpConnection& b) { return a.inode < b.inode; });
  std::vector<ConnectionToClose> out;
  std::map<std::string, uint32_t> per_peer;
  uint32_t kept = 0;
  for (const TcpConnection& c : connections) {
    if (limits.per_peer > 0 && per_peer[c.peer] >= limits.per_peer) {
      out.push_back({c.inode, "per_peer"});
    } else if (limits.total > 0 && kept >= limits.total) {
      out.push_back({c.inode, "total"});
    } else {
      ++per_peer[c.peer];
      ++kept;
    }
  }
  return out;
}

std::vector<TcpConnection> ParseProcNetTcp(const std::string& text, uint16_t port) {
  std::vector<TcpConnection> out;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // the column names
  while (std::getline(lines, line)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    std::istringstream f(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout;
    uint64_t inode = 0;
    if (!(f >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode))
      continue;
    const size_t colon = local.rfind(':');
    const size_t rcolon = remote.rfind(':');
    if (colon == std::string::npos || rcolon == std::string::npos || state != kEstablished) continue;
    if (strtoul(local.c_str() + colon + 1, nullptr, 16) != port) continue;
    out.push_back({inode, remote.substr(0, rcolon)});  // the address in the kernel's hex
  }
  return out;
}

TcpConnectionWatcher::TcpConnectionWatcher(uint16_t port, ConnectionLimits limits, RefusalObserver on_refused)
    : port_(port), limits_(limits), on_refused_(std::move(on_refused)) {
  thread_ = std::thread([this] { Loop(); });
}

TcpConnectionWatcher::~TcpConnectionWatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void TcpConnectionWatcher::Loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    lock.unlock();
    CheckNow();
    lock.lock();
  }
}

int TcpConnectionWatcher::CheckNow() {
  // Our own sockets only: the kernel's table lists the whole namespace.
  const std::map<uint64_t, int> own = OwnSockets();
  std::vector<TcpConnection> connections;
  for (const char* table : {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
    for (TcpConnection& c : ParseProcNetTcp(ReadAll(table), port_)) {
      if (own.count(c.inode)) connections.push_back(std::move(c));
    }
  }
  int closed = 0;
  for (const ConnectionToClose& c : ConnectionsOverLimits(std::move(connections), limits_)) {
    const int fd = own.at(c.inode);
    struct stat info {};
    // The descriptor may have been closed and reused since the look.
    if (fstat(fd, &info) != 0 || info.st_ino != c.inode) continue;
    shutdown(fd, SHUT_RDWR);
    ++closed;
    if (on_refused_) on_refused_(c.reason);
  }
  if (closed > 0) {
    L2TP_LOG(kWarning) << "tcp listener: shut down " << closed << " connection(s) over the limits"
                       << " (--max-connections " << limits_.total << ", --max-connections-per-peer "
                       << limits_.per_peer << " per address)";
  }
  return closed;
}

}  // namespace l2tp
