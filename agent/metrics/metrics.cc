#include "agent/metrics/metrics.h"

#include <array>
#include <limits>
#include <map>
#include <mutex>

#include "prometheus/collectable.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;

struct ControlCountersSlot {
  // Held while the source runs, so that replacing it waits for a scrape that
  // is calling it: what the old source used may then be destroyed.
  std::mutex mu;
  std::function<ControlCounters()> source;  // empty: all counters at 0

  ControlCounters Read() {
    std::lock_guard lock(mu);
    return source ? source() : ControlCounters{};
  }
};

struct PppStatsSlot {
  std::mutex mu;                         // as ControlCountersSlot's
  std::function<PppCallStats()> source;  // empty: all at 0

  PppCallStats Read() {
    std::lock_guard lock(mu);
    return source ? source() : PppCallStats{};
  }
};

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// The ten L2TP counters, as metric-name suffixes and accessors.
struct CounterField {
  const char* suffix;
  const char* help;
  uint64_t (v1::Counters::*get)() const;
};
constexpr std::array<CounterField, 10> kCounterFields = {{
    {"rx_packets_total", "Packets received", &v1::Counters::rx_packets},
    {"rx_bytes_total", "Bytes received (L2TP header included, as the kernel counts)",
     &v1::Counters::rx_bytes},
    {"tx_packets_total", "Packets sent", &v1::Counters::tx_packets},
    {"tx_bytes_total", "Bytes sent (L2TP header included, as the kernel counts)", &v1::Counters::tx_bytes},
    {"rx_errors_total", "Receive errors (all session-level discards)", &v1::Counters::rx_errors},
    {"tx_errors_total", "Transmit errors", &v1::Counters::tx_errors},
    {"rx_seq_discards_total", "Packets dropped for sequencing (missing or out of order)",
     &v1::Counters::rx_seq_discards},
    {"rx_oos_packets_total", "Packets received out of sequence", &v1::Counters::rx_oos_packets},
    {"rx_cookie_discards_total", "Packets dropped for a cookie mismatch", &v1::Counters::rx_cookie_discards},
    {"rx_invalid_total", "Malformed packets dropped", &v1::Counters::rx_invalid},
}};

const char* PhaseLabel(v1::Phase p) {
  switch (p) {
    case v1::PHASE_READY: return "ready";
    case v1::PHASE_FAILED: return "failed";
    case v1::PHASE_DELETING: return "deleting";
    default: return "pending";
  }
}

ClientMetric Sample(std::vector<ClientMetric::Label> labels, double value, MetricType type) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  return m;
}

// Everything read at scrape time: the resources' series from the registry,
// and the control plane's counters from its source.
class ScrapeCollector : public prometheus::Collectable {
 public:
  ScrapeCollector(const Registry* registry, MetricsOptions options,
                  std::shared_ptr<ControlCountersSlot> control, std::shared_ptr<PppStatsSlot> ppp)
      : registry_(registry),
        options_(std::move(options)),
        control_(std::move(control)),
        ppp_(std::move(ppp)) {}
  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    if (registry_ != nullptr) out = ResourceFamilies(registry_->MetricsSnapshot(), options_);
    for (auto& f : ControlFamilies(control_->Read())) out.push_back(std::move(f));
    for (auto& f : PppFamilies(ppp_->Read())) out.push_back(std::move(f));
    return out;
  }

 private:
  const Registry* registry_;
  MetricsOptions options_;
  std::shared_ptr<ControlCountersSlot> control_;
  std::shared_ptr<PppStatsSlot> ppp_;
};

// Stable `type` labels of the control message types 0..20 (RFC 3931 section
// 3.1 and RFC 2661 section 3.2: the lower case of control::MessageTypeName).
// Index 0 counts ZLBs, the acknowledgements that carry no message.
constexpr std::array<const char*, ControlCounters::kMessageTypes> kControlTypeLabels = {{
    "zlb",  "sccrq", "sccrp", "scccn", "stopccn", nullptr, "hello", "ocrq",  "ocrp",  "occn", "icrq",
    "icrp", "iccn",  nullptr, "cdn",   "wen",     "sli",   nullptr, nullptr, nullptr, "ack",
}};

// The agent-wide control counters without a label.
struct ControlCounterField {
  const char* name;
  const char* help;
  uint64_t ControlCounters::*field;
};
constexpr std::array<ControlCounterField, 6> kControlCounterFields = {{
    {"l2tp_control_retransmissions_total",
     "Control messages retransmitted because the peer did not acknowledge them",
     &ControlCounters::retransmissions},
    {"l2tp_control_auth_failures_total",
     "Control messages refused for a bad or missing challenge response or message digest",
     &ControlCounters::auth_failures},
    {"l2tp_control_malformed_messages_total",
     "Control messages dropped because they did not decode or failed their AVP checks",
     &ControlCounters::malformed},
    {"l2tp_control_illegal_messages_total",
     "Well-formed control messages that arrived at a moment they are not legal", &ControlCounters::illegal},
    {"l2tp_control_out_of_window_total",
     "Control messages dropped because their Ns was outside the receive window",
     &ControlCounters::out_of_window},
    {"l2tp_control_unexpected_frames_total",
     "Control frames for no known control connection, or SCCRQs over the new-connection limit",
     &ControlCounters::unexpected_peer},
}};

}  // namespace

const char* ControlMessageTypeLabel(int index) {
  if (index < 0 || index >= ControlCounters::kMessageTypes) return nullptr;
  return kControlTypeLabels[index];
}

std::vector<MetricFamily> ControlFamilies(const ControlCounters& c) {
  std::vector<MetricFamily> out;
  // By message type: every named type at all times (0 until counted), so
  // rate() sees the first message; the unassigned type numbers a peer may
  // send are received as type="other".
  auto by_type = [&](const char* name, const char* help, const auto& counts, bool other) {
    MetricFamily fam{name, help, MetricType::Counter, {}};
    uint64_t others = 0;
    for (int i = 0; i < ControlCounters::kMessageTypes; ++i) {
      if (const char* label = kControlTypeLabels[i]) {
        fam.metric.push_back(Sample({{"type", label}}, static_cast<double>(counts[i]), MetricType::Counter));
      } else {
        others += counts[i];
      }
    }
    if (other)
      fam.metric.push_back(Sample({{"type", "other"}}, static_cast<double>(others), MetricType::Counter));
    out.push_back(std::move(fam));
  };
  by_type("l2tp_control_messages_sent_total",
          "Control messages sent, by message type; zlb: acknowledgements without a message", c.sent, false);
  by_type("l2tp_control_messages_received_total",
          "Control messages received, by message type; zlb: acknowledgements without a message, other: "
          "unassigned types",
          c.received, true);
  for (const auto& f : kControlCounterFields) {
    MetricFamily fam{f.name, f.help, MetricType::Counter, {}};
    fam.metric.push_back(Sample({}, static_cast<double>(c.*f.field), MetricType::Counter));
    out.push_back(std::move(fam));
  }
  return out;
}

std::vector<MetricFamily> PppFamilies(const PppCallStats& s) {
  std::vector<MetricFamily> out;
  // Every label value at all times, 0 until counted.
  MetricFamily sessions{"l2tp_ppp_sessions",
                        "Live PPP calls (one pppd each), by the phase pppd reached: establishing (LCP), "
                        "authenticating (PAP or CHAP), network (IPCP done, traffic flows)",
                        MetricType::Gauge,
                        {}};
  constexpr std::array<const char*, 3> kPhases = {"establishing", "authenticating", "network"};
  for (size_t i = 0; i < kPhases.size(); ++i) {
    sessions.metric.push_back(
        Sample({{"phase", kPhases[i]}}, static_cast<double>(s.calls_by_phase[i]), MetricType::Gauge));
  }
  out.push_back(std::move(sessions));

  MetricFamily auth{"l2tp_ppp_auth_failures_total",
                    "PPP calls ended by failed authentication: side=lac, the peer refused us (pppd exit 19); "
                    "side=lns, the peer failed ours (pppd exit 11)",
                    MetricType::Counter,
                    {}};
  auth.metric.push_back(
      Sample({{"side", "lac"}}, static_cast<double>(s.auth_failures_lac), MetricType::Counter));
  auth.metric.push_back(
      Sample({{"side", "lns"}}, static_cast<double>(s.auth_failures_lns), MetricType::Counter));
  out.push_back(std::move(auth));

  MetricFamily started{"l2tp_ppp_calls_started_total",
                       "PPP calls started (pppd started)",
                       MetricType::Counter,
                       {}};
  started.metric.push_back(Sample({}, static_cast<double>(s.calls_started), MetricType::Counter));
  out.push_back(std::move(started));

  MetricFamily duration{"l2tp_ppp_call_duration_seconds",
                        "How long ended PPP calls lasted, from pppd's start to its exit or the call's end",
                        MetricType::Histogram,
                        {}};
  ClientMetric h;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < s.duration_buckets.size(); ++i) {
    cumulative += s.duration_buckets[i];
    ClientMetric::Bucket b;
    b.cumulative_count = cumulative;
    b.upper_bound = i < kPppCallDurationBounds.size() ? kPppCallDurationBounds[i]
                                                      : std::numeric_limits<double>::infinity();
    h.histogram.bucket.push_back(b);
  }
  h.histogram.sample_count = cumulative;
  h.histogram.sample_sum = s.duration_sum_seconds;
  duration.metric.push_back(std::move(h));
  out.push_back(std::move(duration));
  return out;
}

std::vector<MetricFamily> ResourceFamilies(const std::vector<Registry::MetricsRow>& rows,
                                           const MetricsOptions& options) {
  std::vector<MetricFamily> out;

  // Resources by kind and phase; every combination present so alerts see 0s.
  MetricFamily resources{"l2tp_agent_resources", "Tunnels and sessions by phase", MetricType::Gauge, {}};
  std::map<std::pair<std::string, std::string>, double> by_phase;
  for (const char* kind : {"tunnel", "session"}) {
    for (const char* phase : {"pending", "ready", "failed", "deleting"}) by_phase[{kind, phase}] = 0;
  }
  for (const auto& r : rows) {
    ++by_phase[{r.kind == v1::RESOURCE_KIND_TUNNEL ? "tunnel" : "session", PhaseLabel(r.phase)}];
  }
  for (const auto& [key, n] : by_phase) {
    resources.metric.push_back(Sample({{"kind", key.first}, {"phase", key.second}}, n, MetricType::Gauge));
  }
  out.push_back(std::move(resources));

  // Per tunnel: the sum over its sessions, plus what only the tunnel counts
  // (malformed packets that belong to no session).
  std::map<std::string, v1::Counters> per_tunnel;
  for (const auto& r : rows) {
    if (r.kind == v1::RESOURCE_KIND_TUNNEL) {
      per_tunnel[r.name].set_rx_invalid(per_tunnel[r.name].rx_invalid() + r.counters.rx_invalid());
    }
  }
  for (const auto& r : rows) {
    if (r.kind != v1::RESOURCE_KIND_SESSION || !per_tunnel.count(r.tunnel)) continue;
    auto& t = per_tunnel[r.tunnel];
    t.set_rx_packets(t.rx_packets() + r.counters.rx_packets());
    t.set_rx_bytes(t.rx_bytes() + r.counters.rx_bytes());
    t.set_tx_packets(t.tx_packets() + r.counters.tx_packets());
    t.set_tx_bytes(t.tx_bytes() + r.counters.tx_bytes());
    t.set_rx_errors(t.rx_errors() + r.counters.rx_errors());
    t.set_tx_errors(t.tx_errors() + r.counters.tx_errors());
    t.set_rx_seq_discards(t.rx_seq_discards() + r.counters.rx_seq_discards());
    t.set_rx_oos_packets(t.rx_oos_packets() + r.counters.rx_oos_packets());
    t.set_rx_cookie_discards(t.rx_cookie_discards() + r.counters.rx_cookie_discards());
    t.set_rx_invalid(t.rx_invalid() + r.counters.rx_invalid());
  }
  for (const auto& f : kCounterFields) {
    MetricFamily fam{std::string("l2tp_tunnel_") + f.suffix,
                     std::string(f.help) + ", summed over the tunnel's sessions",
                     MetricType::Counter,
                     {}};
    for (const auto& [name, c] : per_tunnel) {
      fam.metric.push_back(
          Sample({{"tunnel", name}}, static_cast<double>((c.*f.get)()), MetricType::Counter));
    }
    out.push_back(std::move(fam));
  }

  // DYNAMIC tunnels: their control connection (a tunnel both desired and
  // still being deleted under the same name: the desired one, listed first).
  std::map<std::string, const Registry::MetricsRow*> dynamic;
  for (const auto& r : rows) {
    if (r.kind == v1::RESOURCE_KIND_TUNNEL && r.control_state != v1::CONTROL_STATE_UNSPECIFIED) {
      dynamic.emplace(r.name, &r);
    }
  }
  MetricFamily control_up{
      "l2tp_tunnel_control_up",
      "1 when the tunnel's control connection is ESTABLISHED, 0 when it is idle, connecting, "
      "closing or down (DYNAMIC tunnels only)",
      MetricType::Gauge,
      {}};
  MetricFamily control_rtx{
      "l2tp_tunnel_control_retransmissions_total",
      "Control messages the tunnel's control connection retransmitted (DYNAMIC tunnels only)",
      MetricType::Counter,
      {}};
  for (const auto& [name, r] : dynamic) {
    control_up.metric.push_back(Sample({{"tunnel", name}},
                                       r->control_state == v1::CONTROL_STATE_ESTABLISHED ? 1 : 0,
                                       MetricType::Gauge));
    control_rtx.metric.push_back(
        Sample({{"tunnel", name}}, static_cast<double>(r->control_retransmissions), MetricType::Counter));
  }
  out.push_back(std::move(control_up));
  out.push_back(std::move(control_rtx));

  if (!options.session_metrics) return out;
  std::vector<const Registry::MetricsRow*> sessions;
  size_t total = 0;
  for (const auto& r : rows) {
    if (r.kind != v1::RESOURCE_KIND_SESSION) continue;
    ++total;
    if (sessions.size() < options.session_metrics_limit) sessions.push_back(&r);
  }
  MetricFamily info{"l2tp_session_info",
                    "Descriptive labels of each session, for joins (value 1)",
                    MetricType::Gauge,
                    {}};
  for (const auto* r : sessions) {
    info.metric.push_back(Sample(
        {{"interface", r->interface}, {"pseudowire", "eth"}, {"session", r->name}, {"tunnel", r->tunnel}}, 1,
        MetricType::Gauge));
  }
  out.push_back(std::move(info));
  for (const auto& f : kCounterFields) {
    MetricFamily fam{std::string("l2tp_session_") + f.suffix, f.help, MetricType::Counter, {}};
    for (const auto* r : sessions) {
      fam.metric.push_back(Sample({{"session", r->name}, {"tunnel", r->tunnel}},
                                  static_cast<double>((r->counters.*f.get)()), MetricType::Counter));
    }
    out.push_back(std::move(fam));
  }
  MetricFamily fragmenting{"l2tp_session_fragmenting",
                           "Bytes by which the session's full-size frames, encapsulated, exceed the "
                           "underlay's path MTU, so that each is fragmented (its MTU is set and too large); "
                           "0 when they fit or the datapath cannot tell",
                           MetricType::Gauge,
                           {}};
  for (const auto* r : sessions) {
    fragmenting.metric.push_back(Sample({{"session", r->name}, {"tunnel", r->tunnel}},
                                        static_cast<double>(r->fragmenting_bytes), MetricType::Gauge));
  }
  out.push_back(std::move(fragmenting));
  MetricFamily truncated{"l2tp_agent_session_metrics_truncated",
                         "1 when --session-metrics-limit left sessions out of the per-session metrics",
                         MetricType::Gauge,
                         {}};
  truncated.metric.push_back(Sample({}, total > sessions.size() ? 1 : 0, MetricType::Gauge));
  out.push_back(std::move(truncated));
  return out;
}

AgentMetrics::AgentMetrics(const std::string& version, const std::string& datapath, const Registry* registry,
                           MetricsOptions options)
    : registry_(std::make_shared<prometheus::Registry>()),
      control_source_(std::make_shared<ControlCountersSlot>()),
      ppp_source_(std::make_shared<PppStatsSlot>()),
      resources_(std::make_shared<ScrapeCollector>(registry, options, control_source_, ppp_source_)),
      reconcile_total_(
          prometheus::BuildCounter()
              .Name("l2tp_agent_reconcile_total")
              .Help("Reconcile passes, by result (failure: a datapath write or observation failed)")
              .Register(*registry_)),
      reconcile_duration_(
          prometheus::BuildHistogram()
              .Name("l2tp_agent_reconcile_duration_seconds")
              .Help("Time a reconcile pass takes")
              .Register(*registry_)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                               0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      drift_repairs_(
          prometheus::BuildCounter()
              .Name("l2tp_agent_drift_repairs_total")
              .Help("Datapath objects restored after they were changed or removed behind the agent's back")
              .Register(*registry_)),
      strays_removed_(
          prometheus::BuildCounter()
              .Name("l2tp_agent_stray_interfaces_removed_total")
              .Help("Devices carrying the agent's ownership mark that no desired session used, removed "
                    "(left behind by a session deleted while the agent was down or by a crash)")
              .Register(*registry_)
              .Add({})),
      datapath_errors_(prometheus::BuildCounter()
                           .Name("l2tp_agent_datapath_errors_total")
                           .Help("Failed datapath operations, by operation")
                           .Register(*registry_)),
      grpc_requests_(prometheus::BuildCounter()
                         .Name("l2tp_agent_grpc_requests_total")
                         .Help("API calls, by method and status code")
                         .Register(*registry_)),
      grpc_duration_(prometheus::BuildHistogram()
                         .Name("l2tp_agent_grpc_request_duration_seconds")
                         .Help("API call latency, by method")
                         .Register(*registry_)),
      authz_denied_(
          prometheus::BuildCounter()
              .Name("l2tp_agent_authz_denied_total")
              .Help("API calls refused by the authorization policy, by method and the role it needs")
              .Register(*registry_)),
      config_reloads_(
          prometheus::BuildCounter()
              .Name("l2tp_agent_config_reloads_total")
              .Help("Changed versions of the --config file, by result (failed: refused, nothing changed)")
              .Register(*registry_)),
      config_last_reload_ok_(
          prometheus::BuildGauge()
              .Name("l2tp_agent_config_last_reload_successful")
              .Help("1 if the last version of the --config file read was applied, 0 if refused")
              .Register(*registry_)
              .Add({})),
      connections_refused_(prometheus::BuildCounter()
                               .Name("l2tp_agent_connections_refused_total")
                               .Help("API connections closed by a connection limit, by listener and limit")
                               .Register(*registry_)),
      hello_rtt_(
          prometheus::BuildHistogram()
              .Name("l2tp_control_hello_rtt_seconds")
              .Help(
                  "Round trip of HELLOs on the control connections: from sending one to its acknowledgement")
              .Register(*registry_)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                               0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                                               10})) {
  prometheus::BuildGauge()
      .Name("l2tp_agent_build_info")
      .Help("The agent's version (value 1)")
      .Register(*registry_)
      .Add({{"version", version}})
      .Set(1);
  std::map<std::string, std::string> datapath_labels{{"datapath", datapath}};
  if (!options.datapath_io.empty()) datapath_labels["io"] = options.datapath_io;
  prometheus::BuildGauge()
      .Name("l2tp_agent_datapath_info")
      .Help("The datapath in use and, for the userspace one, how its threads do I/O (value 1)")
      .Register(*registry_)
      .Add(datapath_labels)
      .Set(1);
  // Series that alerts use exist from the start, at 0.
  reconcile_total_.Add({{"result", "success"}});
  reconcile_total_.Add({{"result", "failure"}});
  drift_repairs_.Add({{"kind", "tunnel"}});
  drift_repairs_.Add({{"kind", "session"}});
  for (const char* reason : {"per_peer", "total"})
    connections_refused_.Add({{"listener", "unix"}, {"reason", reason}});
  for (const char* op : {"create_tunnel", "delete_tunnel", "create_session", "modify_session",
                         "delete_session", "observe", "remove_stray_interface"}) {
    datapath_errors_.Add({{"op", op}});
  }
  for (const char* method : {"Apply", "Delete"}) authz_denied_.Add({{"method", method}, {"role", "admin"}});
  config_reloads_.Add({{"result", "applied"}});
  config_reloads_.Add({{"result", "failed"}});
  config_last_reload_ok_.Set(1);  // no file, or none refused yet
}

void AgentMetrics::ObserveConfigReload(bool ok) {
  config_reloads_.Add({{"result", ok ? "applied" : "failed"}}).Increment();
  config_last_reload_ok_.Set(ok ? 1 : 0);
}

void AgentMetrics::ObservePass(const Reconciler::PassResult& pass) {
  const bool failed = pass.failures > 0 || pass.observe_failed;
  reconcile_total_.Add({{"result", failed ? "failure" : "success"}}).Increment();
  reconcile_duration_.Observe(pass.seconds);
  if (pass.tunnel_repairs) drift_repairs_.Add({{"kind", "tunnel"}}).Increment(pass.tunnel_repairs);
  if (pass.session_repairs) drift_repairs_.Add({{"kind", "session"}}).Increment(pass.session_repairs);
  if (pass.strays_removed) strays_removed_.Increment(pass.strays_removed);
  for (const auto& [op, n] : pass.errors_by_op) datapath_errors_.Add({{"op", op}}).Increment(n);
}

void AgentMetrics::SetControlCountersSource(std::function<ControlCounters()> source) {
  std::lock_guard lock(control_source_->mu);
  control_source_->source = std::move(source);
}

void AgentMetrics::ObserveHelloRoundTrip(double seconds) { hello_rtt_.Observe(seconds); }

void AgentMetrics::SetPppStatsSource(std::function<PppCallStats()> source) {
  std::lock_guard lock(ppp_source_->mu);
  ppp_source_->source = std::move(source);
}

void AgentMetrics::ObserveConnectionRefused(const std::string& listener, const std::string& reason) {
  connections_refused_.Add({{"listener", listener}, {"reason", reason}}).Increment();
}

void AgentMetrics::ObserveAuthzDenied(const std::string& method, const std::string& role) {
  authz_denied_.Add({{"method", method}, {"role", role}}).Increment();
}

void AgentMetrics::ObserveRpc(const std::string& method, const std::string& code, double seconds) {
  grpc_requests_.Add({{"method", method}, {"code", code}}).Increment();
  grpc_duration_
      .Add({{"method", method}},
           prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05, 0.1, 0.25, 0.5, 1, 5})
      .Observe(seconds);
}

}  // namespace l2tp
