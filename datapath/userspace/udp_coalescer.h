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
// is written unchanged, in order. Pure: output goes to `write` as
// virtio-net header and frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace l2tp::userspace {

class UdpCoalescer {
 public:
  using Writer = std::function<void(std::span<const uint8_t> header, std::span<const uint8_t> frame)>;
  static constexpr size_t kMaxSegments = 64;  // UDP_MAX_SEGMENTS of older kernels
  static constexpr size_t kMaxIpLength = 65535;

  explicit UdpCoalescer(Writer write);

  // IPv4 or IPv6 (no extension headers) carrying UDP: what Add() may merge.
  static bool IsUdp(std::span<const uint8_t> frame);

  void Add(std::span<const uint8_t> frame);
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
  bool Parse(std::span<const uint8_t> frame, Flow* flow, size_t* payload) const;
  bool SameFlow(std::span<const uint8_t> frame, const Flow& f) const;
  void PassThrough(std::span<const uint8_t> frame);

  Writer write_;
  std::vector<uint8_t> buffer_;  // virtio-net header + pending super-frame
  size_t length_ = 0;
  size_t segments_ = 0;
  bool closed_ = false;  // a shorter datagram ended the run
  Flow flow_;
};

}  // namespace l2tp::userspace
