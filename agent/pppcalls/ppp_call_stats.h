// What the PPP call runner counts (PppCalls::stats()), read by the metrics
// at scrape time (agent/metrics: l2tp_ppp_*). Plain data.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2tp {

// Upper bounds (seconds) of the call duration histogram's buckets; a last,
// implicit bucket takes the longer calls (+Inf). From a failed login (a
// second or two) to a week.
inline constexpr std::array<double, 10> kPppCallDurationBounds = {1,    10,    60,    300,   1800,
                                                                  3600, 14400, 43200, 86400, 604800};

struct PppCallStats {
  // Live calls now, by the phase pppd reached, indexed by ppp::PppPhase:
  // [0] ESTABLISHING, [1] AUTHENTICATING, [2] NETWORK. [3] (DEAD) stays 0:
  // an ended call is not live.
  std::array<uint64_t, 4> calls_by_phase{};
  // Calls whose pppd exited for failed authentication: an LAC we failed
  // (pppd exit 19), an LNS whose peer failed (exit 11).
  uint64_t auth_failures_lac = 0;
  uint64_t auth_failures_lns = 0;
  uint64_t calls_started = 0;  // pppd started
  uint64_t calls_ended = 0;    // pppd exited on its own, or the call was ended (EndCall, Stop)
  // Durations of the ended calls (from pppd's start): how many fell in each
  // bucket of kPppCallDurationBounds (not cumulative; the last is +Inf),
  // and their sum. Their count is calls_ended.
  std::array<uint64_t, kPppCallDurationBounds.size() + 1> duration_buckets{};
  double duration_sum_seconds = 0;

  void ObserveDuration(double seconds) {
    size_t i = 0;
    while (i < kPppCallDurationBounds.size() && seconds > kPppCallDurationBounds[i]) ++i;
    ++duration_buckets[i];
    duration_sum_seconds += seconds;
  }
};

}  // namespace l2tp
