// Reusable buffers for one recvmmsg/sendmmsg batch. Each slot keeps
// kHeadroom bytes in front so an L2TP header can be prepended to a frame read
// from a TAP without copying the frame. GatherBatch: datagrams sent from
// pieces that stay where they are (no buffers of its own but for headers).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

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
  // The iovecs of messages [first, first + n), one each, in order: what a
  // UDP GSO send of those messages gathers.
  std::span<const iovec> iovs(size_t first, size_t n) const { return {iov_.data() + first, n}; }

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

// Datagrams of two pieces each: headers built in this batch's arena (L2TP +
// the segment's rebuilt Ethernet/IP/TCP headers) and a payload left where it
// lies (in the TAP's read buffer). Either messages for one sendmmsg or,
// through iov(), the iovec list of one UDP GSO send: no payload is copied.
class GatherBatch {
 public:
  static constexpr size_t kMaxMessages = 64;  // UDP_MAX_SEGMENTS: one GSO send
  static constexpr size_t kPieces = 2;        // iovecs per datagram
  // The headers of any frame a read can hold fit, so one datagram always does.
  static constexpr size_t kArenaSize = PacketBatch::kSlotSize + kMaxHeaderLength;

  GatherBatch() : arena_(new uint8_t[kArenaSize]) {}

  void Clear() { count_ = used_ = bytes_ = 0; }
  size_t count() const { return count_; }
  bool full() const { return count_ == kMaxMessages; }
  size_t bytes() const { return bytes_; }  // all datagrams, headers included
  // Whether `n` more header bytes fit behind those already there.
  bool HasRoom(size_t n) const { return n <= kArenaSize - used_; }
  // `n` bytes of the arena for the next datagram's headers (HasRoom(n) first).
  uint8_t* ReserveHeaders(size_t n) {
    uint8_t* at = arena_.get() + used_;
    used_ += n;
    return at;
  }
  // Appends a datagram: `headers` (from ReserveHeaders), then `payload`.
  void Add(std::span<const uint8_t> headers, std::span<const uint8_t> payload) {
    iovec* piece = &iov_[count_ * kPieces];
    // sendmsg only reads what iovecs point at.
    piece[0] = {const_cast<uint8_t*>(headers.data()), headers.size()};
    piece[1] = {const_cast<uint8_t*>(payload.data()), payload.size()};
    msgs_[count_] = {};
    msgs_[count_].msg_hdr.msg_iov = piece;
    msgs_[count_].msg_hdr.msg_iovlen = kPieces;
    lengths_[count_] = headers.size() + payload.size();
    bytes_ += lengths_[count_];
    ++count_;
  }

  std::span<const iovec> iov() const { return {iov_.data(), count_ * kPieces}; }
  mmsghdr* msgs() { return msgs_.data(); }
  const size_t* lengths() const { return lengths_.data(); }

 private:
  std::unique_ptr<uint8_t[]> arena_;
  size_t used_ = 0;
  size_t count_ = 0;
  size_t bytes_ = 0;
  std::array<iovec, kMaxMessages * kPieces> iov_{};
  std::array<mmsghdr, kMaxMessages> msgs_{};
  std::array<size_t, kMaxMessages> lengths_{};
};

}  // namespace l2tp::userspace
