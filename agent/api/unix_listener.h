// The API's unix socket, accepted by the agent itself so it learns who
// connected: gRPC 1.51 puts no peer credentials into the AuthContext of a
// unix-socket call. Each accepted connection's SO_PEERCRED (and
// SO_PEERGROUPS) is recorded under its fd, then the fd is handed to the gRPC
// server (grpc::AddInsecureChannelFromFd). Calls on it have peer() "fd:N".
//
// Why keying by fd number is safe: gRPC closes the fd only when the
// connection's transport is destroyed, and a live call holds a reference on
// its transport. So while a call runs, fd N is still the connection the call
// came in on. A later connection that reuses number N is recorded here
// before it is handed to gRPC, so before any call on it can exist.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "agent/api/peer_identity.h"

namespace grpc {
class Server;
}

namespace l2tp {

// "NAME" or a numeric gid; errors name --socket-group.
absl::StatusOr<gid_t> ParseSocketGroup(const std::string& text);

// Bounds on open connections, so that no caller can use up the agent's file
// descriptors and lock everyone out. A connection over a bound is closed at
// once. Root and the agent's own uid may go `reserve` connections past
// `total`, so an operator can always reach the agent.
struct ConnectionLimits {
  uint32_t per_peer = 32;  // per uid; 0: no bound
  uint32_t total = 512;    // 0: no bound
  uint32_t reserve = 16;
};

class UnixListener {
 public:
  // "per_peer" or "total": which bound closed a connection.
  using RefusalObserver = std::function<void(const char* reason)>;

  // Prepares `path` (PrepareUnixSocketPath: parent directory, stale socket,
  // refusals), then binds and listens on it: mode 0660, owner the agent's
  // uid, group `group` (nullopt: the agent's gid).
  static absl::StatusOr<std::unique_ptr<UnixListener>> Create(const std::string& path,
                                                              std::optional<gid_t> group,
                                                              ConnectionLimits limits = {},
                                                              RefusalObserver on_refused = nullptr);
  ~UnixListener();

  // Accepts connections on a thread of its own and hands them to `server`,
  // which must be started.
  void Start(grpc::Server* server);
  // Stops accepting (call before shutting the server down); removes the socket.
  void Stop();

  // The credentials of the connection on `fd`, if this listener accepted it.
  std::optional<UnixPeer> PeerOf(int fd) const;
  UnixPeerLookup Lookup() const {
    return [this](int fd) { return PeerOf(fd); };
  }

 private:
  struct Connection {
    UnixPeer peer;
    ino_t inode;  // tells the connection from a later file that reuses the fd number
  };

  UnixListener(std::string path, int fd, int wake_read, int wake_write)
      : path_(std::move(path)), fd_(fd), wake_read_(wake_read), wake_write_(wake_write) {}
  void AcceptLoop(grpc::Server* server);
  // Why `peer` may not have one more connection, or null when it may.
  const char* RefusalReason(const UnixPeer& peer);
  // Forgets connections gRPC has closed (mu_ held).
  void ForgetClosed();

  const std::string path_;
  const int fd_;
  const int wake_read_, wake_write_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  mutable std::mutex mu_;
  std::map<int, Connection> peers_;  // by fd; replaced when a number is reused
  ConnectionLimits limits_;
  RefusalObserver on_refused_;
  std::chrono::steady_clock::time_point last_refusal_log_;  // accept thread only
};

}  // namespace l2tp
