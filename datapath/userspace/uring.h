// io_uring for one I/O thread, where the kernel has what the TAP path needs:
// multishot reads (Linux 6.7+) into a ring of provided buffers, multishot
// poll, and a single issuer with deferred task work (no interrupts while the
// thread runs; work happens inside the thread's own io_uring_enter).
//
// Why: a TAP gives one frame per read(), and on hosts where system calls are
// dear (page-table isolation, paravirtualised guests) a syscall per frame
// was most of the sender's cost. A multishot read lets the kernel read every
// frame that is queued in one go, each into a buffer from the ring, and the
// thread collects them all with one io_uring_enter. Tunnel sockets are read
// the same way (multishot recvmsg), so a busy thread makes one system call
// per batch for all its input.
//
// Created, used and destroyed on its I/O thread only. Completions go to
// handlers by token (slot + generation): a completion that arrives after its
// handler was unregistered is stale, and its buffer goes straight back.
//
// A buffer may be held past its handler (Hold): the receive path's
// coalescers point into the buffers they merge until the end of the batch,
// and a held buffer goes back to the kernel only once every hold on it was
// released (BufferHolds). Buffers given back become visible to the kernel at
// the next Submit, so holding a buffer to the end of the batch, before that
// Submit, costs the kernel no buffer it could have used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

struct io_uring;
struct io_uring_sqe;
struct msghdr;
struct io_uring_buf_ring;

namespace l2tp::userspace {

struct Completion {
  int32_t result;  // bytes read, or -errno
  bool more;       // the (multishot) request stays armed
  int buffer;      // provided buffer holding the data, or -1
};

class CompletionHandler {
 public:
  virtual ~CompletionHandler() = default;
  // A handler given a buffer hands it back with Uring::Recycle when done.
  virtual void OnCompletion(const Completion& c) = 0;
};

class Uring {
 public:
  // The provided buffers: `count` (a power of two) of `size` bytes each; the
  // kernel writes `headroom` bytes into a buffer, so a header can be put in
  // front of what it read without copying.
  struct Buffers {
    size_t count = 128;
    size_t size = 0;
    size_t headroom = 0;
  };
  // Sets up a ring on the calling thread, or says what the kernel lacks.
  static absl::StatusOr<std::unique_ptr<Uring>> Create(const Buffers& buffers);
  ~Uring();
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;

  uint64_t Register(CompletionHandler* handler);
  // Completions for `token` that are still to come are dropped from now on.
  void Unregister(uint64_t token);

  // Reads `fd` whenever it has data, one completion per read, each into a
  // provided buffer. The request ends (Completion::more false) on an error or
  // when the buffers run out (-ENOBUFS); the handler re-arms it.
  void ReadMultishot(int fd, uint64_t token);
  // Receives datagrams from socket `fd` as they come, one completion each,
  // each into a provided buffer laid out as io_uring_recvmsg_out, control
  // data, payload; `msg` (msg_controllen: room for control data) must stay
  // valid while the request is armed.
  void RecvMsgMultishot(int fd, msghdr* msg, uint64_t token);
  // One completion each time `fd` signals POLLIN.
  void PollMultishot(int fd, uint64_t token);
  // Cancels every request of `token`, returns once they are gone, and
  // unregisters it (their last completions, if still waiting to be
  // dispatched, are dropped).
  void Cancel(uint64_t token);

  // Start of buffer `id` (the data begins `headroom` bytes in).
  uint8_t* Buffer(int id) { return storage_.get() + static_cast<size_t>(id) * buffers_.size; }
  const Buffers& buffers() const { return buffers_; }
  // Gives buffer `id` back to the kernel (visible at the next Submit). A
  // held buffer counts its handler's share and each hold: it goes back on
  // the Recycle that drops the last of them.
  void Recycle(int id);
  // Keeps buffer `id`, which a handler was given and has not recycled yet,
  // out of the ring for one more Recycle.
  void Hold(int id);
  // Buffers out of the ring that were held (by holds not all released yet).
  size_t held_buffers() const { return held_buffers_; }

  // Submits what was queued and runs pending kernel work; with `wait`,
  // blocks until at least one completion is there.
  void Submit(bool wait);
  // Hands every completion that has arrived to its handler.
  void Dispatch();

 private:
  struct Slot {
    CompletionHandler* handler = nullptr;
    uint32_t generation = 0;
  };
  Uring() = default;
  absl::Status Init(const Buffers& buffers);
  io_uring_sqe* NextSqe();
  void Deliver(uint64_t user_data, const Completion& c);

  std::unique_ptr<io_uring> ring_;
  bool ring_ready_ = false;
  Buffers buffers_;
  std::unique_ptr<uint8_t[]> storage_;
  io_uring_buf_ring* buffer_ring_ = nullptr;
  size_t buffer_ring_bytes_ = 0;
  bool buffer_ring_registered_ = false;
  int recycled_ = 0;  // added to the buffer ring since the last Submit
  // Per buffer out of the ring: its handler's share plus holds, and whether
  // it was held.
  std::vector<uint16_t> refs_;
  std::vector<bool> held_;
  size_t held_buffers_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
};

// A receiver's holds on buffers of one Uring whose bytes it still points
// into: released together (after the receiver wrote what it held), and on
// destruction, so a receiver that goes away mid-batch never keeps buffers
// from the ring. Must not outlive the ring.
class BufferHolds {
 public:
  BufferHolds() = default;
  ~BufferHolds() { Release(); }
  BufferHolds(const BufferHolds&) = delete;
  BufferHolds& operator=(const BufferHolds&) = delete;

  // Holds buffer `id` of `ring`, once: frames of one buffer come in a row.
  void Hold(Uring* ring, int id);
  // Gives back every buffer held.
  void Release();
  size_t size() const { return ids_.size(); }

 private:
  Uring* ring_ = nullptr;
  std::vector<int> ids_;
};

}  // namespace l2tp::userspace
