#include "datapath/userspace/uring.h"

#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace l2tp::userspace {
namespace {

// Newer than Debian 12's liburing headers; the number is kernel ABI.
constexpr int kOpReadMultishot = 49;  // IORING_OP_READ_MULTISHOT, Linux 6.7
constexpr unsigned kEntries = 256;
constexpr unsigned kCompletionEntries = 4096;  // room for a burst of frames per TAP
constexpr uint16_t kBufferGroup = 0;

uint64_t Token(uint32_t slot, uint32_t generation) { return uint64_t{generation} << 32 | slot; }

}  // namespace

absl::StatusOr<std::unique_ptr<Uring>> Uring::Create(const Buffers& buffers) {
  std::unique_ptr<Uring> u(new Uring());
  if (auto st = u->Init(buffers); !st.ok()) return st;
  return u;
}

absl::Status Uring::Init(const Buffers& buffers) {
  if (buffers.count == 0 || (buffers.count & (buffers.count - 1)) || buffers.count > 32768 ||
      buffers.size <= buffers.headroom) {
    return absl::InvalidArgumentError(
        "io_uring buffers: count must be a power of two up to 32768, size above the headroom");
  }
  buffers_ = buffers;
  ring_ = std::make_unique<io_uring>();
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  p.cq_entries = kCompletionEntries;
  if (int e = io_uring_queue_init_params(kEntries, ring_.get(), &p); e < 0) {
    return absl::ErrnoToStatus(-e, "io_uring_setup (single issuer, deferred task work: Linux 6.1+)");
  }
  ring_ready_ = true;

  io_uring_probe* probe = io_uring_get_probe_ring(ring_.get());
  if (!probe) return absl::UnavailableError("io_uring: cannot probe opcodes");
  bool have = io_uring_opcode_supported(probe, kOpReadMultishot) &&
              io_uring_opcode_supported(probe, IORING_OP_POLL_ADD) &&
              io_uring_opcode_supported(probe, IORING_OP_RECVMSG) &&
              io_uring_opcode_supported(probe, IORING_OP_ASYNC_CANCEL);
  io_uring_free_probe(probe);
  if (!have) return absl::UnavailableError("io_uring: no multishot read (Linux 6.7+)");

  storage_.reset(new uint8_t[buffers_.count * buffers_.size]);
  buffer_ring_bytes_ = buffers_.count * sizeof(io_uring_buf);
  void* mem = mmap(nullptr, buffer_ring_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return absl::ErrnoToStatus(errno, "mmap io_uring buffer ring");
  buffer_ring_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(buffer_ring_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uintptr_t>(buffer_ring_);
  reg.ring_entries = static_cast<uint32_t>(buffers_.count);
  reg.bgid = kBufferGroup;
  if (int e = io_uring_register_buf_ring(ring_.get(), &reg, 0); e < 0) {
    return absl::ErrnoToStatus(-e, "io_uring: register provided buffer ring (Linux 5.19+)");
  }
  buffer_ring_registered_ = true;
  refs_.assign(buffers_.count, 0);
  held_.assign(buffers_.count, false);
  for (size_t i = 0; i < buffers_.count; ++i) Recycle(static_cast<int>(i));
  io_uring_buf_ring_advance(buffer_ring_, recycled_);
  recycled_ = 0;
  return absl::OkStatus();
}

Uring::~Uring() {
  if (buffer_ring_registered_) io_uring_unregister_buf_ring(ring_.get(), kBufferGroup);
  if (ring_ready_) io_uring_queue_exit(ring_.get());  // cancels what is still armed
  if (buffer_ring_) munmap(buffer_ring_, buffer_ring_bytes_);
}

uint64_t Uring::Register(CompletionHandler* handler) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[slot].handler = handler;
  return Token(slot, slots_[slot].generation);
}

void Uring::Unregister(uint64_t token) {
  uint32_t slot = static_cast<uint32_t>(token);
  if (slot >= slots_.size() || slots_[slot].generation != token >> 32) return;
  slots_[slot].handler = nullptr;
  ++slots_[slot].generation;  // late completions no longer match
  free_slots_.push_back(slot);
}

io_uring_sqe* Uring::NextSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  while (!sqe) {  // queue full: hand it to the kernel first
    io_uring_submit(ring_.get());
    sqe = io_uring_get_sqe(ring_.get());
  }
  return sqe;
}

void Uring::ReadMultishot(int fd, uint64_t token) {
  io_uring_sqe* sqe = NextSqe();
  io_uring_prep_rw(kOpReadMultishot, sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, token);
}

void Uring::RecvMsgMultishot(int fd, msghdr* msg, uint64_t token) {
  io_uring_sqe* sqe = NextSqe();
  io_uring_prep_recvmsg_multishot(sqe, fd, msg, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, token);
}

void Uring::PollMultishot(int fd, uint64_t token) {
  io_uring_sqe* sqe = NextSqe();
  io_uring_prep_poll_multishot(sqe, fd, POLLIN);
  io_uring_sqe_set_data64(sqe, token);
}

void Uring::Cancel(uint64_t token) {
  io_uring_submit(ring_.get());  // a request still queued here is cancelled too
  io_uring_sync_cancel_reg reg{};
  reg.addr = token;
  reg.fd = -1;
  reg.flags = IORING_ASYNC_CANCEL_ALL;
  reg.timeout.tv_sec = 1;  // bounded: a request that cannot be cancelled ends with its file
  io_uring_register_sync_cancel(ring_.get(), &reg);
  // Completing the cancelled request is deferred work: run it now, so the
  // request lets go of its file before the caller closes it.
  io_uring_get_events(ring_.get());
  Unregister(token);
}

void Uring::Recycle(int id) {
  if (refs_[id] > 1) {  // someone else still points into it
    --refs_[id];
    return;
  }
  refs_[id] = 0;
  if (held_[id]) {
    held_[id] = false;
    --held_buffers_;
  }
  io_uring_buf_ring_add(buffer_ring_, Buffer(id) + buffers_.headroom,
                        static_cast<unsigned>(buffers_.size - buffers_.headroom),
                        static_cast<unsigned short>(id), io_uring_buf_ring_mask(buffers_.count), recycled_++);
}

void Uring::Hold(int id) {
  ++refs_[id];
  if (!held_[id]) {
    held_[id] = true;
    ++held_buffers_;
  }
}

void Uring::Submit(bool wait) {
  if (recycled_) {
    io_uring_buf_ring_advance(buffer_ring_, recycled_);
    recycled_ = 0;
  }
  if (wait) {
    io_uring_submit_and_wait(ring_.get(), 1);  // -EINTR: the caller loops
  } else {
    io_uring_submit_and_get_events(ring_.get());
  }
}

void Uring::Deliver(uint64_t user_data, const Completion& c) {
  uint32_t slot = static_cast<uint32_t>(user_data);
  if (slot < slots_.size() && slots_[slot].generation == user_data >> 32 && slots_[slot].handler) {
    slots_[slot].handler->OnCompletion(c);
  } else if (c.buffer >= 0) {
    Recycle(c.buffer);  // stale: its handler is gone
  }
}

void Uring::Dispatch() {
  // Copy a batch out and mark it seen before calling handlers: a handler may
  // queue requests, and the queue may be submitted under it.
  constexpr unsigned kBatch = 64;
  for (;;) {
    struct Entry {
      uint64_t user_data;
      Completion c;
    } batch[kBatch];
    unsigned n = 0, head;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring_.get(), head, cqe) {
      int buffer = (cqe->flags & IORING_CQE_F_BUFFER) ? int(cqe->flags >> IORING_CQE_BUFFER_SHIFT) : -1;
      if (buffer >= 0) refs_[buffer] = 1;  // its handler's (Recycle gives it back)
      batch[n++] = {cqe->user_data, {cqe->res, (cqe->flags & IORING_CQE_F_MORE) != 0, buffer}};
      if (n == kBatch) break;
    }
    if (n == 0) return;
    io_uring_cq_advance(ring_.get(), n);
    for (unsigned i = 0; i < n; ++i) Deliver(batch[i].user_data, batch[i].c);
    if (n < kBatch) return;
  }
}

void BufferHolds::Hold(Uring* ring, int id) {
  if (!ids_.empty() && ids_.back() == id) return;
  ring_ = ring;  // a receiver lives on one thread, which has one ring
  ring->Hold(id);
  ids_.push_back(id);
}

void BufferHolds::Release() {
  for (int id : ids_) ring_->Recycle(id);
  ids_.clear();
}

}  // namespace l2tp::userspace
