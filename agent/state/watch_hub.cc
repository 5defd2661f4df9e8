#include "agent/state/watch_hub.h"

namespace l2tp {

bool WatchSubscription::Next(l2tpagent::v1::WatchEvent* event, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || overflowed_; })) return false;
  if (queue_.empty()) return false;
  *event = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

bool WatchSubscription::overflowed() const {
  std::lock_guard lock(mu_);
  return overflowed_ && queue_.empty();
}

void WatchSubscription::Push(const l2tpagent::v1::WatchEvent& event) {
  {
    std::lock_guard lock(mu_);
    if (overflowed_) return;
    if (queue_.size() >= capacity_) {
      overflowed_ = true;
    } else {
      queue_.push_back(event);
    }
  }
  cv_.notify_one();
}

std::shared_ptr<WatchSubscription> WatchHub::Subscribe() {
  auto sub = std::make_shared<WatchSubscription>(capacity_);
  std::lock_guard lock(mu_);
  subs_.insert(sub);
  return sub;
}

void WatchHub::Unsubscribe(const std::shared_ptr<WatchSubscription>& sub) {
  std::lock_guard lock(mu_);
  subs_.erase(sub);
}

void WatchHub::Publish(const l2tpagent::v1::WatchEvent& event) {
  std::lock_guard lock(mu_);
  for (const auto& sub : subs_) sub->Push(event);
}

size_t WatchHub::subscribers() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

}  // namespace l2tp
