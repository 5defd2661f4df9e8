#include "datapath/userspace/coalesced_frame.h"

#include <cstring>

#include "datapath/userspace/checksum.h"

namespace l2tp::userspace {

CoalescedFrame::CoalescedFrame(size_t max_pieces, size_t arena_capacity)
    : iov_(1 + max_pieces), arena_capacity_(arena_capacity) {}

void CoalescedFrame::Reset() {
  count_ = 0;
  length_ = 0;
  arena_used_ = 0;
}

void CoalescedFrame::Start(std::span<const uint8_t> headers) {
  std::memcpy(head_ + VirtioNetHdr::kSize, headers.data(), headers.size());
  iov_[0] = {head_, VirtioNetHdr::kSize + headers.size()};
  count_ = 1;
  length_ = headers.size();
}

const uint8_t* CoalescedFrame::Stage(std::span<const uint8_t> payload, uint64_t* sum) {
  if (payload.size() > arena_capacity_ - arena_used_) return nullptr;
  // Most sessions never copy (only frames out of a reorder queue are): the
  // arena costs memory only once one does.
  if (!arena_) arena_ = std::make_unique<uint8_t[]>(arena_capacity_);
  uint8_t* to = arena_.get() + arena_used_;
  if (sum) {
    *sum = ChecksumCopy(*sum, to, payload);
  } else {
    std::memcpy(to, payload.data(), payload.size());
  }
  return to;
}

void CoalescedFrame::AppendStaged(size_t length) {
  Append(arena_.get() + arena_used_, length);
  arena_used_ += length;
}

void CoalescedFrame::AppendBorrowed(std::span<const uint8_t> payload) {
  Append(payload.data(), payload.size());
}

void CoalescedFrame::Append(const uint8_t* data, size_t length) {
  iovec& last = iov_[count_ - 1];
  if (count_ > 1 && static_cast<const uint8_t*>(last.iov_base) + last.iov_len == data) {
    last.iov_len += length;  // consecutive copies in the arena: one piece
  } else {
    iov_[count_++] = {const_cast<uint8_t*>(data), length};
  }
  length_ += length;
}

}  // namespace l2tp::userspace
