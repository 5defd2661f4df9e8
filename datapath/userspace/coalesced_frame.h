// What the receive-side coalescers (tcp_coalescer.h, udp_coalescer.h) share:
// the frame they build, laid out for one writev to the TAP without copying
// the payload, and how a caller describes the frames it hands them.
//
// A CoalescedFrame is the virtio-net header and the first segment's headers
// in a small owned buffer (the first iovec; the coalescer rewrites lengths,
// flags and the partial checksum there), then each segment's payload as an
// iovec that points straight into the buffer the segment was received in. A
// frame that will not stay valid until the coalescer flushes (e.g. one
// released from the reorder queue, whose storage is freed after delivery) is
// copied into an arena instead: allocated once, at its full capacity, so it
// never moves while iovecs point into it.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "datapath/userspace/virtio_net_hdr.h"

namespace l2tp::userspace {

// What the caller knows about a frame it hands to a coalescer.
struct FrameInfo {
  // The bytes stay valid and unchanged until the coalescer's next Flush (a
  // receive buffer held to the end of the batch), so the coalescer may point
  // into them instead of copying.
  bool stable = false;
  // Something already verified a checksum that covers every byte of the
  // frame (the tunnel's IPv6 UDP checksum, checked by the kernel): the inner
  // TCP/UDP checksum need not be checked again, and the frame is written
  // with VIRTIO_NET_HDR_F_DATA_VALID.
  bool verified = false;
};

// One TAP write: the virtio-net header at the start of the first iovec, then
// the frame, in as many iovecs as it takes.
using TapWriter = std::function<void(std::span<const iovec> iov)>;

class CoalescedFrame {
 public:
  // Ethernet + IPv6 + a TCP header with the longest options.
  static constexpr size_t kMaxHeaders = 14 + 40 + 60;

  // Up to `max_pieces` payload iovecs; `arena_capacity` bytes of copies.
  CoalescedFrame(size_t max_pieces, size_t arena_capacity);

  // Drops what the frame holds (after it was written).
  void Reset();
  // Begins a frame whose headers are `headers` (copied; at most kMaxHeaders).
  void Start(std::span<const uint8_t> headers);
  // Copies `payload` to the end of the arena without adding it to the frame
  // yet, adding its ones'-complement sum to `*sum` where `sum` is given
  // (one pass for both). Null if the arena has no room.
  const uint8_t* Stage(std::span<const uint8_t> payload, uint64_t* sum);
  // Adds the bytes last staged (`length` of them) to the frame.
  void AppendStaged(size_t length);
  // Adds `payload` by reference: it must stay valid until Reset.
  void AppendBorrowed(std::span<const uint8_t> payload);
  // Each Append* adds at most one piece: a frame takes `max_pieces` of them.

  // The virtio-net header's place, and the frame's headers (writable).
  uint8_t* vnet_header() { return head_; }
  uint8_t* headers() { return head_ + VirtioNetHdr::kSize; }
  const uint8_t* headers() const { return head_ + VirtioNetHdr::kSize; }
  // Frame bytes: headers and payload (without the virtio-net header).
  size_t length() const { return length_; }
  std::span<const iovec> iov() const { return {iov_.data(), count_}; }

 private:
  void Append(const uint8_t* data, size_t length);

  uint8_t head_[VirtioNetHdr::kSize + kMaxHeaders];
  std::vector<iovec> iov_;  // [0]: head_; then the payload pieces
  size_t count_ = 0;
  size_t length_ = 0;
  std::unique_ptr<uint8_t[]> arena_;  // made on first use, never resized
  size_t arena_capacity_;
  size_t arena_used_ = 0;
};

}  // namespace l2tp::userspace
