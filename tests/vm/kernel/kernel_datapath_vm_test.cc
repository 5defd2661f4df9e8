// KernelDatapath against a real kernel (Debian's, in the test VM; see
// run_vm_tests.sh). iproute2, not our code, is the witness of what the
// kernel holds. Two network namespaces, a and b, joined by a veth pair
// (10.0.0.1|2, fd00::1|2), carry the traffic cases.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
// The kernel's uapi headers, after glibc's (linux/libc-compat.h).
#include <linux/if_pppox.h>
#include <linux/l2tp.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datapath/contract.h"
#include "datapath/kernel/kernel_datapath.h"
#include "datapath/kernel/l2tp_messages.h"
#include "datapath/kernel/l2tp_replies.h"
#include "datapath/kernel/ppp_probe.h"
#include "datapath/kernel/pppol2tp_socket.h"
#include "datapath/underlay_socket.h"
#include "tests/unit/datapath/datapath_contract.h"
#include "tests/vm/kernel/vm_shell.h"

namespace l2tp {
namespace {

using vmtest::FindByNumber;
using vmtest::InNetns;
using vmtest::IpJson;

std::unique_ptr<kernel::KernelDatapath> g_a, g_b;  // datapaths in namespaces a and b

// What a datapath hands the control plane (ControlFrameSink): here, the
// frames the SCCRQ listener reads for managed L2TP/IP sockets.
class RecordingSink : public ControlFrameSink {
 public:
  void ControlFrame(uint32_t tunnel_id, std::span<const uint8_t> frame) override {
    std::lock_guard lock(mu_);
    frames_.push_back({tunnel_id, std::vector<uint8_t>(frame.begin(), frame.end())});
    cv_.notify_all();
  }
  // Whether `frame` arrived for `tunnel_id` within `ms`.
  bool WaitFor(uint32_t tunnel_id, const std::vector<uint8_t>& frame, int ms) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] {
      for (const auto& [id, f] : frames_) {
        if (id == tunnel_id && f == frame) return true;
      }
      return false;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> frames_;
};
RecordingSink g_sink_a, g_sink_b;

class Namespaces : public ::testing::Environment {
 public:
  void SetUp() override {
    for (const char* cmd :
         {"ip netns add a", "ip netns add b", "ip link add va netns a type veth peer name vb netns b",
          "ip -n a link set lo up", "ip -n b link set lo up", "ip -n a addr add 10.0.0.1/24 dev va",
          "ip -n b addr add 10.0.0.2/24 dev vb", "ip -n a addr add fd00::1/64 dev va nodad",
          "ip -n b addr add fd00::2/64 dev vb nodad", "ip -n a link set va up", "ip -n b link set vb up"}) {
      auto r = vmtest::Run(cmd);
      ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.output;
    }
    InNetns("a", [] {
      auto dp = kernel::KernelDatapath::Create();
      ASSERT_TRUE(dp.ok()) << dp.status();
      g_a = *std::move(dp);
    });
    InNetns("b", [] {
      auto dp = kernel::KernelDatapath::Create();
      ASSERT_TRUE(dp.ok()) << dp.status();
      g_b = *std::move(dp);
    });
    ASSERT_TRUE(g_a && g_b);
    g_a->SetControlFrameSink(&g_sink_a);
    g_b->SetControlFrameSink(&g_sink_b);
  }
  void TearDown() override {
    g_a.reset();
    g_b.reset();
  }
};

struct Variant {
  Encap encap;
  bool v6;
  std::string name() const { return absl::StrCat(encap == Encap::kUdp ? "Udp" : "Ip", v6 ? "Ipv6" : "Ipv4"); }
};
const Variant kVariants[] = {{Encap::kUdp, false},
                             {Encap::kUdp, true},
                             {Encap::kIp, false},
                             {Encap::kIp, true}};

// side 'a' is local .1, side 'b' local .2.
TunnelConfig Tunnel(uint32_t id, uint32_t peer, const Variant& v, char side) {
  TunnelConfig t;
  t.tunnel_id = id;
  t.peer_tunnel_id = peer;
  t.encap = v.encap;
  const std::string me = side == 'a' ? "1" : "2", other = side == 'a' ? "2" : "1";
  t.local = *IpAddress::Parse(v.v6 ? "fd00::" + me : "10.0.0." + me);
  t.remote = *IpAddress::Parse(v.v6 ? "fd00::" + other : "10.0.0." + other);
  if (v.encap == Encap::kUdp) {
    t.udp_source_port = static_cast<uint16_t>(10000 + id);  // mirrored on the other side
    t.udp_destination_port = static_cast<uint16_t>(10000 + peer);
  }
  return t;
}

SessionConfig Session(uint32_t tunnel, uint32_t id, uint32_t peer, const std::string& ifname) {
  SessionConfig s;
  s.tunnel_id = tunnel;
  s.session_id = id;
  s.peer_session_id = peer;
  s.interface_name = ifname;
  s.mtu = 1400;
  return s;
}

const ObservedTunnel* FindTunnel(const Observation& o, uint32_t id) {
  for (const auto& t : o.tunnels) {
    if (t.config.tunnel_id == id) return &t;
  }
  return nullptr;
}
const ObservedSession* FindSession(const Observation& o, uint32_t tunnel, uint32_t id) {
  for (const auto& s : o.sessions) {
    if (s.config.tunnel_id == tunnel && s.config.session_id == id) return &s;
  }
  return nullptr;
}

Observation MustObserve(kernel::KernelDatapath* dp) {
  auto o = dp->Observe();
  EXPECT_TRUE(o.ok()) << o.status();
  return o.ok() ? *o : Observation{};
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "<absent>" : it->second.string_value();
}
double Num(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? -1 : it->second.number_value();
}
bool Has(const google::protobuf::Struct& s, const std::string& key) { return s.fields().count(key) > 0; }

// iproute2's text block for one session ("Session ID in tunnel T" and the
// indented lines after it). Sequencing is checked here: its JSON form is a
// null-valued key, which does not survive JSON parsing.
std::string SessionText(const std::string& ns, uint32_t tunnel, uint32_t session) {
  auto r = vmtest::Run(absl::StrCat("ip -n ", ns, " l2tp show session"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string header = absl::StrCat("Session ", session, " in tunnel ", tunnel, "\n");
  size_t at = r.output.find(header);
  if (at == std::string::npos) return "";
  size_t end = r.output.find("\nSession ", at + header.size());
  return r.output.substr(at, end == std::string::npos ? std::string::npos : end + 1 - at);
}

// `ip -j link show dev IF`: MTU, UP flag, ifindex.
struct LinkState {
  bool exists = false;
  double mtu = 0, ifindex = 0;
  bool up = false;
};
LinkState Link(const std::string& ns, const std::string& ifname) {
  LinkState l;
  auto r = vmtest::Run(absl::StrCat("ip -n ", ns, " link show dev ", ifname));
  if (r.exit_code != 0) return l;
  auto list = IpJson(absl::StrCat("-n ", ns, " link show dev ", ifname));
  if (list.values_size() != 1) return l;
  const auto& s = list.values(0).struct_value();
  l.exists = true;
  l.mtu = Num(s, "mtu");
  l.ifindex = Num(s, "ifindex");
  for (const auto& f : s.fields().at("flags").list_value().values()) l.up |= f.string_value() == "UP";
  return l;
}

class CreateVariant : public ::testing::TestWithParam<int> {};

TEST_P(CreateVariant, Iproute2ShowsExactlyWhatWasAskedAndObserveRoundTrips) {
  const Variant& v = kVariants[GetParam()];
  const uint32_t tid = 100 + GetParam(), sid = 1000 + GetParam();
  TunnelConfig t = Tunnel(tid, 500 + GetParam(), v, 'a');
  if (v.encap == Encap::kUdp && !v.v6) t.udp_checksum = true;
  if (v.encap == Encap::kUdp && v.v6) t.udp6_zero_checksum_rx = true;
  SessionConfig s = Session(tid, sid, 5000 + GetParam(), absl::StrCat("kc", tid));
  s.cookie = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  s.peer_cookie = {0xca, 0xfe, 0xf0, 0x0d};
  ASSERT_TRUE(g_a->CreateTunnel(t).ok());
  ASSERT_TRUE(g_a->CreateSession(s).ok());

  auto tunnels = IpJson("-n a l2tp show tunnel");
  const auto* jt = FindByNumber(tunnels, "tunnel_id", tid);
  ASSERT_NE(jt, nullptr) << "iproute2 does not show tunnel " << tid;
  EXPECT_EQ(Str(*jt, "encap"), v.encap == Encap::kUdp ? "UDP" : "IP");
  EXPECT_EQ(Str(*jt, "local"), t.local.ToString());
  EXPECT_EQ(Str(*jt, "peer"), t.remote.ToString());
  EXPECT_EQ(Num(*jt, "peer_tunnel"), t.peer_tunnel_id);
  if (v.encap == Encap::kUdp) {
    EXPECT_EQ(Num(*jt, "local_port"), t.udp_source_port);
    EXPECT_EQ(Num(*jt, "peer_port"), t.udp_destination_port);
    if (!v.v6) {
      EXPECT_TRUE(jt->fields().at("checksum").bool_value());
    } else {
      EXPECT_TRUE(jt->fields().at("checksum_tx").bool_value());   // zero-checksum tx not asked
      EXPECT_FALSE(jt->fields().at("checksum_rx").bool_value());  // zero-checksum rx asked
    }
  } else {
    EXPECT_FALSE(Has(*jt, "local_port"));
  }

  auto sessions = IpJson("-n a l2tp show session");
  const auto* js = FindByNumber(sessions, "session_id", sid);
  ASSERT_NE(js, nullptr) << "iproute2 does not show session " << sid;
  EXPECT_EQ(Num(*js, "tunnel_id"), tid);
  EXPECT_EQ(Num(*js, "peer_session_id"), s.peer_session_id);
  EXPECT_EQ(Str(*js, "interface"), s.interface_name);
  EXPECT_EQ(Str(*js, "cookie"), "0102030405060708");  // what this end sends
  EXPECT_EQ(Str(*js, "peer_cookie"), "cafef00d");     // what it requires
  EXPECT_EQ(SessionText("a", tid, sid).find("sequence numbering"), std::string::npos);
  LinkState link = Link("a", s.interface_name);
  EXPECT_TRUE(link.exists);
  EXPECT_TRUE(link.up);
  EXPECT_EQ(link.mtu, 1400);

  Observation o = MustObserve(g_a.get());
  const ObservedTunnel* ot = FindTunnel(o, tid);
  ASSERT_NE(ot, nullptr);
  EXPECT_EQ(ot->config, t);
  const ObservedSession* os = FindSession(o, tid, sid);
  ASSERT_NE(os, nullptr);
  EXPECT_FALSE(os->l2spec_known);
  EXPECT_TRUE(os->mtu_known);
  SessionConfig seen = os->config;
  seen.l2spec = s.l2spec;
  EXPECT_EQ(seen, s);

  ASSERT_TRUE(g_a->DeleteTunnel(tid).ok());
  EXPECT_EQ(FindByNumber(IpJson("-n a l2tp show tunnel"), "tunnel_id", tid), nullptr);
  EXPECT_EQ(FindByNumber(IpJson("-n a l2tp show session"), "session_id", sid), nullptr);
  EXPECT_FALSE(Link("a", s.interface_name).exists);
  Observation after = MustObserve(g_a.get());
  EXPECT_EQ(FindTunnel(after, tid), nullptr);
  EXPECT_EQ(FindSession(after, tid, sid), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Kernel, CreateVariant, ::testing::Range(0, 4),
                         [](const auto& info) { return kVariants[info.param].name(); });

TEST(Kernel, ModifyChangesSequencingTimeoutAndMtuInPlace) {
  const Variant v{Encap::kUdp, false};
  ASSERT_TRUE(g_a->CreateTunnel(Tunnel(150, 550, v, 'a')).ok());
  SessionConfig s = Session(150, 1500, 5500, "km150");
  ASSERT_TRUE(g_a->CreateSession(s).ok());
  const LinkState before = Link("a", "km150");

  SessionConfig m = s;
  m.send_sequence = m.require_sequence = m.lns_mode = true;
  m.reorder_timeout_ms = 200;
  m.mtu = 1300;
  ASSERT_TRUE(g_a->ModifySession(m).ok());
  EXPECT_NE(SessionText("a", 150, 1500).find("sequence numbering: send recv"), std::string::npos)
      << SessionText("a", 150, 1500);
  const LinkState after = Link("a", "km150");
  EXPECT_EQ(after.mtu, 1300);
  EXPECT_TRUE(after.up);
  EXPECT_EQ(after.ifindex, before.ifindex) << "modify must not recreate the interface";
  Observation o = MustObserve(g_a.get());
  const ObservedSession* os = FindSession(o, 150, 1500);
  ASSERT_NE(os, nullptr);
  SessionConfig seen = os->config;
  seen.l2spec = m.l2spec;
  EXPECT_EQ(seen, m);

  ASSERT_TRUE(g_a->ModifySession(s).ok());  // and back: the zero timeout must be sent
  const std::string text = SessionText("a", 150, 1500);
  EXPECT_NE(text.find("Session 1500"), std::string::npos);
  EXPECT_EQ(text.find("sequence numbering"), std::string::npos) << text;
  o = MustObserve(g_a.get());
  os = FindSession(o, 150, 1500);
  ASSERT_NE(os, nullptr);
  EXPECT_EQ(os->config.reorder_timeout_ms, 0u);
  EXPECT_FALSE(os->config.lns_mode);
  EXPECT_EQ(os->config.mtu, 1400u);
  ASSERT_TRUE(g_a->DeleteTunnel(150).ok());
}

TEST(Kernel, ObserveSeesExternalDeletes) {
  const Variant v{Encap::kIp, false};
  ASSERT_TRUE(g_a->CreateTunnel(Tunnel(160, 560, v, 'a')).ok());
  ASSERT_TRUE(g_a->CreateSession(Session(160, 1600, 5600, "kx160")).ok());
  ASSERT_NE(FindSession(MustObserve(g_a.get()), 160, 1600), nullptr);

  auto r = vmtest::Run("ip -n a l2tp del session tunnel_id 160 session_id 1600");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Observation o = MustObserve(g_a.get());
  EXPECT_EQ(FindSession(o, 160, 1600), nullptr);
  EXPECT_NE(FindTunnel(o, 160), nullptr);

  r = vmtest::Run("ip -n a l2tp del tunnel tunnel_id 160");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The kernel removes tunnels on a workqueue: allow it a moment.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = FindTunnel(MustObserve(g_a.get()), 160) == nullptr;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone);
}

TEST(Kernel, KernelErrorsBecomeClearStatuses) {
  const Variant v{Encap::kUdp, false};
  TunnelConfig t = Tunnel(170, 570, v, 'a');
  ASSERT_TRUE(g_a->CreateTunnel(t).ok());
  absl::Status dup = g_a->CreateTunnel(t);
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "create tunnel 170: tunnel id already in use (EEXIST)");

  absl::Status missing = g_a->DeleteTunnel(9999);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  EXPECT_NE(missing.message().find("no such tunnel"), absl::string_view::npos) << missing;

  absl::Status orphan = g_a->CreateSession(Session(9999, 1, 2, "korphan"));
  EXPECT_EQ(orphan.code(), absl::StatusCode::kNotFound) << orphan;
  EXPECT_NE(orphan.message().find("tunnel does not exist"), absl::string_view::npos) << orphan;

  EXPECT_EQ(g_a->DeleteSession(170, 4242).code(), absl::StatusCode::kNotFound);
  SessionConfig mod = Session(170, 4242, 1, "knone");
  EXPECT_EQ(g_a->ModifySession(mod).code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(g_a->CreateSession(Session(170, 1700, 5700, "ke170")).ok());
  absl::Status dup_session = g_a->CreateSession(Session(170, 1700, 5701, "ke171"));
  EXPECT_EQ(dup_session.code(), absl::StatusCode::kAlreadyExists) << dup_session;
  absl::Status dup_name = g_a->CreateSession(Session(170, 1701, 5701, "ke170"));
  EXPECT_EQ(dup_name.code(), absl::StatusCode::kAlreadyExists) << dup_name;
  EXPECT_EQ(FindSession(MustObserve(g_a.get()), 170, 1701), nullptr) << "failed create left a session";

  TunnelConfig unroutable = Tunnel(171, 571, v, 'a');
  unroutable.remote = *IpAddress::Parse("198.51.100.1");
  absl::Status unreach = g_a->CreateTunnel(unroutable);
  EXPECT_FALSE(unreach.ok());
  EXPECT_NE(unreach.message().find("create tunnel 171: "), absl::string_view::npos) << unreach;

  ASSERT_TRUE(g_a->DeleteTunnel(170).ok());
}

TEST(Kernel, DeleteThenRecreateSameIdsAtOnce) {
  // Tunnel delete completes on a kernel workqueue; the datapath waits for it,
  // so the agent's replace (delete + create) never sees EEXIST.
  const Variant v{Encap::kUdp, true};
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(g_a->CreateTunnel(Tunnel(180, 580, v, 'a')).ok()) << "round " << round;
    ASSERT_TRUE(g_a->CreateSession(Session(180, 1800, 5800, "kr180")).ok()) << "round " << round;
    ASSERT_TRUE(g_a->DeleteTunnel(180).ok()) << "round " << round;
  }
}

class TrafficVariant : public ::testing::TestWithParam<int> {};

TEST_P(TrafficVariant, PingPassesWithCookiesAndCountersGrow) {
  const int i = GetParam();
  const Variant& v = kVariants[i];
  const uint32_t ta = 200 + i, tb = 300 + i, sa = 2000 + i, sb = 3000 + i;
  ASSERT_TRUE(g_a->CreateTunnel(Tunnel(ta, tb, v, 'a')).ok());
  ASSERT_TRUE(g_b->CreateTunnel(Tunnel(tb, ta, v, 'b')).ok());
  SessionConfig a = Session(ta, sa, sb, absl::StrCat("ka", i)),
                b = Session(tb, sb, sa, absl::StrCat("kb", i));
  a.cookie = b.peer_cookie = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, static_cast<uint8_t>(i)};
  b.cookie = a.peer_cookie = {0xde, 0xad, 0xbe, static_cast<uint8_t>(i)};
  ASSERT_TRUE(g_a->CreateSession(a).ok());
  ASSERT_TRUE(g_b->CreateSession(b).ok());
  const std::string net = absl::StrCat("10.", 100 + i, ".0.");
  ASSERT_EQ(vmtest::Run(absl::StrCat("ip -n a addr add ", net, "1/24 dev ", a.interface_name)).exit_code, 0);
  ASSERT_EQ(vmtest::Run(absl::StrCat("ip -n b addr add ", net, "2/24 dev ", b.interface_name)).exit_code, 0);

  const Counters before = FindSession(MustObserve(g_a.get()), ta, sa)->counters;
  auto ping = vmtest::Run(absl::StrCat("ip netns exec a ping -c 3 -W 3 ", net, "2"));
  EXPECT_EQ(ping.exit_code, 0) << v.name() << ": " << ping.output;

  Observation oa = MustObserve(g_a.get());
  const ObservedSession* os = FindSession(oa, ta, sa);
  ASSERT_NE(os, nullptr);
  EXPECT_GE(os->counters.tx_packets, before.tx_packets + 3);
  EXPECT_GE(os->counters.rx_packets, before.rx_packets + 3);
  EXPECT_GT(os->counters.rx_bytes, before.rx_bytes);
  EXPECT_EQ(os->counters.rx_cookie_discards, 0u);
  const ObservedTunnel* ot = FindTunnel(oa, ta);
  ASSERT_NE(ot, nullptr);
  EXPECT_GE(ot->counters.tx_packets, 3u);

  ASSERT_TRUE(g_a->DeleteTunnel(ta).ok());
  ASSERT_TRUE(g_b->DeleteTunnel(tb).ok());
}

INSTANTIATE_TEST_SUITE_P(Kernel, TrafficVariant, ::testing::Range(0, 4),
                         [](const auto& info) { return kVariants[info.param].name(); });

TEST(Kernel, WrongPeerCookieDropsTrafficAndIsCounted) {
  const Variant v{Encap::kUdp, false};
  ASSERT_TRUE(g_a->CreateTunnel(Tunnel(260, 360, v, 'a')).ok());
  ASSERT_TRUE(g_b->CreateTunnel(Tunnel(360, 260, v, 'b')).ok());
  SessionConfig a = Session(260, 2600, 3600, "kma"), b = Session(360, 3600, 2600, "kmb");
  a.cookie = {1, 2, 3, 4};
  b.peer_cookie = {4, 3, 2, 1};  // not what a sends
  ASSERT_TRUE(g_a->CreateSession(a).ok());
  ASSERT_TRUE(g_b->CreateSession(b).ok());
  ASSERT_EQ(vmtest::Run("ip -n a addr add 10.99.0.1/24 dev kma").exit_code, 0);
  ASSERT_EQ(vmtest::Run("ip -n b addr add 10.99.0.2/24 dev kmb").exit_code, 0);
  EXPECT_NE(vmtest::Run("ip netns exec a ping -c 2 -W 1 10.99.0.2").exit_code, 0);
  const Observation ob = MustObserve(g_b.get());  // kept: `os` points into it
  const ObservedSession* os = FindSession(ob, 360, 3600);
  ASSERT_NE(os, nullptr);
  EXPECT_GT(os->counters.rx_cookie_discards, 0u);
  EXPECT_EQ(os->counters.rx_packets, 0u);
  ASSERT_TRUE(g_a->DeleteTunnel(260).ok());
  ASSERT_TRUE(g_b->DeleteTunnel(360).ok());
}

TEST(Kernel, WritesAreCounted) {
  const uint64_t before = g_a->writes();
  MustObserve(g_a.get());
  EXPECT_EQ(g_a->writes(), before) << "Observe must not write";
  ASSERT_TRUE(g_a->CreateTunnel(Tunnel(190, 590, {Encap::kUdp, false}, 'a')).ok());
  ASSERT_TRUE(g_a->CreateSession(Session(190, 1900, 5900, "kw190")).ok());
  ASSERT_TRUE(g_a->DeleteTunnel(190).ok());
  EXPECT_EQ(g_a->writes(), before + 4);  // tunnel, session, link set-up, delete
}

TEST(Kernel, WatcherWakesOnOthersChangesNotOnOwn) {
  std::atomic<int> calls{0};
  auto watcher = g_a->WatchL2tpEvents([&] { ++calls; });
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  ASSERT_TRUE(g_a->CreateTunnel(Tunnel(195, 595, {Encap::kIp, false}, 'a')).ok());
  ASSERT_TRUE(g_a->DeleteTunnel(195).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(calls.load(), 0) << "the datapath's own requests must not wake the agent";

  auto r = vmtest::Run(
      "ip -n a l2tp add tunnel tunnel_id 196 peer_tunnel_id 596 encap ip local 10.0.0.1 remote 10.0.0.2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int i = 0; i < 150 && calls.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GT(calls.load(), 0) << "no wake-up for iproute2's tunnel create";
  EXPECT_GE((*watcher)->notifications(), 1u);
  r = vmtest::Run("ip -n a l2tp del tunnel tunnel_id 196");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(Kernel, WithoutCapNetAdminCreateFailsWithPermissionDenied) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Leaving uid 0 drops every capability.
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    auto dp = kernel::KernelDatapath::Create();
    if (dp.ok()) _exit(3);
    const bool named = dp.status().message().find("CAP_NET_ADMIN") != absl::string_view::npos;
    _exit(dp.status().code() == absl::StatusCode::kPermissionDenied && named ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: cannot drop privileges, 3: Create succeeded, 4: wrong status";
}

// ---- Managed tunnels (DYNAMIC): the control plane's socket handed to the
// kernel with L2TP_ATTR_FD.

// An L2TPv3 control header without AVPs (a ZLB): T, L, S set, version 3,
// length 12, control connection id `to`, Ns, Nr 0. As sent on a UDP socket
// or on the kernel's L2TP/IP socket (which adds the zero session id itself).
std::vector<uint8_t> ControlHeader(uint32_t to, uint16_t ns) {
  return {0xc8,
          0x03,
          0x00,
          0x0c,
          static_cast<uint8_t>(to >> 24),
          static_cast<uint8_t>(to >> 16),
          static_cast<uint8_t>(to >> 8),
          static_cast<uint8_t>(to),
          static_cast<uint8_t>(ns >> 8),
          static_cast<uint8_t>(ns),
          0x00,
          0x00};
}

// One datagram from `fd` within `ms`, or nothing.
std::optional<std::vector<uint8_t>> RecvWithin(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, ms) != 1) return std::nullopt;
  std::vector<uint8_t> buf(65536);
  const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  return buf;
}

std::string Hex(const std::vector<uint8_t>& b) {
  std::string out;
  for (uint8_t x : b) absl::StrAppend(&out, absl::Hex(x, absl::kZeroPad2));
  return out;
}

ManagedSocket OpenIn(const std::string& ns, kernel::KernelDatapath* dp, const TunnelConfig& c) {
  ManagedSocket s;
  InNetns(ns, [&] {
    auto opened = dp->OpenManagedSocket(c);
    ASSERT_TRUE(opened.ok()) << opened.status();
    s = *opened;
  });
  return s;
}

class ManagedVariant : public ::testing::TestWithParam<int> {};

TEST_P(ManagedVariant, ControlFramesStayWithTheSocketObserveMatchesAndPingPasses) {
  const int i = GetParam();
  const Variant& v = kVariants[i];
  const uint32_t ta = 600 + i, tb = 700 + i, sa = 6000 + i, sb = 7000 + i;
  // As the control plane opens them: the peer's id is not known yet.
  TunnelConfig ca = Tunnel(ta, 0, v, 'a'), cb = Tunnel(tb, 0, v, 'b');
  if (v.encap == Encap::kUdp) {
    ca.udp_source_port = cb.udp_destination_port = static_cast<uint16_t>(11000 + i);
    ca.udp_destination_port = cb.udp_source_port = static_cast<uint16_t>(11100 + i);
    if (v.v6) ca.udp6_zero_checksum_rx = cb.udp6_zero_checksum_tx = true;
  }
  ManagedSocket ma = OpenIn("a", g_a.get(), ca), mb = OpenIn("b", g_b.get(), cb);
  ASSERT_GE(ma.fd, 0);
  ASSERT_GE(mb.fd, 0);
  EXPECT_EQ(ma.kernel_l2tp_ip, v.encap == Encap::kIp);
  EXPECT_FALSE(ma.receives_ipv4_header);

  // 1. Before the kernel has the tunnel. Over IP, a raw socket in b shows
  // the datagram as it was on the wire: the kernel added the zero session id.
  int raw = -1;
  if (v.encap == Encap::kIp) {
    InNetns("b", [&] { raw = socket(v.v6 ? AF_INET6 : AF_INET, SOCK_RAW, kIpProtoL2tp); });
    ASSERT_GE(raw, 0);
  }
  const std::vector<uint8_t> to_b = ControlHeader(tb, 0);
  ASSERT_EQ(send(ma.fd, to_b.data(), to_b.size(), 0), static_cast<ssize_t>(to_b.size()));
  auto got = RecvWithin(mb.fd, 2000);
  ASSERT_TRUE(got.has_value()) << v.name() << ": b's socket got nothing";
  EXPECT_EQ(Hex(*got), Hex(to_b)) << "the kernel strips the session id of control frames it delivers";
  if (raw >= 0) {
    auto wire = RecvWithin(raw, 2000);
    ASSERT_TRUE(wire.has_value());
    const size_t ip_header = v.v6 ? 0 : (((*wire)[0] & 0x0f) * 4u);  // IPv6 raw sockets get the payload only
    std::vector<uint8_t> want = {0, 0, 0, 0};
    want.insert(want.end(), to_b.begin(), to_b.end());
    EXPECT_EQ(Hex(std::vector<uint8_t>(wire->begin() + ip_header, wire->end())), Hex(want));
    close(raw);
  }

  // 2. An SCCRQ is addressed to connection id 0. UDP delivers by address and
  // port: b's socket gets it. L2TP/IP delivers by connection id: b's socket
  // (bound to tb) does not, the SCCRQ listener hands it to the sink as tb's,
  // with the session id put back.
  const std::vector<uint8_t> sccrq = ControlHeader(0, 1);
  ASSERT_EQ(send(ma.fd, sccrq.data(), sccrq.size(), 0), static_cast<ssize_t>(sccrq.size()));
  if (v.encap == Encap::kUdp) {
    got = RecvWithin(mb.fd, 2000);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(Hex(*got), Hex(sccrq));
  } else {
    std::vector<uint8_t> on_wire = {0, 0, 0, 0};
    on_wire.insert(on_wire.end(), sccrq.begin(), sccrq.end());
    EXPECT_TRUE(g_sink_b.WaitFor(tb, on_wire, 3000)) << "the SCCRQ listener did not pass it on";
    EXPECT_FALSE(RecvWithin(mb.fd, 200).has_value()) << "b's socket got a frame to connection id 0";
    EXPECT_EQ(g_b->sccrq_listener().listening(), 1u);
  }
  const std::vector<uint8_t> to_a = ControlHeader(ta, 0);
  ASSERT_EQ(send(mb.fd, to_a.data(), to_a.size(), 0), static_cast<ssize_t>(to_a.size()));
  got = RecvWithin(ma.fd, 2000);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(Hex(*got), Hex(to_a));

  // 3. The kernel takes the sockets (the peer's ids are known now).
  ca.peer_tunnel_id = tb;
  cb.peer_tunnel_id = ta;
  ca.socket_fd = ma.fd;
  cb.socket_fd = mb.fd;
  absl::Status created = g_a->CreateTunnel(ca);
  ASSERT_TRUE(created.ok()) << created;
  created = g_b->CreateTunnel(cb);
  ASSERT_TRUE(created.ok()) << created;

  // 4. Observed exactly as created, and iproute2 agrees.
  Observation o = MustObserve(g_a.get());
  const ObservedTunnel* ot = FindTunnel(o, ta);
  ASSERT_NE(ot, nullptr);
  EXPECT_EQ(ot->config, ca) << "a managed tunnel observed differently would be replaced in a loop";
  Observation ob = MustObserve(g_b.get());
  ot = FindTunnel(ob, tb);
  ASSERT_NE(ot, nullptr);
  EXPECT_EQ(ot->config, cb);
  auto tunnels = IpJson("-n a l2tp show tunnel");
  const auto* jt = FindByNumber(tunnels, "tunnel_id", ta);
  ASSERT_NE(jt, nullptr);
  EXPECT_EQ(Str(*jt, "local"), ca.local.ToString());
  EXPECT_EQ(Str(*jt, "peer"), ca.remote.ToString());
  EXPECT_EQ(Num(*jt, "peer_tunnel"), tb);
  if (v.encap == Encap::kUdp) {
    EXPECT_EQ(Num(*jt, "local_port"), ca.udp_source_port);
    EXPECT_EQ(Num(*jt, "peer_port"), ca.udp_destination_port);
  }
  std::cout << "managed " << v.name() << ": "
            << vmtest::Run("ip -n a l2tp show tunnel tunnel_id " + std::to_string(ta)).output;

  // 5. Control frames still go to the socket, both ways.
  const std::vector<uint8_t> to_b2 = ControlHeader(tb, 2), to_a2 = ControlHeader(ta, 2);
  ASSERT_EQ(send(ma.fd, to_b2.data(), to_b2.size(), 0), static_cast<ssize_t>(to_b2.size()));
  got = RecvWithin(mb.fd, 2000);
  ASSERT_TRUE(got.has_value()) << "no control frame on b's socket once the kernel has the tunnel";
  EXPECT_EQ(Hex(*got), Hex(to_b2));
  ASSERT_EQ(send(mb.fd, to_a2.data(), to_a2.size(), 0), static_cast<ssize_t>(to_a2.size()));
  got = RecvWithin(ma.fd, 2000);
  ASSERT_TRUE(got.has_value()) << "no control frame on a's socket once the kernel has the tunnel";
  EXPECT_EQ(Hex(*got), Hex(to_a2));

  // 6. Data through the kernel.
  SessionConfig a = Session(ta, sa, sb, absl::StrCat("kda", i)),
                b = Session(tb, sb, sa, absl::StrCat("kdb", i));
  a.cookie = b.peer_cookie = {0xa1, 0xa2, 0xa3, static_cast<uint8_t>(i)};
  ASSERT_TRUE(g_a->CreateSession(a).ok());
  ASSERT_TRUE(g_b->CreateSession(b).ok());
  const std::string net = absl::StrCat("10.", 120 + i, ".0.");
  ASSERT_EQ(vmtest::Run(absl::StrCat("ip -n a addr add ", net, "1/24 dev ", a.interface_name)).exit_code, 0);
  ASSERT_EQ(vmtest::Run(absl::StrCat("ip -n b addr add ", net, "2/24 dev ", b.interface_name)).exit_code, 0);
  auto ping = vmtest::Run(absl::StrCat("ip netns exec a ping -c 3 -W 3 ", net, "2"));
  EXPECT_EQ(ping.exit_code, 0) << v.name() << ": " << ping.output;
  Observation after_ping = MustObserve(g_a.get());
  const ObservedSession* os = FindSession(after_ping, ta, sa);
  ASSERT_NE(os, nullptr);
  EXPECT_GE(os->counters.rx_packets, 3u);
  // The data frames did not reach the socket: only control frames do.
  EXPECT_FALSE(RecvWithin(ma.fd, 100).has_value());

  // 7. The tunnel (and its sessions) die with the socket.
  close(ma.fd);
  close(mb.fd);
  bool gone = false;
  for (int k = 0; k < 150 && !gone; ++k) {
    gone = FindTunnel(MustObserve(g_a.get()), ta) == nullptr &&
           FindTunnel(MustObserve(g_b.get()), tb) == nullptr;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "closing a managed tunnel's socket must remove the tunnel";
  EXPECT_FALSE(Link("a", a.interface_name).exists);
  if (v.encap == Encap::kIp) {
    // The listener lets connection id 0 go once no managed socket needs it.
    for (int k = 0; k < 60 && g_b->sccrq_listener().listening() != 0; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(g_b->sccrq_listener().listening(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, ManagedVariant, ::testing::Range(0, 4),
                         [](const auto& info) { return kVariants[info.param].name(); });

TEST(Kernel, ManagedSocketCannotCarryASecondTunnel) {
  // The kernel keeps a deleted managed tunnel attached to its socket until
  // the socket is closed: the control plane must open a new socket to put the
  // tunnel back (what the agent does when its connection restarts).
  const Variant v{Encap::kUdp, false};
  TunnelConfig c = Tunnel(650, 0, v, 'a');
  c.udp_source_port = 11200;
  c.udp_destination_port = 11201;
  ManagedSocket m = OpenIn("a", g_a.get(), c);
  ASSERT_GE(m.fd, 0);
  c.peer_tunnel_id = 750;
  c.socket_fd = m.fd;
  ASSERT_TRUE(g_a->CreateTunnel(c).ok());
  absl::Status again = g_a->CreateTunnel(c);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  ASSERT_TRUE(g_a->DeleteTunnel(650).ok());
  again = g_a->CreateTunnel(c);
  std::cout << "re-create on the same socket after delete: " << again << "\n";
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
  EXPECT_NE(again.message().find("(EBUSY)"), absl::string_view::npos) << again;
  // Control frames still reach the socket (its owner keeps talking to the peer).
  close(m.fd);
}

TEST(Kernel, ManagedCreateRefusesASocketBoundElsewhere) {
  const Variant v{Encap::kIp, false};
  TunnelConfig c = Tunnel(660, 0, v, 'a');
  ManagedSocket m = OpenIn("a", g_a.get(), c);
  ASSERT_GE(m.fd, 0);
  TunnelConfig other = c;
  other.tunnel_id = 661;  // the socket is bound to connection id 660
  other.peer_tunnel_id = 760;
  other.socket_fd = m.fd;
  absl::Status st = g_a->CreateTunnel(other);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("connection id 660, the tunnel says 10.0.0.1 connection id 661"),
            absl::string_view::npos)
      << st;
  EXPECT_EQ(FindTunnel(MustObserve(g_a.get()), 661), nullptr);
  close(m.fd);
}

// ---- PPP pseudowires: PPPoL2TP sockets on managed tunnels (L2TPv2 and
// L2TPv3), in namespaces a and b. No pppd: the PPPoL2TP sockets themselves
// carry test frames (a socket not bound to a PPP unit sends what is written
// to it as a PPP frame and queues what arrives for recv()).

TEST(Kernel, PppProbePassesAndTheCapabilityIsOffered) {
  absl::Status probe = kernel::ProbePppoL2tp();
  EXPECT_TRUE(probe.ok()) << probe;
  EXPECT_EQ(access("/dev/ppp", F_OK), 0) << "devtmpfs makes /dev/ppp once ppp_generic is loaded";
  EXPECT_TRUE(g_a->PppSupport().ok()) << g_a->PppSupport();
  auto caps = g_a->Capabilities();
  EXPECT_NE(std::find(caps.begin(), caps.end(), "pseudowire/ppp"), caps.end());
}

std::unique_ptr<kernel::GenlL2tpSocket> GenlIn(const std::string& ns) {
  std::unique_ptr<kernel::GenlL2tpSocket> genl;
  InNetns(ns, [&] {
    auto opened = kernel::GenlL2tpSocket::Open();
    ASSERT_TRUE(opened.ok()) << opened.status();
    genl = *std::move(opened);
  });
  return genl;
}

// The PPP sessions the kernel reports over netlink (SESSION_GET dump).
std::vector<ObservedSession> PppSessions(kernel::GenlL2tpSocket& genl) {
  std::vector<ObservedSession> out;
  auto dump = kernel::BuildDump(genl.family(), L2TP_CMD_SESSION_GET);
  EXPECT_TRUE(dump.ok());
  if (!dump.ok()) return out;
  absl::Status st = genl.Query(*std::move(dump), kernel::KernelOp::kDump, "list sessions", [&](nlmsghdr* h) {
    auto s = kernel::ParsePppSessionReply(h);
    if (!s.ok()) return s.status();
    if (s->has_value()) out.push_back(**std::move(s));
    return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  return out;
}
const ObservedSession* FindPpp(const std::vector<ObservedSession>& v, uint32_t tunnel, uint32_t session) {
  for (const auto& s : v) {
    if (s.config.tunnel_id == tunnel && s.config.session_id == session) return &s;
  }
  return nullptr;
}
// Waits (up to 3 s) until the PPP session is gone from netlink.
bool PppSessionGone(kernel::GenlL2tpSocket& genl, uint32_t tunnel, uint32_t session) {
  for (int k = 0; k < 150; ++k) {
    if (FindPpp(PppSessions(genl), tunnel, session) == nullptr) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<kernel::PppoL2tpSocket> OpenPppIn(const std::string& ns, kernel::GenlL2tpSocket& genl,
                                                const TunnelConfig& t, const SessionConfig& s) {
  std::optional<kernel::PppoL2tpSocket> out;
  InNetns(ns, [&] {
    auto opened = kernel::OpenPppSession(genl, t, s);
    ASSERT_TRUE(opened.ok()) << opened.status();
    out.emplace(*std::move(opened));
  });
  return out;
}
// The same through the datapath (its own netlink socket, one counted write).
std::optional<kernel::PppoL2tpSocket> OpenPppIn(const std::string& ns, kernel::KernelDatapath* dp,
                                                const TunnelConfig& t, const SessionConfig& s) {
  std::optional<kernel::PppoL2tpSocket> out;
  InNetns(ns, [&] {
    const uint64_t writes = dp->writes();
    auto opened = dp->OpenPppSession(t, s);
    EXPECT_EQ(dp->writes(), writes + 1);
    ASSERT_TRUE(opened.ok()) << opened.status();
    out.emplace(*std::move(opened));
  });
  return out;
}

// What getsockname() says of a PPPoL2TP socket (pppol2tp_getname): the
// struct of the tunnel's version and family, its ids and peer.
struct PppName {
  socklen_t length = 0;
  int fd = -1;
  uint32_t tunnel = 0, session = 0, peer_tunnel = 0, peer_session = 0;
  uint16_t port = 0;
  int family = 0;
};
PppName NameOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len), 0) << std::strerror(errno);
  PppName n;
  n.length = len;
  auto take = [&](const auto& sa, int family, uint16_t port) {
    n.fd = sa.pppol2tp.fd;
    n.tunnel = sa.pppol2tp.s_tunnel;
    n.session = sa.pppol2tp.s_session;
    n.peer_tunnel = sa.pppol2tp.d_tunnel;
    n.peer_session = sa.pppol2tp.d_session;
    n.family = family;
    n.port = ntohs(port);
  };
  if (len == sizeof(sockaddr_pppol2tp)) {
    sockaddr_pppol2tp sa;
    std::memcpy(&sa, &ss, sizeof sa);
    take(sa, sa.pppol2tp.addr.sin_family, sa.pppol2tp.addr.sin_port);
  } else if (len == sizeof(sockaddr_pppol2tpin6)) {
    sockaddr_pppol2tpin6 sa;
    std::memcpy(&sa, &ss, sizeof sa);
    take(sa, sa.pppol2tp.addr.sin6_family, sa.pppol2tp.addr.sin6_port);
  } else if (len == sizeof(sockaddr_pppol2tpv3)) {
    sockaddr_pppol2tpv3 sa;
    std::memcpy(&sa, &ss, sizeof sa);
    take(sa, sa.pppol2tp.addr.sin_family, sa.pppol2tp.addr.sin_port);
  } else if (len == sizeof(sockaddr_pppol2tpv3in6)) {
    sockaddr_pppol2tpv3in6 sa;
    std::memcpy(&sa, &ss, sizeof sa);
    take(sa, sa.pppol2tp.addr.sin6_family, sa.pppol2tp.addr.sin6_port);
  }
  return n;
}

struct PppCase {
  uint32_t version;
  Variant v;
  std::string name() const { return absl::StrCat("V", version, v.name()); }
};
const PppCase kPppCases[] = {{2, {Encap::kUdp, false}},
                             {2, {Encap::kUdp, true}},
                             {3, {Encap::kUdp, false}},
                             {3, {Encap::kUdp, true}},
                             {3, {Encap::kIp, false}}};

class PppVariant : public ::testing::TestWithParam<int> {};

TEST_P(PppVariant, SocketConnectsOptionsStatsFramesAndCloseRemovesTheSession) {
  const int i = GetParam();
  const PppCase& pc = kPppCases[i];
  const uint32_t ta = 800 + i, tb = 900 + i, sa = 8000 + i, sb = 9000 + i;
  auto genl_a = GenlIn("a"), genl_b = GenlIn("b");
  ASSERT_TRUE(genl_a && genl_b);

  // 1. Managed tunnels (the control plane's sockets), L2TPv2 or v3.
  TunnelConfig ca = Tunnel(ta, tb, pc.v, 'a'), cb = Tunnel(tb, ta, pc.v, 'b');
  ca.version = cb.version = pc.version;
  ManagedSocket ma = OpenIn("a", g_a.get(), ca), mb = OpenIn("b", g_b.get(), cb);
  ASSERT_GE(ma.fd, 0);
  ASSERT_GE(mb.fd, 0);
  ca.socket_fd = ma.fd;
  cb.socket_fd = mb.fd;
  absl::Status created = g_a->CreateTunnel(ca);
  ASSERT_TRUE(created.ok()) << created;
  created = g_b->CreateTunnel(cb);
  ASSERT_TRUE(created.ok()) << created;
  const Observation observed = MustObserve(g_a.get());
  const ObservedTunnel* ot = FindTunnel(observed, ta);
  ASSERT_NE(ot, nullptr);
  EXPECT_EQ(ot->config.version, pc.version);

  // 2. The sessions, with different options on each side.
  SessionConfig a = Session(ta, sa, sb, ""), b = Session(tb, sb, sa, "");
  a.mtu = b.mtu = 0;
  a.send_sequence = true;  // b requires sequence numbers
  b.require_sequence = true;
  b.lns_mode = true;
  b.reorder_timeout_ms = 200;  // a multiple of the 4 ms tick (HZ=250)
  if (pc.version == 3) {
    a.cookie = b.peer_cookie = {0xc1, 0xc2, 0xc3, static_cast<uint8_t>(i)};
    b.cookie = a.peer_cookie = {0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, static_cast<uint8_t>(i)};
  }
  auto pa = OpenPppIn("a", g_a.get(), ca, a);
  auto pb = OpenPppIn("b", g_b.get(), cb, b);
  ASSERT_TRUE(pa && pb);

  // 3. The kernel has them, as PPP pseudowires with those settings.
  const std::vector<ObservedSession> in_a = PppSessions(*genl_a), in_b = PppSessions(*genl_b);
  const ObservedSession* na = FindPpp(in_a, ta, sa);
  ASSERT_NE(na, nullptr) << "no PPP session " << ta << "/" << sa << " over netlink";
  EXPECT_EQ(na->config.peer_session_id, sb);
  EXPECT_TRUE(na->config.send_sequence);
  EXPECT_FALSE(na->config.require_sequence);
  EXPECT_EQ(na->config.cookie, a.cookie);
  EXPECT_EQ(na->config.peer_cookie, a.peer_cookie);
  const ObservedSession* nb = FindPpp(in_b, tb, sb);
  ASSERT_NE(nb, nullptr);
  EXPECT_TRUE(nb->config.require_sequence);
  EXPECT_TRUE(nb->config.lns_mode);
  EXPECT_EQ(nb->config.reorder_timeout_ms, 200u);
  const Observation with_ppp = MustObserve(g_a.get());
  const ObservedSession* oa_session = FindSession(with_ppp, ta, sa);
  ASSERT_NE(oa_session, nullptr) << "Observe lists PPP sessions too";
  EXPECT_TRUE(oa_session->ppp) << "the reconciler must tell it from an Ethernet session";
  const std::string text = SessionText("a", ta, sa);
  EXPECT_NE(text, "") << "ip l2tp show session does not list " << ta << "/" << sa;
  std::cout << "PPP " << pc.name() << ":\n" << text;

  // 4. Socket options read back as set.
  auto oa = pa->Options();
  ASSERT_TRUE(oa.ok()) << oa.status();
  EXPECT_EQ(*oa, kernel::PppSessionOptionsOf(a));
  auto ob = pb->Options();
  ASSERT_TRUE(ob.ok()) << ob.status();
  EXPECT_EQ(*ob, kernel::PppSessionOptionsOf(b));

  // 5. getsockname: the kernel's own struct for this version and family,
  // with our ids (so it read our address as we meant it).
  auto target = kernel::PppoL2tpTargetFor(ca, a);
  ASSERT_TRUE(target.ok());
  auto address = kernel::BuildPppoL2tpAddress(*target);
  ASSERT_TRUE(address.ok());
  PppName name = NameOf(pa->fd());
  EXPECT_EQ(name.length, address->length);
  EXPECT_EQ(name.tunnel, ta);
  EXPECT_EQ(name.session, sa);
  EXPECT_EQ(name.peer_tunnel, tb);
  EXPECT_EQ(name.peer_session, sb);
  EXPECT_EQ(name.fd, ma.fd) << "the tunnel's socket, as L2TP_ATTR_FD gave it";
  EXPECT_EQ(name.family, pc.v.v6 ? AF_INET6 : AF_INET);
  EXPECT_EQ(name.port, target->peer_port);

  // 6. Frames through the sessions, both ways, and the counters.
  const std::string hello = absl::StrCat("ppp-frame-", pc.name());
  for (int k = 0; k < 3; ++k) {
    ASSERT_EQ(send(pa->fd(), hello.data(), hello.size(), 0), static_cast<ssize_t>(hello.size()))
        << strerror(errno);
    auto got = RecvWithin(pb->fd(), 2000);
    ASSERT_TRUE(got.has_value()) << pc.name() << ": b's PPPoL2TP socket got nothing";
    EXPECT_EQ(std::string(got->begin(), got->end()), hello) << "the kernel adds and strips FF 03";
  }
  ASSERT_EQ(send(pb->fd(), hello.data(), hello.size(), 0), static_cast<ssize_t>(hello.size()));
  auto back = RecvWithin(pa->fd(), 2000);
  ASSERT_TRUE(back.has_value()) << pc.name() << ": a's PPPoL2TP socket got nothing";
  EXPECT_FALSE(RecvWithin(ma.fd, 100).has_value()) << "data frames do not reach the tunnel's socket";
  // a is the LAC: a frame without sequence numbers from the LNS turns its
  // sending of them off (RFC 2661 5.4), as for Ethernet pseudowires.
  auto oa_after = pa->Options();
  ASSERT_TRUE(oa_after.ok()) << oa_after.status();
  EXPECT_FALSE(oa_after->send_sequence) << "the LAC kept sending sequence numbers";

  auto ca_counters = pa->ReadCounters();
  ASSERT_TRUE(ca_counters.ok()) << ca_counters.status();
  EXPECT_EQ(ca_counters->tx_packets, 3u);
  EXPECT_EQ(ca_counters->rx_packets, 1u);
  EXPECT_GE(ca_counters->tx_bytes, 3 * hello.size());
  auto cb_counters = pb->ReadCounters();
  ASSERT_TRUE(cb_counters.ok()) << cb_counters.status();
  EXPECT_EQ(cb_counters->rx_packets, 3u);
  EXPECT_EQ(cb_counters->tx_packets, 1u);
  EXPECT_EQ(cb_counters->rx_seq_discards, 0u);
  // The ioctl and netlink read the same session counters.
  const std::vector<ObservedSession> in_b_after = PppSessions(*genl_b);
  nb = FindPpp(in_b_after, tb, sb);
  ASSERT_NE(nb, nullptr);
  EXPECT_EQ(nb->counters.rx_packets, cb_counters->rx_packets);
  EXPECT_EQ(nb->counters.rx_bytes, cb_counters->rx_bytes);
  EXPECT_EQ(nb->counters.tx_packets, cb_counters->tx_packets);
  EXPECT_EQ(nb->counters.tx_bytes, cb_counters->tx_bytes);
  std::cout << "PPP " << pc.name() << " b: rx " << cb_counters->rx_packets << " packets "
            << cb_counters->rx_bytes << " bytes (payload " << hello.size() << "), tx "
            << cb_counters->tx_packets << "/" << cb_counters->tx_bytes << "\n";

  // 7. Closing a's PPPoL2TP socket deletes its session (the tunnel stays).
  pa.reset();
  EXPECT_TRUE(PppSessionGone(*genl_a, ta, sa)) << "closing the PPPoL2TP socket must remove the session";
  EXPECT_EQ(SessionText("a", ta, sa), "");
  EXPECT_NE(FindTunnel(MustObserve(g_a.get()), ta), nullptr);

  // 8. Closing b's tunnel socket while its PPPoL2TP socket is open: the
  // tunnel and session go; the PPPoL2TP socket stays, without a session.
  close(mb.fd);
  EXPECT_TRUE(PppSessionGone(*genl_b, tb, sb));
  bool tunnel_gone = false;
  for (int k = 0; k < 150 && !tunnel_gone; ++k) {
    tunnel_gone = FindTunnel(MustObserve(g_b.get()), tb) == nullptr;
    if (!tunnel_gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(tunnel_gone);
  // The kernel gives the socket's owner no sign: its stats and options
  // still answer and send() still succeeds. Whoever removes a session or
  // its tunnel closes the PPPoL2TP socket (stops pppd) itself.
  auto orphan_stats = pb->ReadCounters();
  EXPECT_TRUE(orphan_stats.ok()) << orphan_stats.status();
  auto orphan_options = pb->Options();
  EXPECT_TRUE(orphan_options.ok()) << orphan_options.status();
  EXPECT_EQ(send(pb->fd(), hello.data(), hello.size(), MSG_DONTWAIT), static_cast<ssize_t>(hello.size()));
  pb.reset();
  close(ma.fd);
  tunnel_gone = false;
  for (int k = 0; k < 150 && !tunnel_gone; ++k) {
    tunnel_gone = FindTunnel(MustObserve(g_a.get()), ta) == nullptr;
    if (!tunnel_gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(tunnel_gone);
}

INSTANTIATE_TEST_SUITE_P(Kernel, PppVariant, ::testing::Range(0, 5),
                         [](const auto& info) { return kPppCases[info.param].name(); });

// How the kernel answers the other ways of connecting a PPPoL2TP socket.
TEST(Kernel, PppConnectCasesAndErrorsFromTheRealKernel) {
  auto genl = GenlIn("a");
  ASSERT_TRUE(genl);
  const Variant v{Encap::kUdp, false};
  // An L2TPv3 and an L2TPv2 tunnel.
  TunnelConfig t3 = Tunnel(850, 950, v, 'a'), t2 = Tunnel(851, 951, v, 'a');
  t2.version = 2;
  ManagedSocket m3 = OpenIn("a", g_a.get(), t3), m2 = OpenIn("a", g_a.get(), t2);
  t3.socket_fd = m3.fd;
  t2.socket_fd = m2.fd;
  ASSERT_TRUE(g_a->CreateTunnel(t3).ok());
  ASSERT_TRUE(g_a->CreateTunnel(t2).ok());

  auto connect_in_a = [&](const TunnelConfig& t, const SessionConfig& s) {
    absl::StatusOr<kernel::PppoL2tpSocket> out = absl::UnknownError("not run");
    InNetns("a", [&] {
      auto target = kernel::PppoL2tpTargetFor(t, s);
      ASSERT_TRUE(target.ok()) << target.status();
      out = kernel::PppoL2tpSocket::Connect(*target);
    });
    return out;
  };

  // No such tunnel.
  TunnelConfig missing = t3;
  missing.tunnel_id = 12345;
  auto none = connect_in_a(missing, Session(12345, 1, 2, ""));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound) << none.status();
  EXPECT_NE(none.status().message().find("no such tunnel (or its socket is gone) (ENOENT)"),
            absl::string_view::npos)
      << none.status();

  // A session with a socket already.
  const SessionConfig s1 = Session(850, 8500, 9500, "");
  auto first = OpenPppIn("a", *genl, t3, s1);
  ASSERT_TRUE(first);
  auto second = connect_in_a(t3, s1);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
  EXPECT_NE(second.status().message().find("(EEXIST)"), absl::string_view::npos) << second.status();
  // OpenPppSession on it: SESSION_CREATE says EEXIST before any socket.
  std::optional<absl::Status> again;
  InNetns("a", [&] { again = kernel::OpenPppSession(*genl, t3, s1).status(); });
  EXPECT_EQ(again->code(), absl::StatusCode::kAlreadyExists) << *again;

  // An Ethernet session is not a PPP channel.
  ASSERT_TRUE(g_a->CreateSession(Session(850, 8501, 9501, "kppeth")).ok());
  auto eth = connect_in_a(t3, Session(850, 8501, 9501, ""));
  EXPECT_EQ(eth.status().code(), absl::StatusCode::kFailedPrecondition) << eth.status();
  EXPECT_NE(eth.status().message().find("not a PPP pseudowire (EPROTOTYPE)"), absl::string_view::npos)
      << eth.status();

  // L2TPv3 connect without SESSION_CREATE: the kernel creates the session too
  // (without cookies or sublayer: why OpenPppSession uses netlink for v3).
  auto implicit = connect_in_a(t3, Session(850, 8502, 9502, ""));
  ASSERT_TRUE(implicit.ok()) << implicit.status();
  EXPECT_NE(FindPpp(PppSessions(*genl), 850, 8502), nullptr);

  // L2TPv2: a session made by netlink first, then attached by connect (the
  // kernel documentation's advice), and one made by connect alone.
  SessionConfig v2s = Session(851, 8510, 9510, "");
  auto msg = kernel::BuildPppSessionCreate(genl->family(), 2, v2s);
  ASSERT_TRUE(msg.ok()) << msg.status();
  ASSERT_TRUE(genl->Execute(*std::move(msg), kernel::KernelOp::kCreateSession, "create v2 session").ok());
  auto attached = connect_in_a(t2, v2s);
  ASSERT_TRUE(attached.ok()) << attached.status();
  auto by_connect = connect_in_a(t2, Session(851, 8511, 9511, ""));
  ASSERT_TRUE(by_connect.ok()) << by_connect.status();
  EXPECT_NE(FindPpp(PppSessions(*genl), 851, 8510), nullptr);
  EXPECT_NE(FindPpp(PppSessions(*genl), 851, 8511), nullptr);
  std::cout << "PPP sessions in a:\n" << vmtest::Run("ip -n a l2tp show session").output;

  // A session deleted over netlink under its socket: the socket stays open.
  auto del = kernel::BuildSessionDelete(genl->family(), 851, 8511);
  ASSERT_TRUE(del.ok());
  ASSERT_TRUE(genl->Execute(*std::move(del), kernel::KernelOp::kDeleteSession, "delete 851/8511").ok());
  EXPECT_TRUE(PppSessionGone(*genl, 851, 8511));
  auto after_delete = by_connect->ReadCounters();
  EXPECT_TRUE(after_delete.ok()) << "the socket still answers for its deleted session: "
                                 << after_delete.status();

  // Closing the sockets removes their sessions, however they were made.
  attached = absl::UnknownError("closed");
  implicit = absl::UnknownError("closed");
  first.reset();
  EXPECT_TRUE(PppSessionGone(*genl, 851, 8510));
  EXPECT_TRUE(PppSessionGone(*genl, 850, 8502));
  EXPECT_TRUE(PppSessionGone(*genl, 850, 8500));
  by_connect = absl::UnknownError("closed");
  ASSERT_TRUE(g_a->DeleteTunnel(850).ok());
  close(m3.fd);
  close(m2.fd);
}

// ---- Datapath::OpenPppChannel and L2TPv2 tunnels through KernelDatapath
// (what the PPP call runner uses): a managed v2 tunnel from CreateTunnel,
// observed as created; PPP channels in it and in a managed v3 tunnel,
// listed by Observe as `ppp`; counters; the channel's end ends the session.

std::unique_ptr<PppChannel> OpenChannelIn(const std::string& ns, kernel::KernelDatapath* dp,
                                          const TunnelConfig& t, const SessionConfig& s) {
  std::unique_ptr<PppChannel> out;
  InNetns(ns, [&] {
    const uint64_t writes = dp->writes();
    auto opened = dp->OpenPppChannel(t, s);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(dp->writes(), writes + 1);
    out = *std::move(opened);
  });
  return out;
}
absl::Status OpenChannelStatusIn(const std::string& ns, kernel::KernelDatapath* dp, const TunnelConfig& t,
                                 const SessionConfig& s) {
  absl::Status st;
  InNetns(ns, [&] { st = dp->OpenPppChannel(t, s).status(); });
  return st;
}
// Waits (up to 3 s) until Observe no longer lists the session.
bool ObservedGone(kernel::KernelDatapath* dp, uint32_t tunnel, uint32_t session) {
  for (int k = 0; k < 150; ++k) {
    if (FindSession(MustObserve(dp), tunnel, session) == nullptr) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(Kernel, PppChannelsInManagedV2AndV3TunnelsObservedCountedAndEndedWithTheChannel) {
  const Variant v{Encap::kUdp, false};
  const uint32_t ta = 1010, tb = 1020, t3 = 1011, sa = 101, sb = 102, s3 = 70000;
  // 1. Managed L2TPv2 tunnels in a and b, and an L2TPv3 one in a, all from
  // CreateTunnel, each observed exactly as created.
  TunnelConfig ca = Tunnel(ta, tb, v, 'a'), cb = Tunnel(tb, ta, v, 'b'), c3 = Tunnel(t3, 1021, v, 'a');
  ca.version = cb.version = 2;
  ManagedSocket ma = OpenIn("a", g_a.get(), ca), mb = OpenIn("b", g_b.get(), cb),
                m3 = OpenIn("a", g_a.get(), c3);
  ASSERT_GE(ma.fd, 0);
  ASSERT_GE(mb.fd, 0);
  ASSERT_GE(m3.fd, 0);
  // Closing the sockets removes the tunnels, whatever the test got to.
  struct CloseAll {
    std::vector<int> fds;
    ~CloseAll() {
      for (int fd : fds) close(fd);
    }
  } close_all{{ma.fd, mb.fd, m3.fd}};
  ca.socket_fd = ma.fd;
  cb.socket_fd = mb.fd;
  c3.socket_fd = m3.fd;
  absl::Status created = g_a->CreateTunnel(ca);
  ASSERT_TRUE(created.ok()) << created;
  created = g_b->CreateTunnel(cb);
  ASSERT_TRUE(created.ok()) << created;
  created = g_a->CreateTunnel(c3);
  ASSERT_TRUE(created.ok()) << created;
  Observation oa = MustObserve(g_a.get());
  const ObservedTunnel* ot = FindTunnel(oa, ta);
  ASSERT_NE(ot, nullptr);
  EXPECT_EQ(ot->config.version, 2u);
  EXPECT_EQ(ot->config, ca) << "a v2 tunnel observed differently would be replaced in a loop";
  ot = FindTunnel(oa, t3);
  ASSERT_NE(ot, nullptr);
  EXPECT_EQ(ot->config, c3);
  const Observation ob = MustObserve(g_b.get());
  ot = FindTunnel(ob, tb);
  ASSERT_NE(ot, nullptr);
  EXPECT_EQ(ot->config, cb);
  auto tunnels = IpJson("-n a l2tp show tunnel");
  const auto* jt = FindByNumber(tunnels, "tunnel_id", ta);
  ASSERT_NE(jt, nullptr);
  EXPECT_EQ(Num(*jt, "peer_tunnel"), tb);
  EXPECT_EQ(Num(*jt, "local_port"), ca.udp_source_port);
  std::cout << "managed L2TPv2: "
            << vmtest::Run(absl::StrCat("ip -n a l2tp show tunnel tunnel_id ", ta)).output;

  // 2. PPP channels: v2 in a and b, v3 (32-bit session id, cookies) in a.
  SessionConfig a = Session(ta, sa, sb, ""), b = Session(tb, sb, sa, ""), a3 = Session(t3, s3, 70001, "");
  a.mtu = b.mtu = a3.mtu = 0;
  // Both send sequence numbers: an LNS that does discards frames without.
  a.send_sequence = b.send_sequence = true;
  b.lns_mode = true;
  a3.cookie = {0xe1, 0xe2, 0xe3, 0xe4};
  a3.peer_cookie = {0xf1, 0xf2, 0xf3, 0xf4};
  auto pa = OpenChannelIn("a", g_a.get(), ca, a);
  auto pb = OpenChannelIn("b", g_b.get(), cb, b);
  auto p3 = OpenChannelIn("a", g_a.get(), c3, a3);
  ASSERT_TRUE(pa && pb && p3);
  EXPECT_GE(pa->fd(), 0);
  EXPECT_NE(fcntl(pa->fd(), F_GETFD) & FD_CLOEXEC, 0);

  // 3. Observe lists them as PPP sessions, with what the kernel reports.
  oa = MustObserve(g_a.get());
  const ObservedSession* os = FindSession(oa, ta, sa);
  ASSERT_NE(os, nullptr) << "Observe does not list PPP session " << ta << "/" << sa;
  EXPECT_TRUE(os->ppp);
  EXPECT_EQ(os->config.peer_session_id, sb);
  EXPECT_TRUE(os->config.interface_name.empty());
  EXPECT_FALSE(os->mtu_known);
  EXPECT_TRUE(os->config.cookie.empty());
  const ObservedSession* os3 = FindSession(oa, t3, s3);
  ASSERT_NE(os3, nullptr);
  EXPECT_TRUE(os3->ppp);
  EXPECT_EQ(os3->config.peer_session_id, 70001u);
  EXPECT_EQ(os3->config.cookie, a3.cookie);
  EXPECT_EQ(os3->config.peer_cookie, a3.peer_cookie);
  Observation ob_ppp = MustObserve(g_b.get());  // kept: `osb` points into it
  const ObservedSession* osb = FindSession(ob_ppp, tb, sb);
  ASSERT_NE(osb, nullptr);
  EXPECT_TRUE(osb->ppp);
  EXPECT_TRUE(osb->config.lns_mode);
  EXPECT_TRUE(osb->config.send_sequence);
  EXPECT_NE(SessionText("a", ta, sa), "");
  std::cout << "PPP channels in a:\n" << vmtest::Run("ip -n a l2tp show session").output;

  // 4. Frames a -> b through the v2 channels; ReadCounters and Observe agree.
  const std::string frame = "ppp-channel-frame";
  for (int k = 0; k < 3; ++k) {
    ASSERT_EQ(send(pa->fd(), frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()))
        << std::strerror(errno);
    auto got = RecvWithin(pb->fd(), 2000);
    ASSERT_TRUE(got.has_value()) << "b's PPP channel got nothing";
    EXPECT_EQ(std::string(got->begin(), got->end()), frame);
  }
  auto ca_counters = pa->ReadCounters();
  ASSERT_TRUE(ca_counters.ok()) << ca_counters.status();
  EXPECT_EQ(ca_counters->tx_packets, 3u);
  auto cb_counters = pb->ReadCounters();
  ASSERT_TRUE(cb_counters.ok()) << cb_counters.status();
  EXPECT_EQ(cb_counters->rx_packets, 3u);
  EXPECT_GE(cb_counters->rx_bytes, 3 * frame.size());
  EXPECT_EQ(cb_counters->rx_seq_discards, 0u);
  ob_ppp = MustObserve(g_b.get());
  osb = FindSession(ob_ppp, tb, sb);
  ASSERT_NE(osb, nullptr);
  EXPECT_EQ(osb->counters.rx_packets, cb_counters->rx_packets);
  EXPECT_EQ(osb->counters.rx_bytes, cb_counters->rx_bytes);
  auto c3_counters = p3->ReadCounters();
  ASSERT_TRUE(c3_counters.ok()) << c3_counters.status();
  EXPECT_EQ(c3_counters->tx_packets, 0u);

  // 5. Errors name the session.
  absl::Status st = OpenChannelStatusIn("a", g_a.get(), ca, a);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_NE(st.message().find(absl::StrCat(ta, "/", sa)), absl::string_view::npos) << st;
  st = OpenChannelStatusIn("a", g_a.get(), c3, a3);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_NE(st.message().find(absl::StrCat(t3, "/", s3)), absl::string_view::npos) << st;
  TunnelConfig missing = ca;
  missing.tunnel_id = 1099;
  st = OpenChannelStatusIn("a", g_a.get(), missing, Session(1099, 1, 2, ""));
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  TunnelConfig missing3 = c3;
  missing3.tunnel_id = 1098;
  st = OpenChannelStatusIn("a", g_a.get(), missing3, Session(1098, 1, 2, ""));
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  const SessionConfig wide = Session(ta, 70000, 2, "");
  st = OpenChannelStatusIn("a", g_a.get(), ca, wide);
  EXPECT_EQ(st, CheckPppSessionConfig(ca, wide));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  // The kernel keeps refusing unmanaged v2 tunnels and v2 over IP (contract).
  TunnelConfig unmanaged = Tunnel(1030, 1031, v, 'a');
  unmanaged.version = 2;
  EXPECT_EQ(g_a->CreateTunnel(unmanaged), CheckTunnelConfig(unmanaged));
  TunnelConfig v2_ip = ca;
  v2_ip.tunnel_id = 1031;
  v2_ip.encap = Encap::kIp;
  EXPECT_EQ(g_a->CreateTunnel(v2_ip), CheckTunnelConfig(v2_ip));
  EXPECT_EQ(FindTunnel(MustObserve(g_a.get()), 1030), nullptr);
  EXPECT_EQ(FindTunnel(MustObserve(g_a.get()), 1031), nullptr);

  // 6. Destroying a channel removes its session; the tunnel stays.
  pa.reset();
  EXPECT_TRUE(ObservedGone(g_a.get(), ta, sa)) << "destroying the channel must delete the session";
  EXPECT_EQ(SessionText("a", ta, sa), "");
  p3.reset();
  EXPECT_TRUE(ObservedGone(g_a.get(), t3, s3));
  oa = MustObserve(g_a.get());
  EXPECT_NE(FindTunnel(oa, ta), nullptr);
  EXPECT_NE(FindTunnel(oa, t3), nullptr);
  // The ids are free again for a new channel.
  auto again = OpenChannelIn("a", g_a.get(), ca, a);
  ASSERT_TRUE(again);
  EXPECT_NE(FindSession(MustObserve(g_a.get()), ta, sa), nullptr);

  // 7. DeleteTunnel takes a v2 tunnel and its sessions; the channel's end
  // afterwards is harmless.
  ASSERT_TRUE(g_a->DeleteTunnel(ta).ok());
  ASSERT_TRUE(g_a->DeleteTunnel(t3).ok());
  ASSERT_TRUE(g_b->DeleteTunnel(tb).ok());
  oa = MustObserve(g_a.get());
  EXPECT_EQ(FindTunnel(oa, ta), nullptr);
  EXPECT_EQ(FindTunnel(oa, t3), nullptr);
  EXPECT_EQ(FindSession(oa, ta, sa), nullptr);
  EXPECT_EQ(FindTunnel(MustObserve(g_b.get()), tb), nullptr);
  again.reset();
  pb.reset();
}

// The datapath contract suite (tests/unit/datapath/datapath_contract.h), the
// same cases memory and userspace pass, on a KernelDatapath of the VM's root
// namespace (loopback up: tests/vm/init.sh).
contract_test::ContractBackend KernelBackend() {
  contract_test::ContractBackend b;
  b.name = "Kernel";
  b.make = []() -> absl::StatusOr<std::unique_ptr<Datapath>> {
    auto dp = kernel::KernelDatapath::Create();
    if (!dp.ok()) return dp.status();
    return std::unique_ptr<Datapath>(*std::move(dp));
  };
  b.reports_external_changes = true;
  b.carries_l2tpv2 = true;
  return b;
}

using contract_test::DatapathContractTest;
INSTANTIATE_TEST_SUITE_P(Kernel, DatapathContractTest, ::testing::Values(KernelBackend()),
                         contract_test::ContractBackendName);

}  // namespace
}  // namespace l2tp

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new l2tp::Namespaces);
  return RUN_ALL_TESTS();
}
