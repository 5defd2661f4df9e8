#include "agent/state/event_log.h"

#include "google/protobuf/util/time_util.h"

namespace l2tp {

void EventLog::Record(l2tpagent::v1::ResourceKind kind, const std::string& name,
                      l2tpagent::v1::Event::Reason reason, const std::string& message) {
  l2tpagent::v1::Event e;
  *e.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  e.set_kind(kind);
  e.set_name(name);
  e.set_reason(reason);
  e.set_message(message);
  std::lock_guard lock(mu_);
  events_.push_back(std::move(e));
  while (events_.size() > capacity_) events_.pop_front();
}

l2tpagent::v1::ListEventsResponse EventLog::List(size_t limit) const {
  std::lock_guard lock(mu_);
  l2tpagent::v1::ListEventsResponse out;
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (limit != 0 && static_cast<size_t>(out.events_size()) >= limit) break;
    *out.add_events() = *it;
  }
  return out;
}

}  // namespace l2tp
