// Receive-side coalescing for a TAP with IFF_VNET_HDR: consecutive TCP
// segments of one flow, decapsulated from the tunnel, are merged into one
// super-frame handed to the kernel as a GSO packet (what GRO does for a
// NIC), so the stack above the TAP sees a few large packets instead of many
// small ones. Anything that cannot be merged is passed through unchanged.
//
// No payload is copied where the caller says a frame stays valid until the
// next Flush (FrameInfo::stable): the super-frame goes out as iovecs, the
// rebuilt headers first, then each segment's payload where it lies
// (coalesced_frame.h). Other frames are copied, and summed in the same pass.
//
// Checksums: once merged, the kernel would not check a segment's TCP
// checksum, so each one is verified before it is merged (in place, reading
// only) unless FrameInfo::verified says something covering every byte did
// already. What was verified, by us or before us, is written with
// VIRTIO_NET_HDR_F_DATA_VALID; what nobody verified goes without it.
// Pure: output goes to the `write` callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "datapath/userspace/coalesced_frame.h"

namespace l2tp::userspace {

class TcpCoalescer {
 public:
  using Writer = TapWriter;
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxIpLength = 65535;
  // The longest write: headers, then one piece per segment.
  static constexpr size_t kMaxIovecs = 1 + kMaxSegments;

  explicit TcpCoalescer(Writer write);

  // Takes `frame`; true when the coalescer points into its bytes until the
  // next Flush (only ever for a stable frame), which the caller must keep.
  bool Add(std::span<const uint8_t> frame, FrameInfo info = {});
  // Writes what is pending; call at the end of every receive batch.
  void Flush();

  size_t pending_segments() const { return segments_; }

 private:
  struct Flow {
    bool v6 = false;
    size_t l3 = 0, l4 = 0, headers = 0;
    uint32_t next_seq = 0;
    size_t mss = 0;
  };
  // Checks `frame` is a plain TCP segment with payload (the checksum is
  // VerifyAndPlace's business).
  bool Parse(std::span<const uint8_t> frame, Flow* flow, size_t* payload) const;
  bool SameFlow(std::span<const uint8_t> frame, const Flow& f) const;
  // Verifies the TCP checksum unless `info.verified` (copying and summing
  // in one pass if the frame is not stable) and adds the payload to frame_.
  // False, and nothing added, if the checksum is wrong.
  bool VerifyAndPlace(std::span<const uint8_t> frame, const Flow& n, size_t payload, FrameInfo info,
                      bool start);
  void PassThrough(std::span<const uint8_t> frame, bool verified);

  Writer write_;
  CoalescedFrame frame_;
  size_t segments_ = 0;
  bool closed_ = false;  // a short or PSH segment ended the run
  Flow flow_;
};

}  // namespace l2tp::userspace
