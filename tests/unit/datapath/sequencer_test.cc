// Sequencing as Linux's l2tp_core does it, with a fake clock.
#include "datapath/userspace/sequencer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace l2tp::userspace {
namespace {

using std::chrono::milliseconds;
using Verdict = Sequencer::Verdict;

class SequencerTest : public ::testing::Test {
 protected:
  Sequencer Make(Sequencer::Config config) {
    return Sequencer(config, [this] { return now_; });
  }
  // A frame whose content names its sequence number, to check order.
  std::vector<uint8_t> Frame(uint32_t n) { return {uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)}; }
  static uint32_t Id(std::span<const uint8_t> f) { return f[0] << 16 | f[1] << 8 | f[2]; }
  std::vector<uint32_t> Drain(Sequencer& s) {
    std::vector<uint32_t> out;
    s.Drain([&](std::span<const uint8_t> f) { out.push_back(Id(f)); });
    return out;
  }
  Verdict Rx(Sequencer& s, uint32_t n) { return s.OnReceive(true, n, Frame(n)); }
  Verdict RxPlain(Sequencer& s, uint32_t id) { return s.OnReceive(false, 0, Frame(id)); }

  Sequencer::TimePoint now_{std::chrono::seconds(1000)};
};

TEST_F(SequencerTest, SendsConsecutive24BitNumbers) {
  Sequencer s = Make({.send_sequence = true});
  EXPECT_EQ(s.NextTxSequence(), 0u);
  EXPECT_EQ(s.NextTxSequence(), 1u);
  for (int i = 2; i < 0x1000000; ++i) s.NextTxSequence();
  EXPECT_EQ(s.NextTxSequence(), 0u);  // wrapped after 0xffffff
}

TEST_F(SequencerTest, NoNumbersWhenNotSending) {
  Sequencer s = Make({});
  EXPECT_EQ(s.NextTxSequence(), std::nullopt);
}

TEST_F(SequencerTest, InOrderFramesAreDelivered) {
  Sequencer s = Make({});
  for (uint32_t n = 7; n < 12; ++n) EXPECT_EQ(Rx(s, n), Verdict::kDeliver) << n;  // first sets Nr
  EXPECT_EQ(s.expected_sequence(), 12u);
  EXPECT_EQ(s.stats().rx_seq_discards, 0u);
  EXPECT_EQ(s.stats().rx_errors, 0u);
}

TEST_F(SequencerTest, SequenceWrapsInOrder) {
  Sequencer s = Make({});
  EXPECT_EQ(Rx(s, 0xfffffe), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 0xffffff), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
  EXPECT_EQ(s.stats().rx_errors, 0u);
}

TEST_F(SequencerTest, WithoutReorderingOutOfSequenceIsDroppedThenResyncs) {
  Sequencer s = Make({});
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 1), Verdict::kDeliver);
  // Frame 2 lost. 3..7 are out of sequence: the kernel drops until the run of
  // consecutive numbers exceeds nr_oos_count_max (4), i.e. the 6th is taken.
  for (uint32_t n = 3; n <= 7; ++n) EXPECT_EQ(Rx(s, n), Verdict::kDrop) << n;
  EXPECT_EQ(s.stats().rx_seq_discards, 5u);
  EXPECT_EQ(s.stats().rx_errors, 5u);
  EXPECT_EQ(Rx(s, 8), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 9), Verdict::kDeliver);
  EXPECT_EQ(s.stats().rx_seq_discards, 5u);
}

TEST_F(SequencerTest, BrokenRunDoesNotResync) {
  Sequencer s = Make({});
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
  for (uint32_t n : {10u, 11u, 12u, 13u, 20u, 21u, 22u, 23u, 24u}) {
    EXPECT_EQ(Rx(s, n), Verdict::kDrop) << n;
  }
  EXPECT_EQ(Rx(s, 1), Verdict::kDeliver);  // still waiting for 1
  EXPECT_EQ(s.stats().rx_seq_discards, 9u);
}

TEST_F(SequencerTest, DuplicateIsDropped) {
  Sequencer s = Make({});
  EXPECT_EQ(Rx(s, 5), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 5), Verdict::kDrop);  // behind Nr: outside the window
  EXPECT_EQ(s.stats().rx_errors, 1u);
  EXPECT_EQ(s.stats().rx_seq_discards, 0u);  // window drops are plain errors
}

TEST_F(SequencerTest, RestartedPeerIsFollowedAfterARun) {
  Sequencer s = Make({});
  for (uint32_t n = 1000; n < 1010; ++n) Rx(s, n);
  for (uint32_t n = 0; n < 5; ++n) EXPECT_EQ(Rx(s, n), Verdict::kDrop);
  EXPECT_EQ(Rx(s, 5), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 6), Verdict::kDeliver);
}

TEST_F(SequencerTest, RequireSequenceDropsUnnumberedFrames) {
  Sequencer s = Make({.require_sequence = true});
  EXPECT_EQ(RxPlain(s, 1), Verdict::kDrop);
  EXPECT_EQ(s.stats().rx_seq_discards, 1u);
  EXPECT_EQ(s.stats().rx_errors, 1u);
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
}

TEST_F(SequencerTest, UnnumberedFramesPassWhenNotRequired) {
  Sequencer s = Make({});
  EXPECT_EQ(RxPlain(s, 1), Verdict::kDeliver);
  EXPECT_EQ(s.stats().rx_errors, 0u);
}

TEST_F(SequencerTest, LacFollowsThePeer) {
  Sequencer s = Make({.lns_mode = false});
  EXPECT_FALSE(s.sending_sequence());
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
  EXPECT_TRUE(s.sending_sequence());  // peer numbers: so do we
  EXPECT_EQ(s.NextTxSequence(), 0u);
  EXPECT_EQ(RxPlain(s, 1), Verdict::kDeliver);
  EXPECT_FALSE(s.sending_sequence());  // peer stopped: so do we
  EXPECT_EQ(s.NextTxSequence(), std::nullopt);
}

TEST_F(SequencerTest, LnsDictatesSequencing) {
  Sequencer lns = Make({.lns_mode = true});
  EXPECT_EQ(Rx(lns, 0), Verdict::kDeliver);
  EXPECT_FALSE(lns.sending_sequence());  // an LNS does not follow

  Sequencer sending_lns = Make({.send_sequence = true, .lns_mode = true});
  EXPECT_EQ(RxPlain(sending_lns, 1), Verdict::kDrop);  // the LAC must number too
  EXPECT_EQ(sending_lns.stats().rx_seq_discards, 1u);
  EXPECT_TRUE(sending_lns.sending_sequence());
}

TEST_F(SequencerTest, ReorderQueueReleasesWhenGapFills) {
  Sequencer s = Make({.reorder_timeout_ms = 100});
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 2), Verdict::kQueued);
  EXPECT_EQ(Rx(s, 3), Verdict::kQueued);
  EXPECT_TRUE(Drain(s).empty());  // 1 missing
  EXPECT_EQ(s.NextDeadline(), now_ + milliseconds(100));
  EXPECT_EQ(Rx(s, 1), Verdict::kQueued);  // goes ahead of 2 and 3
  EXPECT_EQ(s.stats().rx_oos_packets, 1u);
  EXPECT_EQ(Drain(s), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(s.NextDeadline(), std::nullopt);
  EXPECT_EQ(Rx(s, 4), Verdict::kDeliver);
  EXPECT_EQ(s.stats().rx_seq_discards, 0u);
}

TEST_F(SequencerTest, ReorderQueueSortsAcrossWrap) {
  Sequencer s = Make({.reorder_timeout_ms = 100});
  EXPECT_EQ(Rx(s, 0xfffffe), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 1), Verdict::kQueued);
  EXPECT_EQ(Rx(s, 0), Verdict::kQueued);  // ahead of 1
  EXPECT_TRUE(Drain(s).empty());
  EXPECT_EQ(Rx(s, 0xffffff), Verdict::kQueued);
  EXPECT_EQ(Drain(s), (std::vector<uint32_t>{0xffffff, 0, 1}));
}

TEST_F(SequencerTest, ReorderTimeoutExpiresTheHeadAndResyncs) {
  Sequencer s = Make({.reorder_timeout_ms = 100});
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 2), Verdict::kQueued);
  now_ += milliseconds(50);
  EXPECT_EQ(Rx(s, 3), Verdict::kQueued);
  now_ += milliseconds(49);
  EXPECT_TRUE(Drain(s).empty());
  EXPECT_EQ(s.NextDeadline(), now_ + milliseconds(1));
  now_ += milliseconds(1);
  // 2 waited its full timeout: dropped, as the kernel does; 3 becomes Nr.
  EXPECT_EQ(Drain(s), (std::vector<uint32_t>{3}));
  EXPECT_EQ(s.stats().rx_seq_discards, 1u);
  EXPECT_EQ(s.stats().rx_errors, 1u);
  EXPECT_EQ(Rx(s, 4), Verdict::kDeliver);
}

TEST_F(SequencerTest, UnnumberedFrameWaitsBehindQueuedOnes) {
  Sequencer s = Make({.reorder_timeout_ms = 100});
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
  EXPECT_EQ(Rx(s, 2), Verdict::kQueued);
  EXPECT_EQ(s.OnReceive(false, 0, Frame(77)), Verdict::kQueued);
  EXPECT_EQ(Rx(s, 1), Verdict::kQueued);
  EXPECT_EQ(Drain(s), (std::vector<uint32_t>{1, 2, 77}));
}

TEST_F(SequencerTest, PurgeCountsQueuedFrames) {
  Sequencer s = Make({.reorder_timeout_ms = 100});
  Rx(s, 0);
  Rx(s, 5);
  Rx(s, 6);
  s.Purge();
  EXPECT_EQ(s.queued(), 0u);
  EXPECT_EQ(s.stats().rx_errors, 2u);
}

TEST_F(SequencerTest, QueueIsBounded) {
  Sequencer s = Make({.reorder_timeout_ms = 100000});
  Rx(s, 0);
  for (uint32_t n = 2; n < 2 + Sequencer::kMaxQueued; ++n) EXPECT_EQ(Rx(s, n), Verdict::kQueued);
  EXPECT_EQ(Rx(s, 5000), Verdict::kDrop);
  EXPECT_EQ(s.queued(), Sequencer::kMaxQueued);
}

TEST_F(SequencerTest, ReconfigureChangesBehaviourKeepingState) {
  Sequencer s = Make({});
  EXPECT_EQ(Rx(s, 0), Verdict::kDeliver);
  s.Reconfigure({.require_sequence = true});
  EXPECT_EQ(RxPlain(s, 9), Verdict::kDrop);
  EXPECT_EQ(Rx(s, 1), Verdict::kDeliver);  // Nr kept
  s.Reconfigure({.reorder_timeout_ms = 10});
  EXPECT_EQ(Rx(s, 3), Verdict::kQueued);
}

}  // namespace
}  // namespace l2tp::userspace
