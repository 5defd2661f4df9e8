// Per-I/O-thread timer for sessions whose reorder queue holds frames: one
// timerfd armed for the earliest head-of-queue expiry, disarmed when no
// session waits (so an idle datapath takes no wake-ups).
#pragma once

#include <optional>
#include <set>

#include "absl/status/status.h"
#include "datapath/userspace/io_loop.h"
#include "datapath/userspace/sequencer.h"

namespace l2tp::userspace {

class SessionPath;

class ReorderTimer : public EventHandler {
 public:
  ReorderTimer();
  ~ReorderTimer() override;
  absl::Status Attach(IoLoop* loop);

  void Track(SessionPath* session) { waiting_.insert(session); }
  void Untrack(SessionPath* session) { waiting_.erase(session); }
  // Re-arms for the earliest deadline; call after each batch.
  void Rearm();

  void OnEvent(uint32_t events) override;

 private:
  int fd_ = -1;
  std::optional<Sequencer::TimePoint> armed_for_;  // what the timerfd is set to
  std::set<SessionPath*> waiting_;
};

}  // namespace l2tp::userspace
