// Holding io_uring buffers past their handler (Uring::Hold, BufferHolds):
// what the receive path does while its coalescers point into received
// frames. A held buffer must stay out of the ring (the kernel must not read
// into it) until every hold and the handler's own share are given back, and
// then go back: a leak would starve the ring. Datagram socket pairs stand in
// for the tunnel socket. Skipped where io_uring lacks what the datapath needs.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "datapath/userspace/uring.h"
#include "tests/unit/datapath/uring_fixture.h"

namespace l2tp::userspace {
namespace {

// Recycles its share of every buffer at once, as TunnelPath does; `holds`,
// when set, holds each buffer first, as a session whose coalescer keeps
// pointing into it.
struct Receiver : CompletionHandler {
  Uring* ring = nullptr;
  BufferHolds* holds = nullptr;
  std::vector<Completion> all;
  std::vector<int> buffers;
  void OnCompletion(const Completion& c) override {
    all.push_back(c);
    if (c.buffer < 0) return;
    buffers.push_back(c.buffer);
    if (holds) holds->Hold(ring, c.buffer);
    ring->Recycle(c.buffer);
  }
  bool ended() const { return !all.empty() && !all.back().more; }
};

class BufferHoldsTest : public uring_fixture::UringSocketPairTest {
 protected:
  void SetUp() override {
    SetUpRing({.count = 4, .size = 256, .headroom = 0});
    if (IsSkipped() || HasFatalFailure()) return;
    rx_.ring = ring_.get();
    token_ = ring_->Register(&rx_);
    ring_->ReadMultishot(fds_[0], token_);
  }
  void Send(int n) {
    for (int i = 0; i < n; ++i) ASSERT_EQ(write(fds_[1], "x", 1), 1);
  }
  size_t Reads() const {
    size_t n = 0;
    for (const Completion& c : rx_.all) n += c.result > 0;
    return n;
  }

  Receiver rx_;
  uint64_t token_ = 0;
};

TEST_F(BufferHoldsTest, HeldBuffersStayOutOfTheRingUntilReleased) {
  BufferHolds holds;
  rx_.holds = &holds;
  Send(6);
  // Four buffers, all held: the read runs dry after four datagrams.
  PumpUntil([&] { return rx_.ended(); });
  EXPECT_EQ(Reads(), 4u);
  EXPECT_EQ(rx_.all.back().result, -ENOBUFS);
  EXPECT_EQ(holds.size(), 4u);
  EXPECT_EQ(ring_->held_buffers(), 4u);
  // Released (the coalescers flushed): the rest is read into them again.
  holds.Release();
  EXPECT_EQ(ring_->held_buffers(), 0u);
  rx_.holds = nullptr;
  ring_->ReadMultishot(fds_[0], token_);
  PumpUntil([&] { return Reads() == 6; });
}

TEST_F(BufferHoldsTest, ABufferHeldTwiceReturnsAfterTheLastRelease) {
  BufferHolds a, b;
  rx_.holds = &a;
  Send(1);
  PumpUntil([&] { return Reads() == 1; });
  int id = rx_.buffers[0];
  b.Hold(ring_.get(), id);  // a second session with a frame in the same buffer
  EXPECT_EQ(ring_->held_buffers(), 1u);
  a.Release();
  EXPECT_EQ(ring_->held_buffers(), 1u);  // b still points into it
  // The other three buffers, held as they come, take three datagrams; the
  // fourth finds none: `id` did not go back.
  BufferHolds others;
  rx_.holds = &others;
  Send(4);
  PumpUntil([&] { return rx_.ended(); });
  EXPECT_EQ(Reads(), 4u);
  EXPECT_EQ(others.size(), 3u);
  for (size_t i = 1; i < rx_.buffers.size(); ++i) EXPECT_NE(rx_.buffers[i], id);
  b.Release();
  EXPECT_EQ(ring_->held_buffers(), 3u);
  others.Release();
  EXPECT_EQ(ring_->held_buffers(), 0u);
  rx_.holds = nullptr;
  ring_->ReadMultishot(fds_[0], token_);
  PumpUntil([&] { return Reads() == 5; });
}

TEST_F(BufferHoldsTest, DestructionReleasesAndFramesOfOneBufferHoldItOnce) {
  {
    BufferHolds holds;
    rx_.holds = &holds;
    Send(2);
    PumpUntil([&] { return Reads() == 2; });
    // Several frames of one buffer (a GRO batch): one hold.
    holds.Hold(ring_.get(), rx_.buffers[1]);
    holds.Hold(ring_.get(), rx_.buffers[1]);
    EXPECT_EQ(holds.size(), 2u);
    EXPECT_EQ(ring_->held_buffers(), 2u);
    rx_.holds = nullptr;
  }  // a session that goes away mid-batch
  EXPECT_EQ(ring_->held_buffers(), 0u);
  // All four buffers are back: four more datagrams fit without rearming.
  Send(4);
  PumpUntil([&] { return Reads() == 6; });
  EXPECT_TRUE(rx_.all.back().more);
}

}  // namespace
}  // namespace l2tp::userspace
