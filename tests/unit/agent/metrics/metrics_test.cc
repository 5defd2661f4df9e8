#include "agent/metrics/metrics.h"

#include <cctype>
#include <thread>

#include "control/message.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

Registry::MetricsRow Row(v1::ResourceKind kind, const std::string& name, const std::string& tunnel,
                         v1::Phase phase, uint64_t rx, uint64_t invalid = 0) {
  Registry::MetricsRow r{kind, name, tunnel, "if-" + name, phase, {}, v1::CONTROL_STATE_UNSPECIFIED, 0};
  r.counters.set_rx_packets(rx);
  r.counters.set_rx_invalid(invalid);
  return r;
}

std::string Text(const std::vector<Registry::MetricsRow>& rows, MetricsOptions options) {
  return prometheus::TextSerializer().Serialize(ResourceFamilies(rows, options));
}

Registry::MetricsRow DynamicTunnel(const std::string& name, v1::ControlState state,
                                   uint64_t retransmissions) {
  Registry::MetricsRow r = Row(v1::RESOURCE_KIND_TUNNEL, name, name, v1::PHASE_READY, 0);
  r.control_state = state;
  r.control_retransmissions = retransmissions;
  return r;
}

// What an exposer would serve from the scrape-time collector.
std::string ScrapeText(const AgentMetrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.resource_collector()->Collect());
}

bool Has(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }

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

// Issue 15: per session, by how many bytes full-size frames exceed the
// underlay; 0 for every session that fits, and gone with the session.
TEST(MetricsTest, SessionFragmentingIsAGaugePerSession) {
  std::vector<Registry::MetricsRow> rows = {Row(v1::RESOURCE_KIND_TUNNEL, "t1", "t1", v1::PHASE_READY, 0),
                                            Row(v1::RESOURCE_KIND_SESSION, "fits", "t1", v1::PHASE_READY, 0),
                                            Row(v1::RESOURCE_KIND_SESSION, "over", "t1", v1::PHASE_READY, 0)};
  rows[2].fragmenting_bytes = 8;
  MetricsOptions options;
  options.session_metrics = true;
  std::string text = Text(rows, options);
  EXPECT_TRUE(Has(text, "# TYPE l2tp_session_fragmenting gauge")) << text;
  EXPECT_TRUE(Has(text, "l2tp_session_fragmenting{session=\"fits\",tunnel=\"t1\"} 0")) << text;
  EXPECT_TRUE(Has(text, "l2tp_session_fragmenting{session=\"over\",tunnel=\"t1\"} 8")) << text;
  rows.pop_back();  // deleted
  EXPECT_FALSE(Has(Text(rows, options), "session=\"over\"")) << text;
  EXPECT_FALSE(Has(Text(rows, {}), "l2tp_session_fragmenting")) << "per-session metrics are opt-in";
}

TEST(ControlMetricsTest, TunnelControlUpOnlyForDynamicTunnels) {
  std::vector<Registry::MetricsRow> rows = {
      Row(v1::RESOURCE_KIND_TUNNEL, "static", "static", v1::PHASE_READY, 0),
      DynamicTunnel("up", v1::CONTROL_STATE_ESTABLISHED, 3),
      DynamicTunnel("connecting", v1::CONTROL_STATE_CONNECTING, 7),
      DynamicTunnel("down", v1::CONTROL_STATE_DOWN, 0),
      DynamicTunnel("idle", v1::CONTROL_STATE_IDLE, 0),
      DynamicTunnel("closing", v1::CONTROL_STATE_CLOSING, 1),
      Row(v1::RESOURCE_KIND_SESSION, "s", "up", v1::PHASE_READY, 1),
  };
  std::string text = Text(rows, {});
  EXPECT_TRUE(Has(text, "# TYPE l2tp_tunnel_control_up gauge")) << text;
  EXPECT_TRUE(Has(text, "# TYPE l2tp_tunnel_control_retransmissions_total counter")) << text;
  EXPECT_TRUE(Has(text, "l2tp_tunnel_control_up{tunnel=\"up\"} 1")) << text;
  for (const char* t : {"connecting", "down", "idle", "closing"}) {
    EXPECT_TRUE(Has(text, "l2tp_tunnel_control_up{tunnel=\"" + std::string(t) + "\"} 0")) << t;
  }
  EXPECT_TRUE(Has(text, "l2tp_tunnel_control_retransmissions_total{tunnel=\"up\"} 3")) << text;
  EXPECT_TRUE(Has(text, "l2tp_tunnel_control_retransmissions_total{tunnel=\"connecting\"} 7")) << text;
  EXPECT_FALSE(Has(text, "l2tp_tunnel_control_up{tunnel=\"static\"}"))
      << "STATIC tunnels have no control connection";
  EXPECT_FALSE(Has(text, "l2tp_tunnel_control_retransmissions_total{tunnel=\"static\"}"));
}

TEST(ControlMetricsTest, TunnelControlFamiliesAreDeclaredWithoutDynamicTunnels) {
  std::string text = Text({Row(v1::RESOURCE_KIND_TUNNEL, "static", "static", v1::PHASE_READY, 0)}, {});
  EXPECT_TRUE(Has(text, "# TYPE l2tp_tunnel_control_up gauge")) << text;
  EXPECT_FALSE(Has(text, "l2tp_tunnel_control_up{")) << text;
}

TEST(ControlMetricsTest, TypeLabelsAreTheLowerCaseRfcNames) {
  EXPECT_STREQ(ControlMessageTypeLabel(0), "zlb");
  for (int i = 1; i < ControlCounters::kMessageTypes; ++i) {
    std::string name = control::MessageTypeName(static_cast<uint16_t>(i));
    const char* label = ControlMessageTypeLabel(i);
    if (name.rfind("type ", 0) == 0) {
      EXPECT_EQ(label, nullptr) << i << " has no name, so no label of its own";
      continue;
    }
    ASSERT_NE(label, nullptr) << name;
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(label, name) << i;
  }
  EXPECT_EQ(ControlMessageTypeLabel(-1), nullptr);
  EXPECT_EQ(ControlMessageTypeLabel(ControlCounters::kMessageTypes), nullptr);
}

TEST(ControlMetricsTest, ControlCountersAreZeroWithoutSourceThenReadAtScrape) {
  AgentMetrics metrics("test", "userspace", nullptr, {});
  std::string text = ScrapeText(metrics);
  for (const char* line : {"l2tp_control_messages_sent_total{type=\"sccrq\"} 0",
                           "l2tp_control_messages_received_total{type=\"zlb\"} 0",
                           "l2tp_control_messages_received_total{type=\"other\"} 0",
                           "l2tp_control_retransmissions_total 0", "l2tp_control_auth_failures_total 0",
                           "l2tp_control_malformed_messages_total 0", "l2tp_control_illegal_messages_total 0",
                           "l2tp_control_out_of_window_total 0", "l2tp_control_unexpected_frames_total 0"}) {
    EXPECT_TRUE(Has(text, line)) << line << "\n" << text;
  }
  EXPECT_FALSE(Has(text, "l2tp_control_messages_sent_total{type=\"other\"}"))
      << "we never send unassigned types";
  EXPECT_FALSE(Has(text, "l2tp_agent_resources")) << "no registry: no resource families";

  int scrapes = 0;
  metrics.SetControlCountersSource([&scrapes] {
    ++scrapes;
    ControlCounters c;
    c.sent[1] = 2;       // SCCRQ
    c.sent[6] = 40;      // HELLO
    c.sent[0] = 5;       // ZLB
    c.received[20] = 9;  // ACK
    c.received[5] = 1;   // unassigned
    c.received[17] = 2;  // unassigned
    c.retransmissions = 3;
    c.auth_failures = 4;
    c.malformed = 5;
    c.illegal = 6;
    c.out_of_window = 7;
    c.unexpected_peer = 8;
    return c;
  });
  EXPECT_EQ(scrapes, 0) << "read at scrape time, not when set";
  text = ScrapeText(metrics);
  EXPECT_EQ(scrapes, 1);
  for (const char* line : {"l2tp_control_messages_sent_total{type=\"sccrq\"} 2",
                           "l2tp_control_messages_sent_total{type=\"hello\"} 40",
                           "l2tp_control_messages_sent_total{type=\"zlb\"} 5",
                           "l2tp_control_messages_sent_total{type=\"stopccn\"} 0",
                           "l2tp_control_messages_received_total{type=\"ack\"} 9",
                           "l2tp_control_messages_received_total{type=\"other\"} 3",
                           "l2tp_control_retransmissions_total 3", "l2tp_control_auth_failures_total 4",
                           "l2tp_control_malformed_messages_total 5", "l2tp_control_illegal_messages_total 6",
                           "l2tp_control_out_of_window_total 7", "l2tp_control_unexpected_frames_total 8"}) {
    EXPECT_TRUE(Has(text, line)) << line << "\n" << text;
  }
  EXPECT_FALSE(Has(text, "type=\"type")) << "no raw type numbers as labels";

  metrics.SetControlCountersSource(nullptr);  // the control plane went away
  text = ScrapeText(metrics);
  EXPECT_EQ(scrapes, 1);
  EXPECT_TRUE(Has(text, "l2tp_control_messages_sent_total{type=\"hello\"} 0")) << text;
}

TEST(ControlMetricsTest, HelloRoundTripHistogramIsThreadSafe) {
  AgentMetrics metrics("test", "userspace", nullptr, {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 1000; ++i) metrics.ObserveHelloRoundTrip(0.0003);
    });
  }
  std::thread scraper([&metrics] {
    for (int i = 0; i < 50; ++i) prometheus::TextSerializer().Serialize(metrics.agent_registry()->Collect());
  });
  for (auto& t : threads) t.join();
  scraper.join();
  metrics.ObserveHelloRoundTrip(20);  // beyond the last bucket: +Inf only
  std::string text = prometheus::TextSerializer().Serialize(metrics.agent_registry()->Collect());
  EXPECT_TRUE(Has(text, "# TYPE l2tp_control_hello_rtt_seconds histogram")) << text;
  EXPECT_TRUE(Has(text, "l2tp_control_hello_rtt_seconds_count 4001")) << text;
  EXPECT_TRUE(Has(text, "l2tp_control_hello_rtt_seconds_bucket{le=\"0.0001\"} 0")) << text;
  EXPECT_TRUE(Has(text, "l2tp_control_hello_rtt_seconds_bucket{le=\"0.00025\"} 0")) << text;
  EXPECT_TRUE(Has(text, "l2tp_control_hello_rtt_seconds_bucket{le=\"0.0005\"} 4000")) << text;
  EXPECT_TRUE(Has(text, "l2tp_control_hello_rtt_seconds_bucket{le=\"10\"} 4000")) << text;
  EXPECT_TRUE(Has(text, "l2tp_control_hello_rtt_seconds_bucket{le=\"+Inf\"} 4001")) << text;
}

}  // namespace
}  // namespace l2tp
