// PppCalls with a fake pppd (a shell script this test writes, as
// pppd_process_test does) and a fake datapath whose PPP channels are
// socketpairs. The fake pppd picks what to do by its interface name
// (behaviour-<ifname> beside it): print a pppd 2.4.9 transcript, then exit
// with a status or wait for SIGTERM. Needs root (pppd's mount namespace);
// skipped otherwise.
#include "agent/pppcalls/ppp_calls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace l2tp {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::l2tpagent::v1;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// ---- A datapath whose PPP channels are socketpairs.
class FakeDatapath;

class FakeChannel : public PppChannel {
 public:
  FakeChannel(FakeDatapath* dp, std::pair<uint32_t, uint32_t> key, int fd, int peer)
      : dp_(dp), key_(key), fd_(fd), peer_(peer) {}
  ~FakeChannel() override;
  int fd() const override { return fd_; }
  absl::StatusOr<Counters> ReadCounters() const override { return Counters{}; }

 private:
  FakeDatapath* dp_;
  std::pair<uint32_t, uint32_t> key_;
  int fd_, peer_;
};

class FakeDatapath : public Datapath {
 public:
  std::string_view Name() const override { return "fake"; }
  std::vector<std::string> Capabilities() const override { return {"pseudowire/ppp"}; }
  absl::StatusOr<Observation> Observe() override { return Observation{}; }
  absl::Status CreateTunnel(const TunnelConfig&) override { return absl::OkStatus(); }
  absl::Status DeleteTunnel(uint32_t) override { return absl::OkStatus(); }
  absl::Status CreateSession(const SessionConfig&) override { return absl::OkStatus(); }
  absl::Status ModifySession(const SessionConfig&) override { return absl::OkStatus(); }
  absl::Status DeleteSession(uint32_t, uint32_t) override { return absl::OkStatus(); }

  absl::StatusOr<std::unique_ptr<PppChannel>> OpenPppChannel(const TunnelConfig& tunnel,
                                                             const SessionConfig& session) override {
    std::lock_guard lock(mu_);
    const std::pair<uint32_t, uint32_t> key{tunnel.tunnel_id, session.session_id};
    if (open_.count(key)) return absl::AlreadyExistsError("session exists");
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
      return absl::InternalError("socketpair");
    open_.insert(key);
    ++opened_;
    return std::make_unique<FakeChannel>(this, key, fds[0], fds[1]);
  }

  void Closed(std::pair<uint32_t, uint32_t> key) {
    std::lock_guard lock(mu_);
    open_.erase(key);
  }
  std::set<std::pair<uint32_t, uint32_t>> open() const {
    std::lock_guard lock(mu_);
    return open_;
  }
  int opened() const {
    std::lock_guard lock(mu_);
    return opened_;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::pair<uint32_t, uint32_t>> open_;
  int opened_ = 0;
};

FakeChannel::~FakeChannel() {
  close(fd_);
  close(peer_);
  dp_->Closed(key_);
}

// ---- The fake pppd and what it does.
constexpr char kFakePppd[] = R"SH(#!/bin/sh
ifname=; prev=; options=
for a in "$@"; do
  [ "$prev" = ifname ] && ifname=$a
  [ "$prev" = file ] && options=$a
  prev=$a
done
echo $$ > "@ROOT@/pid-$ifname"
echo "Using interface $ifname"
. "@ROOT@/behaviour-$ifname"
)SH";

constexpr char kLcpUp[] =
    R"SH(echo 'sent [LCP ConfAck id=0x1 <mru 1460> <asyncmap 0x0> <magic 0x2b8c3d11>]'
echo 'rcvd [LCP ConfAck id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]'
)SH";
constexpr char kWaitForTerm[] = R"SH(trap 'echo "Terminating on signal 15"; exit 5' TERM
echo waiting
while :; do sleep 0.05; done
)SH";

// An LAC that authenticates with CHAP and gets its address.
std::string LacUp() {
  return absl::StrCat(kLcpUp, R"SH(echo 'rcvd [CHAP Success id=0x7 "Access granted"]'
echo 'CHAP authentication succeeded'
echo 'local  IP address 10.8.1.2'
echo 'remote IP address 10.8.0.1'
)SH",
                      kWaitForTerm);
}

// An LAC the LNS refuses.
std::string LacRefused() {
  return absl::StrCat(kLcpUp, R"SH(echo 'rcvd [CHAP Failure id=0x7 "Access denied"]'
echo 'CHAP authentication failed: Access denied'
echo 'CHAP authentication failed'
exit 19
)SH");
}

// An LNS whose peer logs in as alice with PAP; the addresses are the ones
// in the options file the agent wrote ("10.8.0.1:10.8.1.1").
std::string LnsUp() {
  return absl::StrCat(kLcpUp, R"SH(pair=$(grep -E '^[0-9.]+:[0-9.]+$' "$options")
echo 'PAP peer authentication succeeded for alice'
echo "local  IP address ${pair%%:*}"
echo "remote IP address ${pair#*:}"
)SH",
                      kWaitForTerm);
}

std::string LnsPeerRefused() {
  return absl::StrCat(kLcpUp, R"SH(echo 'Peer mallory failed CHAP authentication'
exit 11
)SH");
}

// Records what the callbacks say.
struct Recorder {
  mutable std::mutex mu;
  std::map<std::string, std::vector<v1::PppCallStatus>> statuses;  // the last per session
  int status_calls = 0;
  std::vector<std::string> events;
  std::vector<std::pair<uint64_t, std::string>> ended;
  std::function<void(uint64_t, const std::string&)> also_on_ended;

  std::vector<v1::PppCallStatus> Last(const std::string& session) const {
    std::lock_guard lock(mu);
    auto it = statuses.find(session);
    return it == statuses.end() ? std::vector<v1::PppCallStatus>{} : it->second;
  }
  std::vector<std::string> Events() const {
    std::lock_guard lock(mu);
    return events;
  }
  std::vector<std::pair<uint64_t, std::string>> Ended() const {
    std::lock_guard lock(mu);
    return ended;
  }
  std::string Everything() const {
    std::lock_guard lock(mu);
    std::string all;
    for (const auto& [name, list] : statuses) {
      for (const auto& s : list) absl::StrAppend(&all, s.DebugString(), "\n");
    }
    for (const auto& e : events) absl::StrAppend(&all, e, "\n");
    for (const auto& [id, why] : ended) absl::StrAppend(&all, why, "\n");
    return all;
  }
};

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

class PppCallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (a mount namespace per pppd)";
    char tmpl[] = "/tmp/ppp_calls_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ + "/state");
    fs::create_directories(root_ + "/etc");  // pppd's /etc: no ppp/ in it
    run_dir_ = root_ + "/state/ppp";
    WriteFile(root_ + "/fake-pppd", absl::StrReplaceAll(kFakePppd, {{"@ROOT@", root_}}));
    chmod((root_ + "/fake-pppd").c_str(), 0755);
    WriteFile(root_ + "/password", "s3cret-one\n");
    WriteFile(root_ + "/secrets", "alice * \"s3cret-lns\" *\n");
    options_.datapath = &datapath_;
    options_.run_dir = run_dir_;
    options_.pppd_path = root_ + "/fake-pppd";
    options_.etc_dir = root_ + "/etc";
    options_.stop_timeout = std::chrono::milliseconds(2000);
    options_.on_status = [this](const std::string& session, std::vector<v1::PppCallStatus> calls) {
      std::lock_guard lock(rec_.mu);
      rec_.statuses[session] = std::move(calls);
      ++rec_.status_calls;
    };
    options_.on_event = [this](const std::string& session, const std::string& text) {
      std::lock_guard lock(rec_.mu);
      rec_.events.push_back(absl::StrCat(session, ": ", text));
    };
    options_.on_call_ended = [this](uint64_t id, const std::string& why) {
      {
        std::lock_guard lock(rec_.mu);
        rec_.ended.emplace_back(id, why);
      }
      if (rec_.also_on_ended) rec_.also_on_ended(id, why);
    };
  }

  void TearDown() override {
    if (root_.empty()) return;
    calls_.reset();
    EXPECT_TRUE(datapath_.open().empty()) << "a channel was left open";
    fs::remove_all(root_);
  }

  static void WriteFile(const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::trunc);
    out << content;
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void Behave(const std::string& ifname, const std::string& script) {
    WriteFile(root_ + "/behaviour-" + ifname, script);
  }
  pid_t PidOf(const std::string& ifname) {
    pid_t pid = 0;
    WaitFor([&] {
      std::ifstream in(root_ + "/pid-" + ifname);
      return static_cast<bool>(in >> pid);
    });
    return pid;
  }

  void Create() {
    auto created = PppCalls::Create(options_);
    ASSERT_TRUE(created.ok()) << created.status();
    calls_ = *std::move(created);
  }

  PppCallStart Lac(uint64_t id, uint32_t session_id = 1234) {
    PppCallStart c;
    c.call_id = id;
    c.session = "dialout";
    c.tunnel.tunnel_id = 5;
    c.tunnel.version = 2;
    c.session_config.tunnel_id = 5;
    c.session_config.session_id = session_id;
    c.session_config.peer_session_id = 77;
    c.session_config.interface_name = "ppp-dialout";
    c.ppp.set_user("alice");
    c.ppp.set_password_file(root_ + "/password");
    return c;
  }

  PppCallStart Lns(uint64_t id, uint32_t slot) {
    PppCallStart c;
    c.call_id = id;
    c.session = "dialin";
    c.slot = slot;
    c.lns = true;
    c.tunnel.tunnel_id = 40000;
    c.session_config.tunnel_id = 40000;
    c.session_config.session_id = 100 + slot;
    c.session_config.peer_session_id = 200 + slot;
    c.session_config.lns_mode = true;
    c.session_config.interface_name = absl::StrCat("ppp-in", slot);
    c.ppp.set_max_sessions(2);
    c.ppp.set_local_address("10.8.0.1");
    c.ppp.set_remote_address_pool("10.8.1.0/30");  // 10.8.1.1 and 10.8.1.2
    c.ppp.set_authentication(v1::PPP_AUTHENTICATION_PAP);
    c.ppp.set_secrets_file(root_ + "/secrets");
    return c;
  }

  std::string CallDir(uint64_t id) const { return absl::StrCat(run_dir_, "/call-", id); }

  v1::PppCallStatus StatusOf(const std::string& session, size_t i = 0) {
    auto list = calls_->Statuses(session);
    return i < list.size() ? list[i] : v1::PppCallStatus{};
  }

  bool Phase(const std::string& session, size_t i, v1::PppPhase phase) {
    return WaitFor([&] {
      auto last = rec_.Last(session);
      return i < last.size() && last[i].phase() == phase;
    });
  }

  std::string root_, run_dir_;
  FakeDatapath datapath_;
  PppCallsOptions options_;
  Recorder rec_;
  std::unique_ptr<PppCalls> calls_;
};

TEST_F(PppCallsTest, AnLacCallReachesNetworkAndEndCallLeavesNothing) {
  Behave("ppp-dialout", LacUp());
  Create();
  ASSERT_TRUE(calls_->StartCall(Lac(1)).ok());
  EXPECT_EQ(datapath_.open().size(), 1u);
  ASSERT_TRUE(Phase("dialout", 0, v1::PPP_PHASE_NETWORK)) << rec_.Everything();

  v1::PppCallStatus st = rec_.Last("dialout").at(0);
  EXPECT_EQ(st.session_id(), 1234u);
  EXPECT_EQ(st.peer_session_id(), 77u);
  EXPECT_EQ(st.interface_name(), "ppp-dialout");
  EXPECT_EQ(st.local_address(), "10.8.1.2");
  EXPECT_EQ(st.peer_address(), "10.8.0.1");
  EXPECT_EQ(st.user(), "alice");
  EXPECT_TRUE(st.has_started_time());
  EXPECT_TRUE(st.has_last_transition_time());
  EXPECT_EQ(st.last_failure(), "");
  EXPECT_EQ(calls_->Statuses("dialout").at(0).SerializeAsString(), st.SerializeAsString());
  EXPECT_THAT(rec_.Events(),
              ::testing::Contains(
                  "dialout: call 1 (session 1234): PPP NETWORK, 10.8.1.2 <-> 10.8.0.1, user alice"));
  EXPECT_THAT(rec_.Events(), ::testing::Contains("dialout: call 1 (session 1234): PPP AUTHENTICATING"));
  PppCallStats stats = calls_->stats();
  EXPECT_EQ(stats.calls_started, 1u);
  EXPECT_EQ(stats.calls_by_phase[2], 1u);
  EXPECT_EQ(stats.calls_by_phase[0] + stats.calls_by_phase[1], 0u);

  // pppd's secrets: the password file's content, in the call's directory only.
  const std::string dir = CallDir(1);
  EXPECT_THAT(ReadFile(dir + "/chap-secrets"), HasSubstr("\"s3cret-one\""));
  EXPECT_EQ(fs::status(dir).permissions(), fs::perms::owner_all);

  const pid_t pid = PidOf("ppp-dialout");
  ASSERT_GT(pid, 0);
  calls_->EndCall(1, "the peer hung up: CDN result 3");
  EXPECT_TRUE(datapath_.open().empty()) << "the channel closes before EndCall returns";
  st = calls_->Statuses("dialout").at(0);
  EXPECT_EQ(st.phase(), v1::PPP_PHASE_DEAD);
  EXPECT_EQ(st.last_failure(), "the peer hung up: CDN result 3");
  EXPECT_EQ(st.peer_address(), "");
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(pid); })) << "pppd " << pid << " still runs";
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(dir); })) << dir;
  ASSERT_TRUE(Phase("dialout", 0, v1::PPP_PHASE_DEAD));
  EXPECT_THAT(rec_.Events(),
              ::testing::Contains(
                  "dialout: call 1 (session 1234): PPP DEAD, ended: the peer hung up: CDN result 3"));
  EXPECT_TRUE(rec_.Ended().empty()) << "no on_call_ended after EndCall";
  stats = calls_->stats();
  EXPECT_EQ(stats.calls_ended, 1u);
  EXPECT_EQ(stats.calls_by_phase[2], 0u);
  uint64_t observed = 0;
  for (uint64_t n : stats.duration_buckets) observed += n;
  EXPECT_EQ(observed, 1u);
  EXPECT_GT(stats.duration_sum_seconds, 0);
  EXPECT_THAT(rec_.Everything(), Not(HasSubstr("s3cret")));

  calls_->EndCall(1, "again");  // gone: ignored
  calls_->EndCall(99, "never was");
  EXPECT_EQ(calls_->Statuses("dialout").at(0).last_failure(), "the peer hung up: CDN result 3");
}

TEST_F(PppCallsTest, PppdExitingEndsTheCallWithItsReason) {
  Behave("ppp-dialout", LacRefused());
  Create();
  ASSERT_TRUE(calls_->StartCall(Lac(3)).ok());
  ASSERT_TRUE(WaitFor([&] { return !rec_.Ended().empty(); })) << rec_.Everything();
  const auto ended = rec_.Ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].first, 3u);
  EXPECT_EQ(
      ended[0].second,
      "pppd exited: we failed to authenticate to the peer (exit 19): we failed to authenticate to the peer "
      "with CHAP: \"Access denied\"");
  // Cleaned up before on_call_ended: channel, files.
  EXPECT_TRUE(datapath_.open().empty());
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(CallDir(3)); }));
  const v1::PppCallStatus st = calls_->Statuses("dialout").at(0);
  EXPECT_EQ(st.phase(), v1::PPP_PHASE_DEAD);
  EXPECT_THAT(st.last_failure(), StartsWith("we failed to authenticate to the peer (exit 19)"));
  ASSERT_TRUE(Phase("dialout", 0, v1::PPP_PHASE_DEAD));
  EXPECT_THAT(rec_.Events(),
              ::testing::Contains(StartsWith(
                  "dialout: call 3 (session 1234): PPP DEAD, pppd exited: we failed to authenticate")));
  const PppCallStats stats = calls_->stats();
  EXPECT_EQ(stats.auth_failures_lac, 1u);
  EXPECT_EQ(stats.auth_failures_lns, 0u);
  EXPECT_EQ(stats.calls_ended, 1u);
  for (uint64_t n : stats.calls_by_phase) EXPECT_EQ(n, 0u);
}

TEST_F(PppCallsTest, TheEndedCallbackMayStartTheNextCall) {
  Behave("ppp-dialout", LacRefused());
  Behave("ppp-redial", LacUp());
  Create();
  rec_.also_on_ended = [this](uint64_t id, const std::string&) {
    calls_->EndCall(id, "already over");  // ignored: no deadlock either
    PppCallStart next = Lac(id + 1, 1235);
    next.session_config.interface_name = "ppp-redial";
    EXPECT_TRUE(calls_->StartCall(next).ok());
  };
  ASSERT_TRUE(calls_->StartCall(Lac(1)).ok());
  ASSERT_TRUE(Phase("dialout", 0, v1::PPP_PHASE_NETWORK)) << rec_.Everything();
  EXPECT_EQ(rec_.Last("dialout").at(0).session_id(), 1235u) << "the LAC's one entry is the new call's";
  EXPECT_EQ(rec_.Last("dialout").size(), 1u);
  rec_.also_on_ended = nullptr;
}

TEST_F(PppCallsTest, LnsCallsGetTheLowestFreeAddresses) {
  Behave("ppp-in1", LnsUp());
  Behave("ppp-in2", LnsUp());
  Behave("ppp-in3", LnsUp());
  Create();
  ASSERT_TRUE(calls_->StartCall(Lns(1, 1)).ok());
  ASSERT_TRUE(calls_->StartCall(Lns(2, 2)).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto last = rec_.Last("dialin");
    return last.size() == 2 && last[0].phase() == v1::PPP_PHASE_NETWORK &&
           last[1].phase() == v1::PPP_PHASE_NETWORK;
  })) << rec_.Everything();
  auto last = rec_.Last("dialin");
  EXPECT_EQ(last[0].peer_address(), "10.8.1.1");
  EXPECT_EQ(last[0].local_address(), "10.8.0.1");
  EXPECT_EQ(last[0].user(), "alice");
  EXPECT_EQ(last[0].session_id(), 101u);
  EXPECT_EQ(last[1].peer_address(), "10.8.1.2");
  EXPECT_EQ(last[1].session_id(), 102u);
  // pppd got the peers' secrets file as given.
  EXPECT_EQ(ReadFile(CallDir(1) + "/pap-secrets"), "alice * \"s3cret-lns\" *\n");

  // The pool is used up: nothing is opened, written or started.
  const int opened = datapath_.opened();
  absl::Status full = calls_->StartCall(Lns(3, 3));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_THAT(std::string(full.message()), HasSubstr("all 2 addresses in use"));
  EXPECT_EQ(datapath_.opened(), opened);
  EXPECT_FALSE(fs::exists(CallDir(3)));
  EXPECT_EQ(calls_->Statuses("dialin").size(), 2u);
  EXPECT_EQ(calls_->stats().calls_started, 2u);

  // A slot in use is refused too.
  EXPECT_EQ(calls_->StartCall(Lns(4, 2)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(calls_->StartCall(Lns(2, 3)).code(), absl::StatusCode::kAlreadyExists);

  // Ending call 1 gives its address back at once: the next call takes it.
  calls_->EndCall(1, "CDN from the peer");
  EXPECT_EQ(calls_->Statuses("dialin").at(0).phase(), v1::PPP_PHASE_DEAD);
  ASSERT_TRUE(calls_->StartCall(Lns(5, 3)).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto l = rec_.Last("dialin");
    return l.size() == 3 && l[2].phase() == v1::PPP_PHASE_NETWORK;
  })) << rec_.Everything();
  last = rec_.Last("dialin");
  EXPECT_EQ(last[0].phase(), v1::PPP_PHASE_DEAD) << "slot 1's ended call is kept until its next call";
  EXPECT_EQ(last[0].last_failure(), "CDN from the peer");
  EXPECT_EQ(last[2].peer_address(), "10.8.1.1");
  EXPECT_EQ(calls_->stats().calls_by_phase[2], 2u);

  // Slot 1's next call replaces its DEAD entry.
  calls_->EndCall(2, "CDN from the peer");
  ASSERT_TRUE(calls_->StartCall(Lns(6, 1)).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto l = rec_.Last("dialin");
    return l.size() == 3 && l[0].phase() == v1::PPP_PHASE_NETWORK;
  })) << rec_.Everything();
  EXPECT_EQ(rec_.Last("dialin")[0].peer_address(), "10.8.1.2");
}

TEST_F(PppCallsTest, AnLnsPeerFailingAuthenticationIsCounted) {
  Behave("ppp-in1", LnsPeerRefused());
  Create();
  ASSERT_TRUE(calls_->StartCall(Lns(1, 1)).ok());
  ASSERT_TRUE(WaitFor([&] { return !rec_.Ended().empty(); }));
  EXPECT_EQ(rec_.Ended()[0].second,
            "pppd exited: the peer failed to authenticate (exit 11): the peer \"mallory\" failed CHAP "
            "authentication");
  EXPECT_EQ(calls_->stats().auth_failures_lns, 1u);
  EXPECT_EQ(calls_->stats().auth_failures_lac, 0u);
  // Its address went back: the next call gets the lowest again.
  Behave("ppp-in2", LnsUp());
  ASSERT_TRUE(calls_->StartCall(Lns(2, 2)).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto l = rec_.Last("dialin");
    return l.size() == 2 && l[1].phase() == v1::PPP_PHASE_NETWORK;
  }));
  EXPECT_EQ(rec_.Last("dialin")[1].peer_address(), "10.8.1.1");
}

TEST_F(PppCallsTest, SecretsAreReadWhenEachCallStarts) {
  Behave("ppp-dialout", LacUp());
  Behave("ppp-in1", LnsUp());
  Create();
  ASSERT_TRUE(calls_->StartCall(Lac(1)).ok());
  ASSERT_TRUE(calls_->StartCall(Lns(2, 1)).ok());
  EXPECT_THAT(ReadFile(CallDir(1) + "/chap-secrets"), HasSubstr("\"s3cret-one\""));
  EXPECT_THAT(ReadFile(CallDir(2) + "/chap-secrets"), HasSubstr("s3cret-lns"));
  calls_->EndCall(1, "done");
  calls_->EndCall(2, "done");

  WriteFile(root_ + "/password", "s3cret-two\n");
  WriteFile(root_ + "/secrets", "bob * \"s3cret-lns-2\" 10.8.1.1\n");
  ASSERT_TRUE(calls_->StartCall(Lac(3)).ok());
  ASSERT_TRUE(calls_->StartCall(Lns(4, 1)).ok());
  EXPECT_THAT(ReadFile(CallDir(3) + "/chap-secrets"), HasSubstr("\"s3cret-two\""));
  EXPECT_THAT(ReadFile(CallDir(3) + "/chap-secrets"), Not(HasSubstr("s3cret-one")));
  EXPECT_EQ(ReadFile(CallDir(4) + "/chap-secrets"), "bob * \"s3cret-lns-2\" 10.8.1.1\n");
  ASSERT_TRUE(Phase("dialout", 0, v1::PPP_PHASE_NETWORK));
  ASSERT_TRUE(Phase("dialin", 0, v1::PPP_PHASE_NETWORK));
  EXPECT_THAT(rec_.Everything(), Not(HasSubstr("s3cret")));
}

TEST_F(PppCallsTest, StartFailuresLeaveNothingBehind) {
  Behave("ppp-in1", LnsUp());
  Create();
  // A secrets file that cannot be read: before any channel.
  PppCallStart bad = Lac(1);
  bad.ppp.set_password_file(root_ + "/missing");
  absl::Status st = calls_->StartCall(bad);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "ppp.password_file: cannot read the secret file: No such file or directory");
  EXPECT_EQ(datapath_.opened(), 0);

  // Secrets pppd must not take: refused before the datapath opens anything.
  WriteFile(root_ + "/secrets", "alice * pw * -- plugin evil.so\n");
  st = calls_->StartCall(Lns(2, 1));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_EQ(st.message(),
            "ppp.secrets_file: line 1: \"--\" starts pppd options, which a secrets file may not give here");
  EXPECT_EQ(datapath_.opened(), 0);
  EXPECT_FALSE(fs::exists(CallDir(2)));

  // No pppd: the same, and the address goes back to the pool.
  WriteFile(root_ + "/secrets", "alice * pw *\n");
  options_.pppd_path = root_ + "/no-such-pppd";
  calls_.reset();
  Create();
  st = calls_->StartCall(Lns(3, 1));
  EXPECT_THAT(std::string(st.message()), HasSubstr("cannot start pppd: exec"));
  EXPECT_TRUE(datapath_.open().empty());
  EXPECT_FALSE(fs::exists(CallDir(3)));
  EXPECT_TRUE(calls_->Statuses("dialin").empty());
  EXPECT_EQ(calls_->stats().calls_started, 0u);

  // The datapath refusing: the address is released as well.
  options_.pppd_path = root_ + "/fake-pppd";
  calls_.reset();
  Create();
  PppCallStart first = Lns(4, 1);
  ASSERT_TRUE(calls_->StartCall(first).ok());
  PppCallStart clash = Lns(5, 2);
  clash.session_config.session_id = first.session_config.session_id;  // ALREADY_EXISTS in the datapath
  EXPECT_EQ(calls_->StartCall(clash).code(), absl::StatusCode::kAlreadyExists);
  Behave("ppp-in2", LnsUp());
  ASSERT_TRUE(calls_->StartCall(Lns(6, 2)).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto l = rec_.Last("dialin");
    return l.size() == 2 && l[1].phase() == v1::PPP_PHASE_NETWORK;
  }));
  EXPECT_EQ(rec_.Last("dialin")[1].peer_address(), "10.8.1.2") << "10.8.1.2 came back after the clash";
}

TEST_F(PppCallsTest, StopEndsEveryCallEvenAPppdIgnoringSigterm) {
  Behave("ppp-dialout", LacUp());
  Behave("ppp-in1", absl::StrCat(kLcpUp, "trap '' TERM\necho waiting\nwhile :; do sleep 0.05; done\n"));
  options_.stop_timeout = std::chrono::milliseconds(300);
  Create();
  ASSERT_TRUE(calls_->StartCall(Lac(1)).ok());
  ASSERT_TRUE(calls_->StartCall(Lns(2, 1)).ok());
  const pid_t lac = PidOf("ppp-dialout");
  const pid_t lns = PidOf("ppp-in1");
  ASSERT_TRUE(Phase("dialout", 0, v1::PPP_PHASE_NETWORK));
  ASSERT_TRUE(Phase("dialin", 0, v1::PPP_PHASE_AUTHENTICATING));
  const auto begin = std::chrono::steady_clock::now();
  calls_->Stop();
  const auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(took, std::chrono::milliseconds(250)) << "waited for the SIGKILL";
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  EXPECT_TRUE(ProcessGone(lac));
  EXPECT_TRUE(ProcessGone(lns));
  EXPECT_FALSE(fs::exists(CallDir(1)));
  EXPECT_FALSE(fs::exists(CallDir(2)));
  EXPECT_TRUE(datapath_.open().empty());
  EXPECT_TRUE(rec_.Ended().empty());
  EXPECT_EQ(calls_->Statuses("dialout").at(0).last_failure(), "the agent is stopping");
  EXPECT_EQ(calls_->StartCall(Lac(3)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(CallDir(3)));
  const PppCallStats stats = calls_->stats();
  EXPECT_EQ(stats.calls_ended, 2u);
  for (uint64_t n : stats.calls_by_phase) EXPECT_EQ(n, 0u);
  calls_->Stop();  // idempotent
}

TEST_F(PppCallsTest, ForgetSessionEndsItsCallsAndDropsItsPool) {
  Behave("ppp-in1", LnsUp());
  Create();
  ASSERT_TRUE(calls_->StartCall(Lns(1, 1)).ok());
  const pid_t pid = PidOf("ppp-in1");
  calls_->ForgetSession("dialin");
  EXPECT_TRUE(calls_->Statuses("dialin").empty());
  EXPECT_TRUE(datapath_.open().empty());
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(pid); }));
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(CallDir(1)); }));
  // A new pool from the (changed) spec.
  PppCallStart next = Lns(2, 1);
  next.ppp.set_remote_address_pool("10.9.0.0/30");
  Behave("ppp-in1", LnsUp());
  ASSERT_TRUE(calls_->StartCall(next).ok());
  // (on_status said nothing of the forgotten session: the recorder still
  // has its last word, so wait for the new call's.)
  ASSERT_TRUE(WaitFor([&] {
    auto l = rec_.Last("dialin");
    return l.size() == 1 && l[0].session_id() == 101 && l[0].phase() == v1::PPP_PHASE_NETWORK &&
           l[0].peer_address() == "10.9.0.1";
  })) << rec_.Everything();
  EXPECT_EQ(calls_->Statuses("dialin").size(), 1u);
}

TEST_F(PppCallsTest, CallDirectoriesLeftByACrashAreRemoved) {
  fs::create_directories(run_dir_ + "/call-7");
  WriteFile(run_dir_ + "/call-7/chap-secrets", "alice * old *\n");
  fs::create_directories(run_dir_ + "/other");
  Create();
  EXPECT_FALSE(fs::exists(run_dir_ + "/call-7"));
  EXPECT_TRUE(fs::exists(run_dir_ + "/other")) << "only what looks like ours";
}

TEST_F(PppCallsTest, CreateChecksItsOptions) {
  PppCallsOptions o = options_;
  o.datapath = nullptr;
  EXPECT_EQ(PppCalls::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o = options_;
  o.run_dir = "";
  EXPECT_EQ(PppCalls::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace l2tp
