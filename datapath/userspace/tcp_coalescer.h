// Receive-side coalescing for a TAP with IFF_VNET_HDR: consecutive TCP
// segments of one flow, decapsulated from the tunnel, are merged into one
// super-frame handed to the kernel as a GSO packet (what GRO does for a
// NIC), so the stack above the TAP sees a few large packets instead of many
// small ones. Each segment's TCP checksum is verified before it is merged;
// anything that cannot be merged is passed through unchanged. Pure: output
// goes to the `write` callback as virtio-net header and frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace l2tp::userspace {

class TcpCoalescer {
 public:
  // `write` receives the 10-byte virtio-net header and the frame.
  using Writer = std::function<void(std::span<const uint8_t> header, std::span<const uint8_t> frame)>;
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxIpLength = 65535;

  explicit TcpCoalescer(Writer write);

  void Add(std::span<const uint8_t> frame);
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
  // Checks `frame` is a plain, checksum-valid TCP segment with payload.
  bool Parse(std::span<const uint8_t> frame, Flow* flow, size_t* payload) const;
  bool SameFlow(std::span<const uint8_t> frame, const Flow& f) const;
  void PassThrough(std::span<const uint8_t> frame);

  Writer write_;
  std::vector<uint8_t> buffer_;  // virtio-net header + pending super-frame
  size_t length_ = 0;            // bytes used in buffer_
  size_t segments_ = 0;
  bool closed_ = false;  // a short or PSH segment ended the run
  Flow flow_;
};

}  // namespace l2tp::userspace
