// Control frames addressed to connection id 0 over L2TP/IP, for the managed
// sockets that cannot receive them.
//
// The kernel hands an L2TP/IP control frame (session id 0) only to the
// L2TP/IP socket bound to the connection id in the frame's control header
// (and to the frame's addresses). A managed socket is bound to its own
// tunnel id, so the SCCRQ that opens a connection, addressed to id 0 because
// the initiator does not know the responder's id yet, would reach no socket:
// a RESPONDER over IP encapsulation would never hear from its peer. (A
// StopCCN sent before the peer learned our id is addressed to 0 too.)
//
// The listener binds one L2TP/IP socket per local address to connection id
// 0 (not connected: it hears every peer) and hands each frame it reads to the
// ControlFrameSink under the tunnel id of every live managed socket
// registered for that local address and the frame's sender, with the zero
// session id put back in front (the frame as it was on the wire). The control
// plane takes it from there exactly as from its own socket. Frames from
// senders without a registration are dropped and counted.
//
// A registration lapses when its socket is closed (the descriptor no longer
// names the same socket); a listener with no live registration left is
// closed within a few seconds, releasing connection id 0 on its address.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "datapath/datapath.h"

namespace l2tp::kernel {

class SccrqListener {
 public:
  SccrqListener() = default;
  ~SccrqListener();  // stops the thread, closes the listening sockets
  SccrqListener(const SccrqListener&) = delete;
  SccrqListener& operator=(const SccrqListener&) = delete;

  void SetSink(ControlFrameSink* sink);

  // `fd` (owned by the caller) is the managed L2TP/IP socket of `config`.
  // Opens the listener for config.local unless there is one. An error (e.g.
  // EADDRINUSE: another program holds connection id 0 on that address) says
  // that this tunnel will not see SCCRQs; its socket works otherwise.
  absl::Status Register(const TunnelConfig& config, int fd);

  // For tests: listening sockets open now; frames dropped for want of a
  // registration (or of a sink); frames handed to the sink.
  size_t listening() const;
  uint64_t dropped() const { return dropped_; }
  uint64_t delivered() const { return delivered_; }

 private:
  struct Listener {
    uint64_t key = 0;  // epoll data: never 0 (0 is the wake-up eventfd)
    IpAddress local;
    int fd = -1;
  };
  struct Registration {
    IpAddress local, remote;
    uint32_t tunnel_id = 0;
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
  };

  absl::Status StartLocked();
  absl::Status OpenListenerLocked(const IpAddress& local);
  void Loop();
  void ReadListener(uint64_t key);
  // Forgets registrations whose socket is gone; with `close_idle`, closes
  // listeners no live registration needs.
  void PruneLocked(bool close_idle);
  static bool Alive(const Registration& r);

  mutable std::mutex mu_;
  ControlFrameSink* sink_ = nullptr;
  std::vector<Listener> listeners_;
  std::vector<Registration> registrations_;
  uint64_t next_key_ = 1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> dropped_{0}, delivered_{0};
};

}  // namespace l2tp::kernel
