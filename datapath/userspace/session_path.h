// The data path of one session: frames read from its TAP are encapsulated and
// sent through the tunnel socket (TCP super-frames cut into segments first,
// sent with UDP GSO where the socket allows); packets the tunnel hands over are
// checked (cookie, sublayer, sequencing) and written to the TAP, consecutive
// TCP segments (and UDP datagrams, where the kernel takes USO) coalesced.
// The TAP is read with a multishot read on the thread's io_uring (frames
// arrive as completions, are queued and sent at the end of the batch), or,
// in epoll mode, with read() in batches. Lives on its tunnel's I/O thread;
// every method runs there.
//
// session_tx.cc holds the transmit half (TAP to tunnel), session_rx.cc the
// receive half (tunnel to TAP), each opening with its pipeline in order;
// session_path.cc the rest (construction, start, stop, changes, counters).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "datapath/datapath.h"
#include "datapath/userspace/io_loop.h"
#include "datapath/userspace/packet_batch.h"
#include "datapath/userspace/sequencer.h"
#include "datapath/userspace/tap_device.h"
#include "datapath/userspace/tcp_coalescer.h"
#include "datapath/userspace/udp_coalescer.h"
#include "datapath/userspace/uring.h"
#include "datapath/userspace/virtio_net_hdr.h"

namespace l2tp::userspace {

class TunnelPath;
struct LoopContext;

class SessionPath : public EventHandler, public CompletionHandler {
 public:
  // An Ethernet header without a VLAN tag: the shortest frame either way.
  static constexpr size_t kEthernetHeaderLength = 14;

  SessionPath(const SessionConfig& config, TapDevice tap, TunnelPath* tunnel, LoopContext* ctx);
  ~SessionPath() override;

  absl::Status Start();  // begins reading the TAP
  // Stops I/O and drops queued frames. `remove_tap` deletes the device.
  void Stop(bool remove_tap);
  // Sequencing options and MTU only (see Datapath::ModifySession); `mtu`
  // is the TAP's (config.mtu, or its right size when that is 0).
  absl::Status Modify(const SessionConfig& config, uint32_t mtu);

  // Transmit (session_tx.cc).
  // Epoll mode: TAP readable; read, encapsulate and send batches.
  void OnEvent(uint32_t epoll_events) override;
  // io_uring mode: one frame read from the TAP, or the read's end.
  void OnCompletion(const Completion& c) override;
  // End of a batch (io_uring mode): sends the frames queued from the TAP.
  void FlushTx();
  // Receive (session_rx.cc).
  // A packet for this session; `offset` is just past the session id.
  void Receive(std::span<const uint8_t> packet, size_t offset);
  // Writes frames held for coalescing to the TAP (end of a receive batch).
  void FlushReceived();
  // Receive spreading (tunnel_handoff.cc): which of `threads` threads
  // receives `packet` (0: this one). Spread sessions answer by the hash of
  // the inner flow; packets with a sequence number and those with a header
  // that does not decode stay here, where the sequencer and the counters
  // that judge them are.
  size_t ReceivingThread(std::span<const uint8_t> packet, size_t offset, size_t threads) const;
  // Whether flows are spread over the threads (set by the datapath once the
  // session has a replica on every thread; only without required sequence
  // numbers).
  void set_rx_spread(bool on) { rx_spread_ = on; }
  bool rx_spread() const { return rx_spread_; }
  // Whether frames leave with sequence numbers now (configured, or a LAC
  // following its peer).
  bool sends_sequence() const { return sequencer_.sending_sequence(); }
  // Reorder timer: release what is in order, expire what waited too long.
  void DrainQueue();
  std::optional<Sequencer::TimePoint> NextDeadline() const { return sequencer_.NextDeadline(); }

  const SessionConfig& config() const { return config_; }
  uint32_t interface_mtu() const { return tap_.mtu(); }
  const TapDevice& tap() const { return tap_; }
  Counters counters() const;
  // False once the TAP vanished (deleted behind our back).
  bool TapAlive() const { return tap_watched_ && tap_.StillExists(); }

 private:
  // Transmit (session_tx.cc).
  // One frame read from the TAP (`frame` just past its virtio-net header,
  // `buffer` the io_uring buffer holding it or -1): encapsulated in place and
  // queued, or sent at once (TSO super-frames), or dropped. The buffer goes
  // back to the ring once the frame is sent or dropped.
  void TakeTapFrame(uint8_t* frame, size_t read_length, int buffer);
  void ReleaseBuffer(int buffer);
  // Sends what tx_ holds and gives its buffers back.
  void SendQueued();
  void ArmTapRead();
  void StopTapRead();
  void TapFailed(const char* why);
  // Transmit helpers: one frame as is, or a TSO super-frame in segments.
  size_t EncapsulateInPlace(uint8_t* frame, size_t length);
  void SendSegmented(const VirtioNetHdr& h, std::span<const uint8_t> frame);
  // Sends `count` encapsulated frames prepared in `batch` (message i holds
  // `lengths[i]` bytes), in order: runs of several equal-length packets
  // (the last of a run may be shorter) as one UDP GSO send where the tunnel
  // socket can, the rest with sendmmsg.
  void SendFrames(PacketBatch& batch, size_t count, const size_t* lengths);
  // Receive (session_rx.cc).
  // `stable`: the frame stays where it is until FlushReceived (received in
  // this batch), so the coalescers may point into it rather than copy it.
  void Deliver(std::span<const uint8_t> frame, bool stable);
  // One writev: the virtio-net header starts the first iovec.
  void WriteTap(std::span<const iovec> iov);

  SessionConfig config_;
  TapDevice tap_;
  TunnelPath* tunnel_;
  LoopContext* ctx_;
  Sequencer sequencer_;
  size_t rx_header_length_;
  bool tap_watched_ = false;  // reading the TAP (epoll watch or io_uring read)
  Uring* uring_ = nullptr;    // the thread's ring, in io_uring mode
  uint64_t uring_token_ = 0;
  // Frames from the TAP, encapsulated in place, waiting to be sent.
  struct TxQueue {
    size_t count = 0;
    uint8_t* packet[PacketBatch::kSlots];
    size_t length[PacketBatch::kSlots];
    int buffer[PacketBatch::kSlots];
  } tx_;
  bool tx_pending_ = false;  // listed in ctx_->tx_pending
  bool rx_pending_ = false;  // listed in ctx_->touched
  TcpCoalescer coalescer_;
  // UDP datagrams are merged only where the kernel takes USO frames; at most
  // one of the two coalescers holds frames at any time (frame order is kept).
  UdpCoalescer udp_coalescer_;
  // Ring buffers the coalescers point into, released by FlushReceived (or
  // when the session goes away).
  BufferHolds rx_holds_;
  bool udp_gso_;
  size_t max_rx_frame_;  // MaxReceivedFrame of the TAP's MTU
  bool rx_spread_ = false;
  Counters counters_;
};

// The longest frame a session with this MTU writes to its TAP: the MTU, the
// Ethernet header and one VLAN tag, as Linux's l2tp_eth forwards.
size_t MaxReceivedFrame(uint32_t mtu);

}  // namespace l2tp::userspace
