// The data path of one tunnel: its socket, its sessions by session id, and
// the receive demultiplexer (a multishot recvmsg on the thread's io_uring,
// or recvmmsg batches in epoll mode). Sessions send through SendBatch
// (sendmmsg) and SendGso (one UDP GSO send gathered from iovecs that point
// at the packets where they lie). Lives on one I/O thread; every method runs
// there.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

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
  // Sends `count` prepared messages for a session with sendmmsg;
  // `lengths[i]` is the L2TP length of msgs[i] (for tx_bytes).
  void SendBatch(mmsghdr* msgs, size_t count, const size_t* lengths, Counters* session_counters);
  // Sends `segments` L2TP packets (all `segment_length` long but the last)
  // with one UDP GSO send gathering `iov`: packet k is the next
  // iov.size() / segments iovecs. Nothing is copied.
  void SendGso(std::span<const iovec> iov, size_t segment_length, size_t segments,
               Counters* session_counters);
  bool CanGso() const { return socket_.gso(); }
  // Checksums on every send (TunnelSocket::KeepChecksums): the socket is
  // shared with send-only replicas on other threads.
  void KeepChecksums() { socket_.KeepChecksums(); }
  // Parses one received packet and hands it to its session.
  void ProcessPacket(std::span<const uint8_t> packet);

  // Whether the kernel verified, for every packet received, a checksum
  // covering all its bytes (IPv6 UDP without zero-checksum receive): the
  // sessions' coalescers then skip the inner TCP/UDP checksums.
  bool rx_checksum_verified() const { return rx_checksum_verified_; }
  // The io_uring buffer holding the packet being handed to a session (-1:
  // none, e.g. in epoll mode); a session that keeps pointing into it holds it.
  int rx_buffer() const { return rx_buffer_; }

  const TunnelConfig& config() const { return config_; }
  Counters& counters() { return counters_; }
  const Counters& counters() const { return counters_; }

  // Receive spreading (tunnel_handoff.cc): the tunnel's own path receives
  // everything and hands the packets of some flows of spread sessions
  // (SessionPath::ReceivingThread) to replica paths on other threads, which
  // write them to their queues of the sessions' TAPs.
  struct HandoffTarget {
    LoopContext* ctx;
    uint64_t serial;  // of the replica path there
  };
  // The tunnel's own path: the replica paths, in thread order (thread k of
  // ReceivingThread is targets[k - 1]). Empty: nothing is handed over; what
  // was set aside goes out first.
  void SetHandoffTargets(std::vector<HandoffTarget> targets);
  // A replica path: takes packets handed over (until Stop).
  void AcceptHandoffs();
  uint64_t serial() const { return serial_; }
  // End of the batch: posts what was set aside to the threads it is for.
  void PostHandoffs();

 private:
  // A packet on its way to a replica path: where it lies in this thread's
  // ring (held until the receiving thread gives it back), or copied.
  struct HandedPacket {
    const uint8_t* data;  // null: at copy_at in the outbox's copies
    uint32_t length;
    uint32_t offset;  // just past the session id
    uint32_t session_id;
    uint32_t copy_at;
  };
  struct Outbox {
    std::vector<HandedPacket> packets;
    std::vector<int> buffers;  // held, once each
    std::vector<uint8_t> copies;
  };
  // Sets `packet` aside for thread `thread` (>= 1); false when it must be
  // processed here after all (epoll mode: not in a ring buffer).
  bool HandOff(size_t thread, std::span<const uint8_t> packet, size_t offset, uint32_t session_id);
  // A packet of a spread session received here (its flow's thread).
  void KeptHere();
  // Gives the packets of `out` to this path's sessions and writes what
  // they coalesced (a session gone since counts an error).
  void ReceiveOutbox(const Outbox& out);
  // What was set aside, received on this thread after all.
  void ReceiveHere(Outbox& out);
  // On the receiving thread: the packets to the replica path `serial`, then
  // the buffers back to `from`.
  static void TakeHandedOff(LoopContext* ctx, uint64_t serial, Outbox out, LoopContext* from);

  static size_t GroSegmentSize(const cmsghdr* cm);
  // A datagram as read: several L2TP packets of `segment` bytes (the last
  // may be shorter) when UDP GRO merged them, else one.
  void ProcessDatagram(std::span<const uint8_t> data, size_t segment);
  void ProcessRingBuffer(uint8_t* data, size_t length);
  void ArmReceive();
  void WatchWithEpoll();
  void FlushTouchedSessions();
  // SendGso's fallback: one sendmmsg message per packet, of the same iovecs.
  void SendEach(std::span<const iovec> iov, size_t segments, Counters* session_counters);

  TunnelConfig config_;
  TunnelSocket socket_;
  LoopContext* ctx_;
  ControlFrameSink* control_;
  bool watched_ = false;    // receiving (epoll watch or io_uring request)
  Uring* uring_ = nullptr;  // the thread's ring, in io_uring mode
  uint64_t uring_token_ = 0;
  int rx_buffer_ = -1;
  bool rx_checksum_verified_;
  msghdr ring_msg_{};                   // what each multishot receive asks for (control room)
  size_t gso_refused_from_ = SIZE_MAX;  // GSO segment size the kernel refused
  std::unordered_map<uint32_t, std::unique_ptr<SessionPath>> sessions_;
  // The last session FindSession found; reset whenever sessions_ changes.
  SessionPath* last_found_ = nullptr;
  uint32_t last_found_id_ = 0;
  Counters counters_;
  const uint64_t serial_;  // unique for the process: tunnel ids may come back
  std::vector<HandoffTarget> handoff_targets_;
  std::vector<Outbox> outboxes_;   // one per target
  bool handoff_listed_ = false;    // in ctx_->handoff_pending
  bool spread_kept_here_ = false;  // since the last PostHandoffs
  bool accepts_handoffs_ = false;
};

}  // namespace l2tp::userspace
