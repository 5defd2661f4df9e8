// Time as the control library sees it: a point on a monotonic clock that the
// caller passes in. Nothing in control/ reads a clock itself, so tests run
// the protocol on a fake one and the agent on std::chrono::steady_clock.
#pragma once

#include <chrono>

namespace l2tp::control {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;
// Round trips are measured finer: on a LAN they are well under a millisecond.
using RoundTrip = std::chrono::microseconds;

}  // namespace l2tp::control
