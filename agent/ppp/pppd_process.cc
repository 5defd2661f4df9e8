#include "agent/ppp/pppd_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"
#include "agent/ppp/pppd_child.h"
#include "agent/ppp/pppd_config.h"
#include "agent/ppp/pppd_exit.h"
#include "agent/ppp/pppd_secrets.h"

namespace l2tp::ppp {
namespace {

// A line longer than this is cut and reported as it is (pppd's own lines
// are at most 1024 bytes).
constexpr size_t kMaxLineBytes = 4096;

// "cannot start pppd: what: strerror" (ErrnoToStatus adds the errno's words).
absl::Status Errno(int error, std::string_view what) {
  return absl::ErrnoToStatus(error, absl::StrCat("cannot start pppd: ", Av(what)));
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

pid_t WaitFor(pid_t pid, int* status, int flags) {
  for (;;) {
    const pid_t r = waitpid(pid, status, flags);
    if (r >= 0 || errno != EINTR) return r;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<PppdProcess>> PppdProcess::Start(const PppdProcessOptions& options,
                                                                const PppOptions& ppp, int socket_fd,
                                                                PppdCallbacks callbacks) {
  // Everything pure first: a refused option touches nothing.
  if (absl::Status s = CheckCallName("call", options.call); !s.ok()) return s;
  const std::string dir_path = absl::StrCat(options.run_dir, "/", options.call);
  const std::string options_path = absl::StrCat(dir_path, "/options");
  absl::StatusOr<std::vector<std::string>> argv = BuildPppdArguments(ppp, options.pppd_path, options_path);
  if (!argv.ok()) return argv.status();
  absl::StatusOr<std::string> options_text = BuildPppdOptionsFile(ppp);
  if (!options_text.ok()) return options_text.status();
  absl::StatusOr<PppdSecretsFiles> secrets = BuildSecretsFiles(ppp);
  if (!secrets.ok()) return secrets.status();

  absl::StatusOr<CallDir> dir = CallDir::Create(options.run_dir, options.call);
  if (!dir.ok()) return dir.status();
  if (absl::Status s = dir->Write("options", *options_text); !s.ok()) return s;
  if (absl::Status s = dir->Write("chap-secrets", secrets->chap_secrets); !s.ok()) return s;
  if (absl::Status s = dir->Write("pap-secrets", secrets->pap_secrets); !s.ok()) return s;

  absl::StatusOr<ChildPlan> plan = PrepareChild(options.pppd_path, *std::move(argv), dir_path,
                                                options.etc_dir);
  if (!plan.ok()) return plan.status();
  absl::Cleanup release_plan = [&plan] { ReleaseChildPlan(*plan); };
  int output[2] = {-1, -1};
  int errors[2] = {-1, -1};
  int null_fd = -1;
  absl::Cleanup close_all = [&] {
    for (int* fd : {&output[0], &output[1], &errors[0], &errors[1], &null_fd}) CloseFd(*fd);
  };
  if (pipe2(output, O_CLOEXEC) != 0) return Errno(errno, "pipe");
  if (pipe2(errors, O_CLOEXEC) != 0) return Errno(errno, "pipe");
  null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return Errno(errno, "open /dev/null");
  plan->socket_fd = socket_fd;
  plan->target_fd = ppp.pppol2tp_fd;
  plan->output_fd = output[1];
  plan->null_fd = null_fd;
  plan->error_fd = errors[1];

  // _Fork (glibc 2.34): fork without the atfork handlers other libraries
  // registered, which have no business in a child that only execs.
  const pid_t pid = _Fork();
  if (pid < 0) return Errno(errno, "fork");
  if (pid == 0) RunChild(*plan);

  CloseFd(output[1]);
  CloseFd(errors[1]);
  CloseFd(null_fd);
  // EOF: exec succeeded (the pipe is close-on-exec). A record: it did not.
  ChildError failure{};
  ssize_t n;
  do {
    n = read(errors[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n != 0) {
    int status = 0;
    WaitFor(pid, &status, 0);
    if (n == sizeof failure) {
      return absl::Status(absl::ErrnoToStatusCode(failure.error),
                          absl::StrCat("cannot start pppd: ", DescribeChildError(*plan, failure)));
    }
    return absl::InternalError(
        absl::StrCat("cannot start pppd: the child failed before exec (", DescribeExit(status), ")"));
  }

  std::unique_ptr<PppdProcess> process(new PppdProcess(options, *std::move(dir), std::move(callbacks)));
  process->pid_ = pid;
  process->pipe_fd_ = std::exchange(output[0], -1);
  fcntl(process->pipe_fd_, F_SETFL, fcntl(process->pipe_fd_, F_GETFL) | O_NONBLOCK);
  // The pid cannot be reused before we reap it, so this pidfd is pppd's.
  // (By number: glibc 2.36's <sys/pidfd.h> lacks extern "C".) -1 before Linux 5.3.
  if (options.use_pidfd) process->pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  process->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (process->epoll_fd_ < 0) return Errno(errno, "epoll_create1");  // the destructor stops pppd
  for (int fd : {process->pipe_fd_, process->pidfd_}) {
    epoll_event event{};
    event.events = EPOLLIN;
    if (fd >= 0 && epoll_ctl(process->epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      return Errno(errno, "epoll_ctl");
    }
  }
  return process;
}

PppdProcess::~PppdProcess() {
  callbacks_ = {};
  Stop();
  for (int* fd : {&pipe_fd_, &pidfd_, &epoll_fd_}) CloseFd(*fd);
}

bool PppdProcess::DrainPipe() {
  if (pipe_fd_ < 0) return true;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(pipe_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;  // EAGAIN: all read
    if (n == 0) return true;
    std::string_view data(buf, static_cast<size_t>(n));
    while (!data.empty()) {
      const size_t newline = data.find('\n');
      const size_t take = std::min({newline, kMaxLineBytes - partial_.size(), data.size()});
      partial_.append(data.substr(0, take));
      data.remove_prefix(take);
      const bool ended = take == newline;
      if (ended) data.remove_prefix(1);
      if (ended || partial_.size() >= kMaxLineBytes) {
        Line(partial_);
        partial_.clear();
      }
    }
  }
}

void PppdProcess::Line(std::string_view line) {
  if (callbacks_.on_line) callbacks_.on_line(line);
  const PppPhase before = parser_.link().phase;
  if (!parser_.Feed(line)) return;
  // A line can prove a later phase at once: the ones between count as reached.
  for (int p = static_cast<int>(before) + 1; p <= static_cast<int>(parser_.link().phase); ++p) {
    reached_.push_back(static_cast<PppPhase>(p));
  }
}

void PppdProcess::ReportPhases() {
  std::vector<PppPhase> reached = std::move(reached_);
  reached_.clear();
  for (PppPhase phase : reached) {
    if (callbacks_.on_phase) callbacks_.on_phase(phase, parser_.link());
  }
}

void PppdProcess::ReadAvailable() {
  if (!running()) return;
  const bool eof = DrainPipe();
  ReportPhases();
  int status = 0;
  // Without a pidfd, the pipe's end is the sign: pppd closed it by exiting.
  const pid_t reaped = WaitFor(pid_, &status, pidfd_ < 0 && eof ? 0 : WNOHANG);
  if (reaped == pid_) {
    Finish(status);
  } else if (eof && pipe_fd_ >= 0) {
    // Nothing more to read, but pppd runs on: stop polling the pipe.
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, pipe_fd_, nullptr);
    CloseFd(pipe_fd_);
  }
}

void PppdProcess::Finish(int wait_status) {
  DrainPipe();  // what pppd wrote last
  if (!partial_.empty()) Line(partial_);
  partial_.clear();
  ReportPhases();
  for (int* fd : {&pipe_fd_, &pidfd_, &epoll_fd_}) CloseFd(*fd);
  parser_.MarkDead();
  exit_ = PppdExit{wait_status, DescribeExit(wait_status, parser_.link().gave_up)};
  if (callbacks_.on_exit) callbacks_.on_exit(*exit_, parser_.link());
}

void PppdProcess::Stop() {
  if (!running()) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_timeout;
  while (running()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                                   std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    // Without a pidfd an exit may not wake us (a child of pppd holding the
    // pipe): look again every 50 ms.
    const int wait_ms = static_cast<int>(pidfd_ >= 0 ? left.count() : std::min<int64_t>(left.count(), 50));
    pollfd p{epoll_fd_, POLLIN, 0};
    poll(&p, epoll_fd_ >= 0 ? 1 : 0, wait_ms);
    ReadAvailable();
  }
  if (!running()) return;
  // The whole group (setsid in the child): pppd and anything it started.
  // pppd is not reaped yet, so its pid and group id are still its own.
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status = 0;
  if (WaitFor(pid_, &status, 0) == pid_) Finish(status);
}

}  // namespace l2tp::ppp
