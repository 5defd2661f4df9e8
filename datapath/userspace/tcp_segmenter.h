// Turns what a TAP with offloads hands us into wire-ready Ethernet frames:
// completes partial checksums (VIRTIO_NET_HDR_F_NEEDS_CSUM) and splits TCP
// super-frames (TSO, gso_type TCPV4/TCPV6) into MSS-sized segments with their
// own IP lengths/ids, TCP sequence numbers, flags and checksums — what a NIC
// would do. Pure; every offset from the header is bounds-checked.
//
// TcpSegmentPlan cuts without copying: per segment it rebuilds only the
// headers (into the caller's buffer) and points at the payload where it lies
// in the super-frame, so a sender can gather headers + payload with iovecs.
// SegmentTcp is the copying form, built on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "absl/functional/function_ref.h"
#include "datapath/userspace/virtio_net_hdr.h"

namespace l2tp::userspace {

// Fills in the checksum a NEEDS_CSUM frame leaves partial. False if the
// offsets do not fit the frame.
bool CompletePartialChecksum(const VirtioNetHdr& h, std::span<uint8_t> frame);

// One segment of a super-frame: TcpSegmentPlan::Build wrote its headers
// (header_length bytes) into the caller's buffer; its payload is
// frame[payload_offset, payload_offset + payload_length) of the super-frame.
struct TcpSegment {
  size_t header_length = 0;
  size_t payload_offset = 0;
  size_t payload_length = 0;
  size_t length() const { return header_length + payload_length; }
};

// A TSO super-frame parsed once, for building its segments one by one. Holds
// a view of the frame: the frame must outlive the plan and stay unchanged.
class TcpSegmentPlan {
 public:
  TcpSegmentPlan(const VirtioNetHdr& h, std::span<const uint8_t> frame);

  bool ok() const { return count_ > 0; }  // false: malformed offload request
  size_t count() const { return count_; }
  // Ethernet + IP + TCP headers, the same length in every segment.
  size_t header_length() const { return headers_; }
  // The length of every segment but the last (which may be shorter).
  size_t segment_length() const { return count_ ? length(0) : 0; }
  // Segment i's length, headers included (0 if i >= count()).
  size_t length(size_t i) const;

  // Writes segment i's headers into `out` (header_length() bytes; IP length,
  // IPv4 id and header checksum, TCP sequence number, flags, checksum) and
  // says where its payload lies; the TCP checksum is summed over the payload
  // in place. Nothing if i >= count() or `out` is too short.
  std::optional<TcpSegment> Build(size_t i, std::span<uint8_t> out) const;
  std::span<const uint8_t> payload(const TcpSegment& s) const {
    return frame_.subspan(s.payload_offset, s.payload_length);
  }

 private:
  std::span<const uint8_t> frame_;
  size_t count_ = 0;
  size_t l3_ = 0;       // IP header offset
  size_t l4_ = 0;       // TCP header offset
  size_t headers_ = 0;  // bytes of Ethernet+IP+TCP headers
  size_t payload_ = 0;  // bytes after the headers
  size_t mss_ = 0;
  bool v6_ = false;
  uint32_t seq0_ = 0;
  uint16_t id0_ = 0;
  uint8_t flags0_ = 0;
  uint64_t address_sum_ = 0;  // the pseudo-header's addresses, the same for all
};

// Splits a TSO frame, copying. For each segment, `reserve(length)` returns
// where to write it (length bytes). Returns the number of segments, 0 if
// malformed.
size_t SegmentTcp(const VirtioNetHdr& h, std::span<const uint8_t> frame,
                  absl::FunctionRef<uint8_t*(size_t)> reserve);

// Segments SegmentTcp would produce (0 if malformed), and their size
// (all but the last are this size).
size_t TcpSegmentCount(const VirtioNetHdr& h, std::span<const uint8_t> frame, size_t* segment_length);

}  // namespace l2tp::userspace
