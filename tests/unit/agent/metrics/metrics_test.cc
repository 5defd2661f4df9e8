#include "agent/metrics/metrics.h"

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

Registry::MetricsRow Row(v1::ResourceKind kind, const std::string& name, const std::string& tunnel,
                         v1::Phase phase, uint64_t rx, uint64_t invalid = 0) {
  Registry::MetricsRow r{kind, name, tunnel, "if-" + name, phase, {}};
  r.counters.set_rx_packets(rx);
  r.counters.set_rx_invalid(invalid);
  return r;
}

std::string Text(const std::vector<Registry::MetricsRow>& rows, MetricsOptions options) {
  return prometheus::TextSerializer().Serialize(ResourceFamilies(rows, options));
}

TEST(MetricsTest, TunnelCountersSumTheirSessionsPlusTunnelOnlyDrops) {
  std::vector<Registry::MetricsRow> rows = {
      Row(v1::RESOURCE_KIND_TUNNEL, "t1", "t1", v1::PHASE_READY, 999, 4),
      Row(v1::RESOURCE_KIND_SESSION, "a", "t1", v1::PHASE_READY, 10),
      Row(v1::RESOURCE_KIND_SESSION, "b", "t1", v1::PHASE_FAILED, 5, 1),
  };
  std::string text = Text(rows, {});
  EXPECT_NE(text.find("l2tp_tunnel_rx_packets_total{tunnel=\"t1\"} 15"), std::string::npos) << text;
  EXPECT_NE(text.find("l2tp_tunnel_rx_invalid_total{tunnel=\"t1\"} 5"), std::string::npos) << text;
  EXPECT_NE(text.find("l2tp_agent_resources{kind=\"session\",phase=\"failed\"} 1"), std::string::npos);
  EXPECT_NE(text.find("l2tp_agent_resources{kind=\"tunnel\",phase=\"deleting\"} 0"), std::string::npos);
  EXPECT_EQ(text.find("l2tp_session_"), std::string::npos) << "per-session metrics are opt-in";
}

TEST(MetricsTest, SessionMetricsAreCappedAndSaySo) {
  std::vector<Registry::MetricsRow> rows = {Row(v1::RESOURCE_KIND_TUNNEL, "t1", "t1", v1::PHASE_READY, 0)};
  for (int i = 0; i < 5; ++i)
    rows.push_back(Row(v1::RESOURCE_KIND_SESSION, "s" + std::to_string(i), "t1", v1::PHASE_READY, i));
  MetricsOptions options;
  options.session_metrics = true;
  options.session_metrics_limit = 3;
  std::string text = Text(rows, options);
  size_t n = 0;
  for (size_t at = text.find("\nl2tp_session_rx_packets_total{"); at != std::string::npos;
       at = text.find("\nl2tp_session_rx_packets_total{", at + 1))
    ++n;
  EXPECT_EQ(n, 3u);
  EXPECT_NE(text.find("l2tp_agent_session_metrics_truncated 1"), std::string::npos);
  options.session_metrics_limit = 10;
  EXPECT_NE(Text(rows, options).find("l2tp_agent_session_metrics_truncated 0"), std::string::npos);
  EXPECT_NE(
      Text(rows, options)
          .find("l2tp_session_info{interface=\"if-s1\",pseudowire=\"eth\",session=\"s1\",tunnel=\"t1\"} 1"),
      std::string::npos);
}

}  // namespace
}  // namespace l2tp
