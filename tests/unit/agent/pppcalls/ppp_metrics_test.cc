// The PPP call runner's stats as Prometheus families (agent/metrics:
// PppFamilies), and through AgentMetrics' scrape-time source.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "agent/metrics/metrics.h"
#include "agent/pppcalls/ppp_call_stats.h"
#include "prometheus/text_serializer.h"

namespace l2tp {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;
using ::testing::HasSubstr;

const MetricFamily* Find(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string Text(const std::vector<MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

TEST(PppCallStats, DurationBucketsAreInclusiveUpperBounds) {
  PppCallStats s;
  s.ObserveDuration(0.5);
  s.ObserveDuration(1);  // le="1"
  s.ObserveDuration(1.5);
  s.ObserveDuration(1e9);  // +Inf
  EXPECT_EQ(s.duration_buckets[0], 2u);
  EXPECT_EQ(s.duration_buckets[1], 1u);
  EXPECT_EQ(s.duration_buckets.back(), 1u);
  EXPECT_DOUBLE_EQ(s.duration_sum_seconds, 1e9 + 3);
}

TEST(PppFamilies, AtZeroEverySeriesIsThere) {
  const auto families = PppFamilies(PppCallStats{});
  const std::string text = Text(families);
  EXPECT_THAT(text, HasSubstr("# TYPE l2tp_ppp_sessions gauge\n"));
  for (const char* phase : {"establishing", "authenticating", "network"}) {
    EXPECT_THAT(text, HasSubstr(std::string("l2tp_ppp_sessions{phase=\"") + phase + "\"} 0\n"));
  }
  EXPECT_THAT(text, HasSubstr("# TYPE l2tp_ppp_auth_failures_total counter\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_auth_failures_total{side=\"lac\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_auth_failures_total{side=\"lns\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_calls_started_total 0\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE l2tp_ppp_call_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_call_duration_seconds_count 0\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_call_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
}

TEST(PppFamilies, TheStatsAsSeries) {
  PppCallStats s;
  s.calls_by_phase = {1, 2, 3, 0};
  s.auth_failures_lac = 4;
  s.auth_failures_lns = 5;
  s.calls_started = 17;
  s.calls_ended = 3;
  s.ObserveDuration(0.2);
  s.ObserveDuration(30);
  s.ObserveDuration(7200);
  const auto families = PppFamilies(s);
  const std::string text = Text(families);
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_sessions{phase=\"establishing\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_sessions{phase=\"authenticating\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_sessions{phase=\"network\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_auth_failures_total{side=\"lac\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_auth_failures_total{side=\"lns\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_calls_started_total 17\n"));

  const MetricFamily* d = Find(families, "l2tp_ppp_call_duration_seconds");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->type, MetricType::Histogram);
  const auto& h = d->metric.at(0).histogram;
  EXPECT_EQ(h.sample_count, 3u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 7230.2);
  ASSERT_EQ(h.bucket.size(), kPppCallDurationBounds.size() + 1);
  EXPECT_EQ(h.bucket[0].upper_bound, 1);
  EXPECT_EQ(h.bucket[0].cumulative_count, 1u);  // 0.2
  EXPECT_EQ(h.bucket[2].upper_bound, 60);
  EXPECT_EQ(h.bucket[2].cumulative_count, 2u);  // + 30
  EXPECT_EQ(h.bucket[6].upper_bound, 14400);
  EXPECT_EQ(h.bucket[6].cumulative_count, 3u);  // + 7200
  EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
  EXPECT_EQ(h.bucket.back().cumulative_count, 3u);
  EXPECT_THAT(text, HasSubstr("l2tp_ppp_call_duration_seconds_bucket{le=\"60\"} 2\n"));
}

TEST(PppFamilies, ReadFromTheSourceAtScrapeTime) {
  AgentMetrics metrics("test", "memory", nullptr, MetricsOptions{});
  auto scrape = [&] { return Text(metrics.resource_collector()->Collect()); };
  EXPECT_THAT(scrape(), HasSubstr("l2tp_ppp_calls_started_total 0\n"));
  PppCallStats s;
  s.calls_started = 2;
  s.calls_by_phase[2] = 1;
  metrics.SetPppStatsSource([&s] { return s; });
  EXPECT_THAT(scrape(), HasSubstr("l2tp_ppp_calls_started_total 2\n"));
  EXPECT_THAT(scrape(), HasSubstr("l2tp_ppp_sessions{phase=\"network\"} 1\n"));
  metrics.SetPppStatsSource(nullptr);
  EXPECT_THAT(scrape(), HasSubstr("l2tp_ppp_calls_started_total 0\n"));
}

}  // namespace
}  // namespace l2tp
