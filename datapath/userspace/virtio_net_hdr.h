// The virtio-net header a TAP with IFF_VNET_HDR puts in front of each frame
// (include/uapi/linux/virtio_net.h), in host (little-endian) byte order.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace l2tp::userspace {

struct VirtioNetHdr {
  static constexpr uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr uint8_t kDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
  static constexpr uint8_t kGsoNone = 0;
  static constexpr uint8_t kGsoTcpV4 = 1;
  static constexpr uint8_t kGsoUdp = 3;
  static constexpr uint8_t kGsoTcpV6 = 4;
  static constexpr uint8_t kGsoUdpL4 = 5;
  static constexpr uint8_t kGsoEcn = 0x80;
  static constexpr size_t kSize = 10;

  uint8_t flags = 0;
  uint8_t gso_type = kGsoNone;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;

  static VirtioNetHdr Read(std::span<const uint8_t> b) {
    VirtioNetHdr h;
    h.flags = b[0];
    h.gso_type = b[1];
    h.hdr_len = uint16_t(b[2] | b[3] << 8);
    h.gso_size = uint16_t(b[4] | b[5] << 8);
    h.csum_start = uint16_t(b[6] | b[7] << 8);
    h.csum_offset = uint16_t(b[8] | b[9] << 8);
    return h;
  }
  void Write(uint8_t* b) const {
    b[0] = flags;
    b[1] = gso_type;
    b[2] = hdr_len & 0xff, b[3] = hdr_len >> 8;
    b[4] = gso_size & 0xff, b[5] = gso_size >> 8;
    b[6] = csum_start & 0xff, b[7] = csum_start >> 8;
    b[8] = csum_offset & 0xff, b[9] = csum_offset >> 8;
  }
};

}  // namespace l2tp::userspace
