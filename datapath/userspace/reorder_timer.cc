#include "datapath/userspace/reorder_timer.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "datapath/userspace/session_path.h"

namespace l2tp::userspace {

ReorderTimer::ReorderTimer() { fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

ReorderTimer::~ReorderTimer() {
  if (fd_ >= 0) close(fd_);
}

absl::Status ReorderTimer::Attach(IoLoop* loop) {
  if (fd_ < 0) return absl::ErrnoToStatus(errno, "timerfd_create");
  return loop->Watch(fd_, EPOLLIN, this);
}

void ReorderTimer::Rearm() {
  std::optional<Sequencer::TimePoint> earliest;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto deadline = (*it)->NextDeadline();
    if (!deadline) {
      it = waiting_.erase(it);
      continue;
    }
    if (!earliest || *deadline < *earliest) earliest = deadline;
    ++it;
  }
  if (earliest == armed_for_) return;  // no syscall when nothing changed
  itimerspec spec{};
  if (earliest) {
    // steady_clock is CLOCK_MONOTONIC on Linux; a zero value would disarm.
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(earliest->time_since_epoch()).count();
    if (ns <= 0) ns = 1;
    spec.it_value.tv_sec = ns / 1000000000;
    spec.it_value.tv_nsec = ns % 1000000000;
  }
  timerfd_settime(fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_for_ = earliest;
}

void ReorderTimer::OnEvent(uint32_t) {
  uint64_t expirations;
  (void)!read(fd_, &expirations, sizeof expirations);
  armed_for_.reset();  // fired: a one-shot timer is disarmed now
  // Copy: draining may leave a session with an empty queue.
  std::vector<SessionPath*> sessions(waiting_.begin(), waiting_.end());
  for (SessionPath* s : sessions) s->DrainQueue();
}

}  // namespace l2tp::userspace
