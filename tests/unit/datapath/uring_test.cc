// Uring against the running kernel: multishot reads into provided buffers,
// running out of buffers, stale completions after a handler goes away, and
// multishot poll. Datagram socket pairs stand in for TAPs (one read, one
// datagram, as a TAP gives one frame). Skipped where io_uring lacks what the
// datapath needs (it then runs in epoll mode).
#include "datapath/userspace/uring.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/unit/datapath/uring_fixture.h"

namespace l2tp::userspace {
namespace {

struct Recorder : CompletionHandler {
  Uring* ring = nullptr;
  bool recycle = true;
  std::vector<std::string> data;
  std::vector<Completion> all;
  void OnCompletion(const Completion& c) override {
    all.push_back(c);
    if (c.buffer >= 0 && c.result > 0) {
      const uint8_t* p = ring->Buffer(c.buffer) + ring->buffers().headroom;
      data.emplace_back(reinterpret_cast<const char*>(p), static_cast<size_t>(c.result));
    }
    if (c.buffer >= 0 && recycle) ring->Recycle(c.buffer);
  }
};

class UringTest : public uring_fixture::UringSocketPairTest {
 protected:
  void SetUp() override {
    SetUpRing({.count = 4, .size = 256, .headroom = 16});
    if (IsSkipped() || HasFatalFailure()) return;
    rec_.ring = ring_.get();
  }
  void Send(const std::string& s) { ASSERT_EQ(write(fds_[1], s.data(), s.size()), ssize_t(s.size())); }

  Recorder rec_;
};

TEST_F(UringTest, MultishotReadDeliversEachDatagramInItsOwnBuffer) {
  uint64_t token = ring_->Register(&rec_);
  ring_->ReadMultishot(fds_[0], token);
  Send("one");
  Send("two");
  Send("three");
  PumpUntil([&] { return rec_.data.size() == 3; });
  EXPECT_EQ(rec_.data, (std::vector<std::string>{"one", "two", "three"}));
  for (const Completion& c : rec_.all) EXPECT_TRUE(c.more);
  // Recycled buffers keep it going well past the ring's 4 buffers.
  for (int round = 0; round < 5; ++round) {
    Send("again" + std::to_string(2 * round));
    Send("again" + std::to_string(2 * round + 1));
    PumpUntil([&] { return rec_.data.size() == 5 + 2 * size_t(round); });
  }
  EXPECT_EQ(rec_.data.back(), "again9");
  EXPECT_TRUE(rec_.all.back().more);
}

TEST_F(UringTest, RunningOutOfBuffersEndsTheReadUntilRearmed) {
  rec_.recycle = false;
  uint64_t token = ring_->Register(&rec_);
  ring_->ReadMultishot(fds_[0], token);
  for (int i = 0; i < 5; ++i) Send("d" + std::to_string(i));
  PumpUntil([&] { return !rec_.all.empty() && !rec_.all.back().more; });
  ASSERT_EQ(rec_.data.size(), 4u);  // one per buffer
  EXPECT_EQ(rec_.all.back().result, -ENOBUFS);
  EXPECT_EQ(rec_.all.back().buffer, -1);
  // Give the buffers back and read on: nothing was lost.
  for (const Completion& c : rec_.all) {
    if (c.buffer >= 0) ring_->Recycle(c.buffer);
  }
  rec_.recycle = true;
  ring_->ReadMultishot(fds_[0], token);
  PumpUntil([&] { return rec_.data.size() == 5; });
  EXPECT_EQ(rec_.data.back(), "d4");
}

TEST_F(UringTest, CompletionsAfterUnregisterAreDroppedAndTheirBuffersReturned) {
  uint64_t token = ring_->Register(&rec_);
  ring_->ReadMultishot(fds_[0], token);
  Send("x");
  PumpUntil([&] { return rec_.data.size() == 1; });
  // Data arrives, then the handler goes away before it is dispatched.
  Send("late1");
  Send("late2");
  ring_->Submit(/*wait=*/false);  // the kernel reads them into buffers
  ring_->Cancel(token);
  ring_->Dispatch();
  EXPECT_EQ(rec_.data.size(), 1u);
  // The stale completions gave their buffers back: a new reader gets all 4.
  Recorder other;
  other.ring = ring_.get();
  other.recycle = false;
  uint64_t t2 = ring_->Register(&other);
  EXPECT_NE(t2, token);  // the slot is reused under a new generation
  ring_->ReadMultishot(fds_[0], t2);
  for (int i = 0; i < 4; ++i) Send("n" + std::to_string(i));
  PumpUntil([&] { return other.data.size() == 4; });
}

TEST_F(UringTest, MultishotPollFiresOnEachReadiness) {
  uint64_t token = ring_->Register(&rec_);
  ring_->PollMultishot(fds_[0], token);
  Send("a");
  PumpUntil([&] { return rec_.all.size() == 1; });
  EXPECT_TRUE(rec_.all[0].more);
  EXPECT_EQ(rec_.all[0].buffer, -1);
  char b[8];
  ASSERT_EQ(read(fds_[0], b, sizeof b), 1);
  Send("b");
  PumpUntil([&] { return rec_.all.size() == 2; });
}

TEST(UringCreate, RefusesABufferCountThatIsNotAPowerOfTwo) {
  auto r = Uring::Create({.count = 3, .size = 256, .headroom = 0});
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace l2tp::userspace
