// Capped exponential backoff for retrying failed datapath writes.
#pragma once

#include <chrono>

namespace l2tp {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  Backoff(Duration initial, Duration max) : initial_(initial), max_(max) {}

  // Delay before retry number `failures` (1 = after the first failure):
  // initial * 2^(failures-1), never more than max.
  Duration Delay(int failures) const;

 private:
  Duration initial_;
  Duration max_;
};

}  // namespace l2tp
