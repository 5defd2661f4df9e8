// PppdProcess with a fake pppd: a shell script this test writes, which
// reports what a real pppd would find (its descriptors, its /etc/ppp, its
// signal mask, its environment), prints a scripted pppd log and exits or
// waits for SIGTERM. Needs root (a mount namespace); skipped otherwise.
#include "agent/ppp/pppd_process.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace l2tp::ppp {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kLnsChap = R"(Plugin pppol2tp.so loaded.
pppd 2.4.9 started by root, uid 0
Using interface ppp-lns3
sent [LCP ConfReq id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x1d2c3b4a>]
rcvd [LCP ConfReq id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
sent [LCP ConfAck id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
rcvd [LCP ConfAck id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x1d2c3b4a>]
sent [CHAP Challenge id=0x2c <1b6e94a7c03f52d8e61a0b4c7d9f3e25>, name = "lns.example"]
rcvd [CHAP Response id=0x2c <9f8e7d6c5b4a39281706f5e4d3c2b1a0>, name = "alice"]
sent [CHAP Success id=0x2c "Access granted"]
sent [IPCP ConfReq id=0x1 <addr 10.0.0.1>]
rcvd [IPCP ConfReq id=0x2 <addr 10.0.0.2>]
sent [IPCP ConfAck id=0x2 <addr 10.0.0.2>]
rcvd [IPCP ConfAck id=0x1 <addr 10.0.0.1>]
local  IP address 10.0.0.1
remote IP address 10.0.0.2
)";

constexpr std::string_view kLnsChapFailure = R"(Plugin pppol2tp.so loaded.
pppd 2.4.9 started by root, uid 0
Using interface ppp-lns3
sent [LCP ConfAck id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
rcvd [LCP ConfAck id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x1d2c3b4a>]
rcvd [CHAP Response id=0x1 <9f8e7d6c5b4a39281706f5e4d3c2b1a0>, name = "mallory"]
Peer mallory failed CHAP authentication
sent [CHAP Failure id=0x1 "Access denied"]
sent [LCP TermReq id=0x2 "Authentication failed"]
Connection terminated.
)";

// What the fake pppd does once its checks are printed.
// Each says "waiting" once its trap is set: a SIGTERM before that would
// kill the shell.
constexpr std::string_view kWaitForTerm = R"(trap 'echo "Terminating on signal 15"; exit 5' TERM
echo waiting
while :; do sleep 0.05; done)";
constexpr std::string_view kIgnoreTerm = R"(trap '' TERM
echo waiting
while :; do sleep 0.05; done)";

class PppdProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (a mount namespace per pppd)";
    char tmpl[] = "/tmp/pppd_process_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ + "/state");  // the agent's --state-dir
    options_.run_dir = root_ + "/state/ppp";
    options_.call = "t1.s1.c1";
    options_.stop_timeout = std::chrono::milliseconds(2000);
    // The PPPoL2TP socket's stand-in: any socket will do for a fake pppd.
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, socket_), 0);
    // A descriptor the agent forgot to mark close-on-exec: pppd must not get it.
    leaked_ = open("/dev/null", O_RDONLY);
    ASSERT_GE(leaked_, 0);
    setenv("L2TP_TEST_AGENT_ONLY", "not for pppd", 1);
    host_etc_ppp_before_ = Snapshot("/etc/ppp");
  }

  void TearDown() override {
    if (root_.empty()) return;
    EXPECT_EQ(Snapshot("/etc/ppp"), host_etc_ppp_before_) << "the host's /etc/ppp changed";
    close(socket_[0]);
    close(socket_[1]);
    close(leaked_);
    unsetenv("L2TP_TEST_AGENT_ONLY");
    fs::remove_all(root_);
  }

  // Every file under `dir` with its bytes and mtime ("" when `dir` is missing).
  static std::map<std::string, std::string> Snapshot(const std::string& dir) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    struct stat top {};
    lstat(dir.c_str(), &top);
    out[dir] = absl::StrCat(top.st_mode, " ", top.st_mtim.tv_sec, ".", top.st_mtim.tv_nsec);
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
      struct stat st {};
      lstat(e.path().c_str(), &st);
      std::string content;
      if (e.is_regular_file()) content = Read(e.path());
      out[e.path()] = absl::StrCat(st.st_mode, " ", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, " ", content);
    }
    return out;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static std::string Sha256(const std::string& path) {
    FILE* p = popen(("sha256sum < " + path).c_str(), "r");
    char buf[128] = {};
    const size_t n = fread(buf, 1, sizeof buf - 1, p);
    pclose(p);
    return std::string(buf, n).substr(0, 64);
  }

  // Writes the fake pppd: checks, then `transcript`, then `then`.
  std::string FakePppd(std::string_view transcript, std::string_view then, const std::string& etc = "/etc") {
    const std::string path = root_ + "/fake-pppd";
    std::string text(transcript);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::ofstream out(path);
    out << absl::StrReplaceAll(R"SH(#!/bin/sh
fd=; prev=
for a in "$@"; do
  [ "$prev" = pppol2tp ] && fd=$a
  prev=$a
done
echo "ARGS: $*"
if [ -n "$fd" ] && [ -e /proc/self/fd/$fd ]; then echo "SOCKET: open $fd"; else echo "SOCKET: missing $fd"; fi
echo "FDS: $(ls -l /proc/self/fd | awk 'NR > 1 && $NF !~ /^\/proc\// { print $9 }' | sort -n | tr '\n' ' ')"
echo "ETC_PPP: $(ls -A @ETC@/ppp | tr '\n' ' ')"
echo "CHAP_SHA256: $(sha256sum < @ETC@/ppp/chap-secrets | cut -c1-64)"
echo "OPTIONS_SHA256: $(sha256sum < @ETC@/ppp/options | cut -c1-64)"
echo "MOUNT_NS: $(readlink /proc/self/ns/mnt)"
echo "$(grep SigBlk /proc/$$/status)"
echo "ENV: $(env | sort | tr '\n' ' ')"
echo "CWD: $(pwd)"
cat <<'TRANSCRIPT'
@TRANSCRIPT@
TRANSCRIPT
@THEN@
)SH",
                               {{"@ETC@", etc}, {"@TRANSCRIPT@", text}, {"@THEN@", std::string(then)}});
    out.close();
    chmod(path.c_str(), 0755);
    return path;
  }

  static PppOptions Lns() {
    PppOptions o;
    o.side = PppSide::kLns;
    o.interface = "ppp-lns3";
    o.tunnel_id = 40000;
    o.session_id = 7;
    o.lns_mode = true;
    o.local_address = "10.0.0.1";
    o.remote_address = "10.0.0.2";
    o.authentication = PppAuthentication::kChap;
    o.secrets = "alice * \"s3cret password\" *\n";
    return o;
  }

  struct Seen {
    std::vector<PppPhase> phases;
    std::vector<std::string> lines;
    std::vector<PppdExit> exits;
    PppLinkInfo last_link;
    std::string Line(std::string_view prefix) const {
      for (const std::string& l : lines) {
        if (l.starts_with(prefix)) return l.substr(prefix.size());
      }
      return "<no line " + std::string(prefix) + ">";
    }
  };

  PppdCallbacks Callbacks(Seen& seen) {
    PppdCallbacks c;
    c.on_phase = [&seen](PppPhase phase, const PppLinkInfo& link) {
      seen.phases.push_back(phase);
      seen.last_link = link;
    };
    c.on_exit = [&seen](const PppdExit& exit, const PppLinkInfo& link) {
      seen.exits.push_back(exit);
      seen.last_link = link;
    };
    c.on_line = [&seen](std::string_view line) { seen.lines.emplace_back(line); };
    return c;
  }

  // Polls the process like its owner would, until `done` or 5 s.
  static bool RunUntil(PppdProcess& p, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd pfd{p.fd(), POLLIN, 0};
      poll(&pfd, p.fd() >= 0 ? 1 : 0, 50);
      p.ReadAvailable();
    }
    return true;
  }

  // Reaped: not our child any more, and gone from /proc (no zombie).
  static void ExpectReaped(pid_t pid) {
    errno = 0;
    EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD) << "pppd " << pid << " is still our child";
    EXPECT_FALSE(fs::exists("/proc/" + std::to_string(pid))) << "pppd " << pid << " is still there";
  }

  static bool Saw(const Seen& seen, std::string_view line) {
    return std::find(seen.lines.begin(), seen.lines.end(), line) != seen.lines.end();
  }

  std::string root_;
  PppdProcessOptions options_;
  int socket_[2] = {-1, -1};
  int leaked_ = -1;
  std::map<std::string, std::string> host_etc_ppp_before_;
};

TEST_F(PppdProcessTest, LnsCallUpThenStopped) {
  options_.pppd_path = FakePppd(kLnsChap, kWaitForTerm);
  Seen seen;
  // The agent blocks SIGTERM in every thread (shutdown_signal.cc): pppd must
  // not inherit that.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(started.ok()) << started.status();
  PppdProcess& pppd = **started;
  const std::string dir = pppd.directory();
  const pid_t pid = pppd.pid();
  EXPECT_EQ(dir, root_ + "/state/ppp/t1.s1.c1");

  ASSERT_TRUE(RunUntil(pppd, [&] { return Saw(seen, "waiting"); }));
  EXPECT_EQ(pppd.link().phase, PppPhase::kNetwork);
  EXPECT_THAT(seen.phases, ElementsAre(PppPhase::kAuthenticating, PppPhase::kNetwork));
  EXPECT_EQ(seen.last_link.peer_user, "alice");
  EXPECT_EQ(seen.last_link.local_address, "10.0.0.1");
  EXPECT_EQ(seen.last_link.remote_address, "10.0.0.2");
  EXPECT_EQ(seen.last_link.interface, "ppp-lns3");
  EXPECT_TRUE(pppd.running());

  // What pppd got: its argv, the socket as descriptor 3 and nothing else,
  // the call's files as /etc/ppp, no blocked signals, no agent environment.
  EXPECT_EQ(seen.Line("ARGS: "),
            "plugin pppol2tp.so pppol2tp 3 pppol2tp_lns_mode pppol2tp_tunnel_id 40000 "
            "pppol2tp_session_id 7 nodetach ifname ppp-lns3 file " +
                dir + "/options");
  EXPECT_EQ(seen.Line("SOCKET: "), "open 3");
  EXPECT_EQ(seen.Line("FDS: "), "0 1 2 3 ");
  EXPECT_EQ(seen.Line("ETC_PPP: "), "chap-secrets options pap-secrets ");
  EXPECT_EQ(seen.Line("CHAP_SHA256: "), Sha256(dir + "/chap-secrets"));
  EXPECT_EQ(seen.Line("OPTIONS_SHA256: "), Sha256(dir + "/options"));
  EXPECT_NE(seen.Line("MOUNT_NS: "), fs::read_symlink("/proc/self/ns/mnt").string());
  EXPECT_EQ(seen.Line("SigBlk:"), "\t0000000000000000");
  EXPECT_THAT(seen.Line("ENV: "), HasSubstr("PATH=/usr/sbin:/usr/bin:/sbin:/bin "));
  EXPECT_THAT(seen.Line("ENV: "), Not(HasSubstr("L2TP_TEST_AGENT_ONLY")));
  EXPECT_EQ(seen.Line("CWD: "), "/");
  EXPECT_EQ(Read(dir + "/chap-secrets"), Lns().secrets);
  for (const char* name : {"chap-secrets", "pap-secrets", "options"}) {
    EXPECT_EQ(fs::status(dir + "/" + name).permissions(), fs::perms::owner_read | fs::perms::owner_write)
        << name;
  }
  EXPECT_EQ(fs::status(dir).permissions(), fs::perms::owner_all);
  for (const std::string& line : seen.lines) EXPECT_THAT(line, Not(HasSubstr("s3cret")));

  pppd.Stop();
  EXPECT_FALSE(pppd.running());
  ASSERT_EQ(seen.exits.size(), 1u);
  EXPECT_EQ(seen.exits[0].words, "pppd was stopped (SIGINT, SIGTERM or SIGHUP)");
  EXPECT_EQ(seen.last_link.phase, PppPhase::kDead);
  EXPECT_EQ(seen.lines.back(), "Terminating on signal 15");
  ExpectReaped(pid);
  pppd.Stop();  // idempotent
  EXPECT_EQ(seen.exits.size(), 1u);

  started->reset();
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(PppdProcessTest, ExitStatusInWords) {
  options_.pppd_path = FakePppd(kLnsChapFailure, "exit 11");
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  PppdProcess& pppd = **started;
  const pid_t pid = pppd.pid();
  ASSERT_TRUE(RunUntil(pppd, [&] { return !pppd.running(); }));
  ASSERT_EQ(seen.exits.size(), 1u);
  EXPECT_EQ(seen.exits[0].words, "the peer failed to authenticate");
  EXPECT_THAT(seen.phases, ElementsAre(PppPhase::kAuthenticating));
  EXPECT_EQ(seen.last_link.auth_failure, "the peer \"mallory\" failed CHAP authentication");
  EXPECT_EQ(seen.last_link.phase, PppPhase::kDead);
  EXPECT_EQ(pppd.fd(), -1);
  ExpectReaped(pid);
  const std::string dir = pppd.directory();
  EXPECT_TRUE(fs::exists(dir));  // until the owner lets go of the call
  started->reset();
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(PppdProcessTest, StopKillsAPppdThatIgnoresSigterm) {
  options_.pppd_path = FakePppd("", kIgnoreTerm);
  options_.stop_timeout = std::chrono::milliseconds(300);
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  PppdProcess& pppd = **started;
  const pid_t pid = pppd.pid();
  ASSERT_TRUE(RunUntil(pppd, [&] { return Saw(seen, "waiting"); }));
  const auto begin = std::chrono::steady_clock::now();
  pppd.Stop();
  const auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  ASSERT_EQ(seen.exits.size(), 1u);
  EXPECT_EQ(seen.exits[0].words, "pppd was killed by signal 9 (SIGKILL)");
  ExpectReaped(pid);
}

TEST_F(PppdProcessTest, TheDestructorStopsPppdAndRemovesTheDirectory) {
  options_.pppd_path = FakePppd(kLnsChap, kWaitForTerm);
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  const pid_t pid = (*started)->pid();
  const std::string dir = (*started)->directory();
  started->reset();
  EXPECT_TRUE(seen.exits.empty());  // no call back from a destructor
  ExpectReaped(pid);
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(PppdProcessTest, WithoutPidfdTheExitIsSeenWhenTheLogCloses) {
  options_.pppd_path = FakePppd(kLnsChapFailure, "exit 19");
  options_.use_pidfd = false;
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  PppdProcess& pppd = **started;
  ASSERT_TRUE(RunUntil(pppd, [&] { return !pppd.running(); }));
  ASSERT_EQ(seen.exits.size(), 1u);
  EXPECT_EQ(seen.exits[0].words, "we failed to authenticate to the peer");
  ExpectReaped(pppd.pid());
}

TEST_F(PppdProcessTest, TheSocketGoesToTheNumberArgvNames) {
  options_.pppd_path = FakePppd("", "exit 16");
  PppOptions o = Lns();
  o.pppol2tp_fd = 7;
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, o, socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(RunUntil(**started, [&] { return !(*started)->running(); }));
  EXPECT_EQ(seen.Line("SOCKET: "), "open 7");
  EXPECT_EQ(seen.Line("FDS: "), "0 1 2 7 ");
  EXPECT_EQ(seen.exits.at(0).words, "the link was hung up (the L2TP session ended)");
}

// A pppd whose LCP got no answer exits 16, as for a hangup: its words say
// what happened instead.
TEST_F(PppdProcessTest, GivingUpOnLcpIsToldAsSuch) {
  options_.pppd_path = FakePppd(
      "Using interface ppp-lac0\nsent [LCP ConfReq id=0x1 <magic 0x1>]\n"
      "LCP: timeout sending Config-Requests\nConnection terminated.\nModem hangup\n",
      "exit 16");
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(RunUntil(**started, [&] { return !(*started)->running(); }));
  ASSERT_EQ(seen.exits.size(), 1u);
  EXPECT_EQ(seen.exits[0].words, "pppd gave up negotiating: LCP got no answer to its Configure-Requests");
  EXPECT_EQ(seen.last_link.gave_up, "LCP got no answer to its Configure-Requests");
}

TEST_F(PppdProcessTest, AMissingEtcPppIsMadeInTheNamespaceOnly) {
  // An <etc> without ppp/: a file, a directory, a symlink.
  const std::string etc = root_ + "/etc";
  fs::create_directories(etc + "/sub");
  std::ofstream(etc + "/hosts") << "127.0.0.1 localhost\n";
  std::ofstream(etc + "/sub/inner") << "inner\n";
  fs::create_symlink("hosts", etc + "/link");
  const auto before = Snapshot(etc);
  options_.etc_dir = etc;
  options_.pppd_path = FakePppd("",
                                absl::StrReplaceAll(R"SH(
echo "HOSTS: $(cat @ETC@/hosts)"
echo "INNER: $(cat @ETC@/sub/inner)"
echo "LINK: $(readlink @ETC@/link) $(cat @ETC@/link)"
echo "ETC: $(ls -A @ETC@ | tr '\n' ' ')"
exit 0)SH",
                                                    {{"@ETC@", etc}}),
                                etc);
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(RunUntil(**started, [&] { return !(*started)->running(); }));
  EXPECT_EQ(seen.Line("ETC_PPP: "), "chap-secrets options pap-secrets ");
  EXPECT_EQ(seen.Line("CHAP_SHA256: "), Sha256((*started)->directory() + "/chap-secrets"));
  EXPECT_EQ(seen.Line("HOSTS: "), "127.0.0.1 localhost");
  EXPECT_EQ(seen.Line("INNER: "), "inner");
  EXPECT_EQ(seen.Line("LINK: "), "hosts 127.0.0.1 localhost");
  EXPECT_EQ(seen.Line("ETC: "), "hosts link ppp sub ");
  EXPECT_EQ(seen.exits.at(0).words, "the link was up and the peer ended it");
  EXPECT_EQ(Snapshot(etc), before);
  EXPECT_FALSE(fs::exists(etc + "/ppp"));
}

TEST_F(PppdProcessTest, AnExistingEtcPppIsHidden) {
  const std::string etc = root_ + "/etc";
  fs::create_directories(etc + "/ppp/peers");
  std::ofstream(etc + "/ppp/chap-secrets") << "host * secret *\n";
  std::ofstream(etc + "/ppp/ip-up") << "#!/bin/sh\necho pwned\n";
  const auto before = Snapshot(etc);
  options_.etc_dir = etc;
  options_.pppd_path = FakePppd("", "exit 0", etc);
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(RunUntil(**started, [&] { return !(*started)->running(); }));
  EXPECT_EQ(seen.Line("ETC_PPP: "), "chap-secrets options pap-secrets ");
  EXPECT_EQ(seen.Line("CHAP_SHA256: "), Sha256((*started)->directory() + "/chap-secrets"));
  EXPECT_EQ(Snapshot(etc), before);
}

TEST_F(PppdProcessTest, StartFailuresSayWhyAndLeaveNothing) {
  options_.pppd_path = root_ + "/no-such-pppd";
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0], {});
  EXPECT_EQ(std::string(started.status().message()),
            absl::StrCat("cannot start pppd: exec ", root_, "/no-such-pppd: No such file or directory"));
  EXPECT_FALSE(fs::exists(root_ + "/state/ppp/t1.s1.c1"));

  PppOptions bad = Lns();
  bad.secrets = "alice * pw * -- plugin evil.so\n";
  options_.pppd_path = FakePppd("", "exit 0");
  started = PppdProcess::Start(options_, bad, socket_[0], {});
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(started.status().message()),
            "secrets: line 1: \"--\" starts pppd options, which a secrets file may not give here");
  EXPECT_FALSE(fs::exists(root_ + "/state/ppp/t1.s1.c1"));

  options_.call = "../escape";
  EXPECT_EQ(PppdProcess::Start(options_, Lns(), socket_[0], {}).status().code(),
            absl::StatusCode::kInvalidArgument);

  options_.call = "c2";
  started = PppdProcess::Start(options_, Lns(), /*socket_fd=*/999, {});
  EXPECT_EQ(std::string(started.status().message()),
            "cannot start pppd: giving pppd the PPPoL2TP socket as descriptor 3: Bad file descriptor");
  EXPECT_FALSE(fs::exists(root_ + "/state/ppp/c2"));
}

TEST_F(PppdProcessTest, LongAndUnfinishedLinesAreStillLines) {
  options_.pppd_path = FakePppd("", absl::StrCat("printf '%s' \"", std::string(5000, 'x'),
                                                 "\"\nprintf 'tail'\nexit 0"));
  Seen seen;
  absl::StatusOr<std::unique_ptr<PppdProcess>> started = PppdProcess::Start(options_, Lns(), socket_[0],
                                                                            Callbacks(seen));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(RunUntil(**started, [&] { return !(*started)->running(); }));
  ASSERT_GE(seen.lines.size(), 2u);
  EXPECT_EQ(seen.lines[seen.lines.size() - 2], std::string(4096, 'x'));  // cut
  EXPECT_EQ(seen.lines.back(), std::string(904, 'x') + "tail");          // unfinished at exit
}

}  // namespace
}  // namespace l2tp::ppp
