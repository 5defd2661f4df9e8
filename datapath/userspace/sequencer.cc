#include "datapath/userspace/sequencer.h"

#include "datapath/userspace/l2tp_header.h"

namespace l2tp::userspace {
namespace {

uint32_t SeqDistance(uint32_t from, uint32_t to) { return (to - from) & kSequenceMask; }

// True if a comes after b in the 24-bit circular space.
bool SeqAfter(uint32_t a, uint32_t b) {
  uint32_t d = SeqDistance(b, a);
  return d != 0 && d <= Sequencer::kWindow;
}

}  // namespace

Sequencer::Sequencer(Config config, Clock clock)
    : config_(config), clock_(std::move(clock)), send_sequence_(config.send_sequence) {}

void Sequencer::Reconfigure(const Config& config) {
  config_ = config;
  send_sequence_ = config.send_sequence;
}

std::optional<uint32_t> Sequencer::NextTxSequence() {
  if (!send_sequence_) return std::nullopt;
  uint32_t n = ns_;
  ns_ = (ns_ + 1) & kSequenceMask;
  return n;
}

void Sequencer::Discard(bool sequencing_discard) {
  if (sequencing_discard) ++stats_.rx_seq_discards;
  ++stats_.rx_errors;
}

bool Sequencer::AcceptSequenced(uint32_t sequence) {
  if (reorder_skip_) return true;
  bool in_window = SeqDistance(nr_, sequence) < kWindow;
  if (in_window && (config_.reorder_timeout_ms != 0 || sequence == nr_)) return true;

  // Out of sequence (or outside the window): track runs of consecutive numbers.
  if (sequence == ((nr_oos_ + 1) & kSequenceMask)) {
    ++nr_oos_count_;
  } else {
    nr_oos_count_ = 0;
  }
  nr_oos_ = sequence;
  if (nr_oos_count_ > kOosRunMax) {
    reorder_skip_ = true;
    return true;
  }
  // The kernel counts window violations as plain errors, OOS as seq discards.
  Discard(/*sequencing_discard=*/in_window);
  return false;
}

Sequencer::Verdict Sequencer::OnReceive(bool has_sequence, uint32_t sequence,
                                        std::span<const uint8_t> frame) {
  if (has_sequence) {
    // A LAC sends sequence numbers when its peer does.
    if (!config_.lns_mode && !send_sequence_) send_sequence_ = true;
  } else {
    if (config_.require_sequence) {
      Discard(true);
      return Verdict::kDrop;
    }
    if (!config_.lns_mode && send_sequence_) {
      send_sequence_ = false;  // the LNS asked us to stop
    } else if (send_sequence_) {
      Discard(true);  // an LNS sending sequence numbers requires them back
      return Verdict::kDrop;
    }
  }

  if (has_sequence && !AcceptSequenced(sequence)) return Verdict::kDrop;

  if (queue_.empty() && (!has_sequence || reorder_skip_ || sequence == nr_)) {
    if (has_sequence) {
      reorder_skip_ = false;
      nr_ = (sequence + 1) & kSequenceMask;
    }
    return Verdict::kDeliver;
  }
  if (queue_.size() >= kMaxQueued) {
    Discard(true);
    return Verdict::kDrop;
  }
  Enqueue(has_sequence, sequence, frame);
  return Verdict::kQueued;
}

void Sequencer::Enqueue(bool has_sequence, uint32_t sequence, std::span<const uint8_t> frame) {
  auto hold = config_.reorder_timeout_ms ? std::chrono::milliseconds(config_.reorder_timeout_ms)
                                         : kUnorderedHold;
  Entry e{has_sequence, sequence, clock_() + hold, {frame.begin(), frame.end()}};
  auto pos = queue_.end();
  if (has_sequence) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->has_sequence && SeqAfter(it->sequence, sequence)) {
        pos = it;
        ++stats_.rx_oos_packets;
        break;
      }
    }
  }
  queue_.insert(pos, std::move(e));
}

void Sequencer::Drain(absl::FunctionRef<void(std::span<const uint8_t>)> deliver) {
  TimePoint now = clock_();
  while (!queue_.empty()) {
    Entry& head = queue_.front();
    if (now >= head.expires) {
      Discard(true);
      reorder_skip_ = true;
      queue_.pop_front();
      continue;
    }
    if (head.has_sequence) {
      if (reorder_skip_) {
        reorder_skip_ = false;
        nr_ = head.sequence;
      }
      if (head.sequence != nr_) return;
      nr_ = (nr_ + 1) & kSequenceMask;
    }
    Entry e = std::move(head);
    queue_.pop_front();
    deliver(e.frame);
  }
}

std::optional<Sequencer::TimePoint> Sequencer::NextDeadline() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.front().expires;
}

void Sequencer::Purge() {
  stats_.rx_errors += queue_.size();
  queue_.clear();
}

}  // namespace l2tp::userspace
