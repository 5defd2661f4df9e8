// The last N events (created, adopted, repaired, failed, ...), kept in
// memory for `l2tpctl events`. Each is also logged as one line.
#pragma once

#include <deque>
#include <mutex>
#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

class EventLog {
 public:
  explicit EventLog(size_t capacity = 1000) : capacity_(capacity) {}
  void Record(l2tpagent::v1::ResourceKind kind, const std::string& name, l2tpagent::v1::Event::Reason reason,
              const std::string& message);
  // Newest first; limit 0 means all.
  l2tpagent::v1::ListEventsResponse List(size_t limit) const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::deque<l2tpagent::v1::Event> events_;  // oldest first
};

}  // namespace l2tp
