// Turns what a TAP with offloads hands us into wire-ready Ethernet frames:
// completes partial checksums (VIRTIO_NET_HDR_F_NEEDS_CSUM) and splits TCP
// super-frames (TSO, gso_type TCPV4/TCPV6) into MSS-sized segments with their
// own IP lengths/ids, TCP sequence numbers, flags and checksums — what a NIC
// would do. Pure; every offset from the header is bounds-checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/functional/function_ref.h"
#include "datapath/userspace/virtio_net_hdr.h"

namespace l2tp::userspace {

// Fills in the checksum a NEEDS_CSUM frame leaves partial. False if the
// offsets do not fit the frame.
bool CompletePartialChecksum(const VirtioNetHdr& h, std::span<uint8_t> frame);

// Splits a TSO frame. For each segment, `reserve(length)` returns where to
// write it (length bytes). Returns the number of segments, 0 if malformed.
size_t SegmentTcp(const VirtioNetHdr& h, std::span<const uint8_t> frame,
                  absl::FunctionRef<uint8_t*(size_t)> reserve);

// Segments SegmentTcp would produce (0 if malformed), and their size
// (all but the last are this size).
size_t TcpSegmentCount(const VirtioNetHdr& h, std::span<const uint8_t> frame, size_t* segment_length);

}  // namespace l2tp::userspace
