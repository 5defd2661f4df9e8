// Reusable buffers for one recvmmsg/sendmmsg batch. Each slot keeps
// kHeadroom bytes in front so an L2TP header can be prepended to a frame read
// from a TAP without copying the frame.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "datapath/userspace/l2tp_header.h"

namespace l2tp::userspace {

class PacketBatch {
 public:
  static constexpr size_t kSlots = 32;
  // Room for an L2TP header, or a virtio-net header read in front of a frame.
  static constexpr size_t kHeadroom = kMaxHeaderLength;
  // A whole UDP GRO batch or a TAP TSO super-frame (64 KiB + headers).
  static constexpr size_t kSlotSize = kHeadroom + 65536 + 256;
  static constexpr size_t kControlSize = 64;  // CMSG_SPACE(sizeof(int)) fits

  PacketBatch() : storage_(new uint8_t[kSlots * kSlotSize]) {}

  uint8_t* slot(size_t i) { return storage_.get() + i * kSlotSize; }
  mmsghdr* msgs() { return msgs_.data(); }
  iovec& iov(size_t i) { return iov_[i]; }

  // Points every message at its whole slot (for receiving), with room for
  // ancillary data (the UDP GRO segment size).
  void PrepareReceive() {
    for (size_t i = 0; i < kSlots; ++i) {
      iov_[i] = {slot(i), kSlotSize};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
      msgs_[i].msg_hdr.msg_control = control_[i].data();
      msgs_[i].msg_hdr.msg_controllen = kControlSize;
    }
  }
  // Points message i at [data, data+len) (for sending).
  void SetSend(size_t i, uint8_t* data, size_t len) {
    iov_[i] = {data, len};
    msgs_[i] = {};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }

 private:
  std::unique_ptr<uint8_t[]> storage_;
  std::array<mmsghdr, kSlots> msgs_{};
  std::array<iovec, kSlots> iov_{};
  std::array<std::array<uint8_t, kControlSize>, kSlots> control_{};
};

}  // namespace l2tp::userspace
