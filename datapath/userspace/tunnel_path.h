// The data path of one tunnel: its socket, its sessions by session id, and
// the receive demultiplexer (a multishot recvmsg on the thread's io_uring,
// or recvmmsg batches in epoll mode). Sessions send through SendBatch
// (sendmmsg) and SendGso. Lives on one I/O thread; every method runs there.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

#include "datapath/datapath.h"
#include "datapath/userspace/io_loop.h"
#include "datapath/userspace/packet_batch.h"
#include "datapath/userspace/tunnel_socket.h"
#include "datapath/userspace/uring.h"

namespace l2tp::userspace {

class SessionPath;
struct LoopContext;

class TunnelPath : public EventHandler, public CompletionHandler {
 public:
  // `control`: where a managed tunnel's control frames go (null: static
  // tunnels, whose control frames are counted and dropped).
  TunnelPath(const TunnelConfig& config, TunnelSocket socket, LoopContext* ctx, ControlFrameSink* control);
  ~TunnelPath() override;

  absl::Status Start();
  // Stops I/O; `remove_taps` deletes the sessions' devices too.
  void Stop(bool remove_taps);

  // Takes ownership only on success.
  absl::Status AddSession(std::unique_ptr<SessionPath>&& session);
  // Stops and destroys the session (its TAP is removed if `remove_tap`).
  bool RemoveSession(uint32_t session_id, bool remove_tap);
  SessionPath* FindSession(uint32_t session_id);
  const std::unordered_map<uint32_t, std::unique_ptr<SessionPath>>& sessions() const { return sessions_; }

  // Epoll mode: socket readable; receive and demultiplex batches.
  void OnEvent(uint32_t epoll_events) override;
  // io_uring mode: one datagram (or UDP GRO batch) received, or the end of
  // the receive request.
  void OnCompletion(const Completion& c) override;
  // Sends `count` prepared messages of `batch`, from message `first`, for a
  // session; `lengths[i]` is the L2TP length of message i (for tx_bytes).
  void SendBatch(PacketBatch& batch, size_t count, const size_t* lengths, Counters* session_counters,
                 size_t first = 0);
  // Sends `segments` L2TP packets laid out back to back in `data` (all
  // `segment_length` long but the last) with one UDP GSO send.
  void SendGso(const uint8_t* data, size_t length, size_t segment_length, size_t segments,
               Counters* session_counters);
  bool CanGso() const { return socket_.gso(); }
  // Parses one received packet and hands it to its session.
  void ProcessPacket(std::span<const uint8_t> packet);

  const TunnelConfig& config() const { return config_; }
  Counters& counters() { return counters_; }
  const Counters& counters() const { return counters_; }

 private:
  static size_t GroSegmentSize(const cmsghdr* cm);
  // A datagram as read: several L2TP packets of `segment` bytes (the last
  // may be shorter) when UDP GRO merged them, else one.
  void ProcessDatagram(std::span<const uint8_t> data, size_t segment);
  void ProcessRingBuffer(uint8_t* data, size_t length);
  void ArmReceive();
  void WatchWithEpoll();
  void FlushTouchedSessions();

  TunnelConfig config_;
  TunnelSocket socket_;
  LoopContext* ctx_;
  ControlFrameSink* control_;
  bool watched_ = false;    // receiving (epoll watch or io_uring request)
  Uring* uring_ = nullptr;  // the thread's ring, in io_uring mode
  uint64_t uring_token_ = 0;
  msghdr ring_msg_{};                   // what each multishot receive asks for (control room)
  size_t gso_refused_from_ = SIZE_MAX;  // GSO segment size the kernel refused
  std::unordered_map<uint32_t, std::unique_ptr<SessionPath>> sessions_;
  // The last session FindSession found; reset whenever sessions_ changes.
  SessionPath* last_found_ = nullptr;
  uint32_t last_found_id_ = 0;
  Counters counters_;
};

}  // namespace l2tp::userspace
