// Connection limits on the TCP listener. gRPC accepts TCP connections itself
// (it has to: it runs TLS on them), so they cannot be refused at accept as on
// the unix socket. Instead a watcher looks at the process's own sockets once
// a second (/proc/self/fd, /proc/self/net/tcp{,6}) and shuts down the newest
// connections of an address over --max-connections-per-peer, and the newest
// over --max-connections in all. shutdown() (never close(): the descriptor
// is gRPC's) makes gRPC see the connection end and release it.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/api/unix_listener.h"

namespace l2tp {

// One established connection to the listener: its socket inode (which also
// orders connections by age) and the peer's address, without the port.
struct TcpConnection {
  uint64_t inode = 0;
  std::string peer;
};

struct ConnectionToClose {
  uint64_t inode;
  const char* reason;  // "per_peer" or "total"
};

// Pure: which connections go, oldest kept first.
std::vector<ConnectionToClose> ConnectionsOverLimits(std::vector<TcpConnection> connections,
                                                     const ConnectionLimits& limits);

// Pure: the established connections to local `port` in the text of
// /proc/net/tcp or tcp6 (kernel format: hex addresses, state 01).
std::vector<TcpConnection> ParseProcNetTcp(const std::string& text, uint16_t port);

class TcpConnectionWatcher {
 public:
  using RefusalObserver = std::function<void(const char* reason)>;
  TcpConnectionWatcher(uint16_t port, ConnectionLimits limits, RefusalObserver on_refused);
  ~TcpConnectionWatcher();  // stops the thread

  // One look, at once (the thread calls this every second; tests too).
  // Returns how many connections it shut down.
  int CheckNow();

 private:
  void Loop();

  const uint16_t port_;
  const ConnectionLimits limits_;
  RefusalObserver on_refused_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace l2tp
