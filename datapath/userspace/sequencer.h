// Per-session L2TP data sequencing, following Linux's l2tp_core
// (l2tp_recv_common, l2tp_recv_data_seq, l2tp_recv_dequeue):
//  - send side: 24-bit Ns when sending sequence numbers;
//  - LAC (lns_mode off) starts/stops sending when the peer does;
//  - require_sequence, or LNS sending sequence numbers: frames without a
//    sequence number are dropped (rx_seq_discards);
//  - reorder timeout 0: only the expected Nr is delivered, others are dropped
//    (rx_seq_discards); a run of consecutive out-of-sequence numbers longer
//    than kOosRunMax resynchronises to that run (the 6th is delivered);
//  - reorder timeout > 0: frames wait in an ordered queue (rx_oos_packets when
//    queued ahead of others) until the gap fills or the head expires
//    (rx_seq_discards), after which Nr resyncs to the next queued frame.
// Deliberate differences from the kernel, both for robustness:
//  - the first frame (and the first after a resync) sets Nr whatever its
//    value; the kernel still applies the window check to it;
//  - frames outside the receive window count towards the out-of-sequence run,
//    so a peer that restarts its numbering is followed instead of being
//    dropped until its numbers wrap; ordering in the queue is wrap-aware.
// Pure: no I/O, the clock is injected. Not thread-safe (one I/O thread owns it).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"

namespace l2tp::userspace {

class Sequencer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Clock = std::function<TimePoint()>;

  struct Config {
    bool send_sequence = false;
    bool require_sequence = false;
    bool lns_mode = false;
    uint64_t reorder_timeout_ms = 0;
  };
  struct Stats {
    uint64_t rx_seq_discards = 0;
    uint64_t rx_oos_packets = 0;
    uint64_t rx_errors = 0;  // every session-level discard
  };
  enum class Verdict {
    kDeliver,  // deliver this frame now (nothing is waiting ahead of it)
    kQueued,   // copied into the queue; call Drain()
    kDrop,     // discarded and counted
  };

  static constexpr uint32_t kOosRunMax = 4;                         // kernel nr_oos_count_max
  static constexpr uint32_t kWindow = 0xffffff / 2;                 // kernel nr_window_size (v3)
  static constexpr size_t kMaxQueued = 1024;                        // bound memory under long timeouts
  static constexpr std::chrono::milliseconds kUnorderedHold{1000};  // kernel: HZ

  Sequencer(Config config, Clock clock);

  // Sequencing options may change at runtime; queued frames stay queued.
  void Reconfigure(const Config& config);

  // Send side. Nullopt when not sending sequence numbers (currently: the LAC
  // may have been switched by its peer).
  std::optional<uint32_t> NextTxSequence();
  bool sending_sequence() const { return send_sequence_; }

  // Receive side, after the header was decoded.
  Verdict OnReceive(bool has_sequence, uint32_t sequence, std::span<const uint8_t> frame);
  // Delivers every frame that is now in order and drops expired ones.
  void Drain(absl::FunctionRef<void(std::span<const uint8_t>)> deliver);
  // When Drain() must next run to expire the frame blocking the queue.
  std::optional<TimePoint> NextDeadline() const;
  // Drops every queued frame (counted as rx_errors), e.g. on delete.
  void Purge();

  const Stats& stats() const { return stats_; }
  size_t queued() const { return queue_.size(); }
  uint32_t expected_sequence() const { return nr_; }

 private:
  struct Entry {
    bool has_sequence;
    uint32_t sequence;
    TimePoint expires;
    std::vector<uint8_t> frame;
  };

  bool AcceptSequenced(uint32_t sequence);  // window + out-of-sequence rules
  void Enqueue(bool has_sequence, uint32_t sequence, std::span<const uint8_t> frame);
  void Discard(bool sequencing_discard);

  Config config_;
  Clock clock_;
  bool send_sequence_;
  uint32_t ns_ = 0;            // next sequence number to send
  uint32_t nr_ = 0;            // next sequence number expected
  bool reorder_skip_ = true;   // next sequenced frame sets nr_
  uint32_t nr_oos_ = 0;        // last out-of-sequence number seen
  uint32_t nr_oos_count_ = 0;  // length of the current consecutive run
  std::deque<Entry> queue_;
  Stats stats_;
};

}  // namespace l2tp::userspace
