// Fans resource change events out to Watch streams. Each subscriber has a
// bounded queue; one that falls too far behind is closed rather than letting
// memory grow without bound.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

class WatchSubscription {
 public:
  explicit WatchSubscription(size_t capacity) : capacity_(capacity) {}

  // Waits up to `timeout` for the next event. False when none came (check
  // overflowed() or the caller's cancellation, then call again).
  bool Next(l2tpagent::v1::WatchEvent* event, std::chrono::milliseconds timeout);
  bool overflowed() const;

  void Push(const l2tpagent::v1::WatchEvent& event);

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<l2tpagent::v1::WatchEvent> queue_;
  bool overflowed_ = false;
};

class WatchHub {
 public:
  explicit WatchHub(size_t capacity = 10000) : capacity_(capacity) {}
  std::shared_ptr<WatchSubscription> Subscribe();
  void Unsubscribe(const std::shared_ptr<WatchSubscription>& sub);
  void Publish(const l2tpagent::v1::WatchEvent& event);
  size_t subscribers() const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::set<std::shared_ptr<WatchSubscription>> subs_;
};

}  // namespace l2tp
