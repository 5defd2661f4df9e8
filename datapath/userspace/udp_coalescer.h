// Receive-side UDP coalescing for a TAP with IFF_VNET_HDR (what wireguard-go
// calls UDP GRO): consecutive datagrams of one flow, all of one size (the
// last of a run may be shorter), are merged into one GSO_UDP_L4 super-frame.
// The kernel (6.2 and later: virtio-net USO) splits it back into the original
// datagrams, so the stack above the TAP takes one write and one pass through
// IP for up to 64 datagrams instead of one each. Only datagrams the kernel
// re-creates bit for bit are merged: checksum-valid with a non-zero UDP
// checksum, no IPv4 options or fragments, no IPv6 extension headers, equal
// Ethernet/IP headers but for lengths and checksums and, for IPv4, IP ids
// counting up by one (the segmenter numbers them that way). Everything else
// is written unchanged, in order.
//
// Payload is not copied where the caller says a frame stays valid until the
// next Flush (FrameInfo::stable): the super-frame is written as iovecs
// pointing into the receive buffers (coalesced_frame.h); other frames are
// copied, and summed in the same pass. A datagram's checksum is verified
// before it is merged (the kernel's segmenter would fill in a valid one)
// unless FrameInfo::verified says a checksum covering every byte was checked
// already; verified frames are written with VIRTIO_NET_HDR_F_DATA_VALID.
// Pure: output goes to `write`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "datapath/userspace/coalesced_frame.h"

namespace l2tp::userspace {

class UdpCoalescer {
 public:
  using Writer = TapWriter;
  static constexpr size_t kMaxSegments = 64;  // UDP_MAX_SEGMENTS of older kernels
  static constexpr size_t kMaxIpLength = 65535;
  // The longest write: headers, then one piece per datagram.
  static constexpr size_t kMaxIovecs = 1 + kMaxSegments;

  explicit UdpCoalescer(Writer write);

  // IPv4 or IPv6 (no extension headers) carrying UDP: what Add() may merge.
  static bool IsUdp(std::span<const uint8_t> frame);

  // Takes `frame`; true when the coalescer points into its bytes until the
  // next Flush (only ever for a stable frame), which the caller must keep.
  bool Add(std::span<const uint8_t> frame, FrameInfo info = {});
  // Writes what is pending; call at the end of every receive batch.
  void Flush();

  size_t pending_segments() const { return segments_; }

 private:
  struct Flow {
    bool v6 = false;
    size_t l4 = 0;         // offset of the UDP header
    size_t size = 0;       // payload bytes per datagram (gso_size)
    uint16_t next_id = 0;  // IPv4 id the next datagram must carry
  };
  // Checks the datagram could be merged (the checksum is VerifyAndPlace's).
  bool Parse(std::span<const uint8_t> frame, Flow* flow, size_t* payload) const;
  bool SameFlow(std::span<const uint8_t> frame, const Flow& f) const;
  // Verifies the UDP checksum unless `info.verified` (copying and summing in
  // one pass if the frame is not stable) and adds the payload to frame_.
  // False, and nothing added, if the checksum is wrong.
  bool VerifyAndPlace(std::span<const uint8_t> frame, const Flow& n, size_t payload, FrameInfo info,
                      bool start);
  void PassThrough(std::span<const uint8_t> frame, bool verified);

  Writer write_;
  CoalescedFrame frame_;
  size_t segments_ = 0;
  bool closed_ = false;  // a shorter datagram ended the run
  Flow flow_;
};

}  // namespace l2tp::userspace
