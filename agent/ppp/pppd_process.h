// One call's pppd: its private directory, its process in a mount namespace
// of its own (pppd_child.h), its log read into a PppdLogParser, its end.
//
// The owner polls fd() (POLLIN) with its other descriptors and calls
// ReadAvailable() when it is readable: pppd's log lines are read, phase
// changes and the exit reported through the callbacks, on the owner's
// thread (do not destroy the PppdProcess from one). Poll it: pppd blocks
// once its log pipe (64 KiB) is full. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/ppp/call_dir.h"
#include "agent/ppp/ppp_options.h"
#include "agent/ppp/pppd_log_parser.h"

namespace l2tp::ppp {

struct PppdProcessOptions {
  std::string pppd_path = "/usr/sbin/pppd";
  std::string run_dir;  // <state-dir>/ppp: made (0700) if missing; its parent must exist
  std::string call;     // the call's directory under run_dir (call_dir.h)
  // Where pppd looks for ppp/ (its secrets). Tests point it elsewhere.
  std::string etc_dir = "/etc";
  // Stop(): how long pppd has after SIGTERM before SIGKILL.
  std::chrono::milliseconds stop_timeout = std::chrono::seconds(5);
  // Tests turn it off to exercise the fallback (exit seen when the log
  // pipe closes) of kernels without pidfd_open (before 5.3).
  bool use_pidfd = true;
};

struct PppdExit {
  int wait_status = 0;  // as waitpid reports it
  std::string words;    // DescribeExit(wait_status, what the log said pppd gave up on)
};

struct PppdCallbacks {
  // The phase moved forward to `phase` (ESTABLISHING is where it starts),
  // once per phase, in order. Called after all the lines read at once, so
  // `link` also holds what came right after (pppd logs the DNS servers just
  // after the addresses); link() is current at any time.
  std::function<void(PppPhase phase, const PppLinkInfo& link)> on_phase;
  // pppd exited (link.phase is DEAD): once, last.
  std::function<void(const PppdExit& exit, const PppLinkInfo& link)> on_exit;
  // Every line pppd wrote. Its packet dumps (sent/rcvd [...]) hold CHAP
  // challenges and responses: log them at debug level at most.
  std::function<void(std::string_view line)> on_line;
};

class PppdProcess {
 public:
  // Writes the call's directory (options, chap-secrets, pap-secrets) and
  // starts pppd with `socket_fd` (the PPPoL2TP socket; the caller keeps its
  // own descriptor and closes it when the call ends) as ppp.pppol2tp_fd.
  // Returns once pppd is exec'd, or with why it could not be: an option
  // (INVALID_ARGUMENT, naming the field), the directory, or the step of
  // the namespace setup that failed ("bind-mounting ... over /etc/ppp:
  // Operation not permitted").
  static absl::StatusOr<std::unique_ptr<PppdProcess>> Start(const PppdProcessOptions& options,
                                                            const PppOptions& ppp, int socket_fd,
                                                            PppdCallbacks callbacks);

  // Stops pppd (without calling back) and removes the call's directory.
  ~PppdProcess();
  PppdProcess(const PppdProcess&) = delete;
  PppdProcess& operator=(const PppdProcess&) = delete;

  // Readable when pppd wrote something or exited; -1 once it exited.
  int fd() const { return epoll_fd_; }
  // Reads what pppd wrote, reports it, and reaps pppd if it exited.
  void ReadAvailable();
  // SIGTERM, up to stop_timeout for pppd to end the link and exit, then
  // SIGKILL to its process group. Reaps it and reports the exit. Idempotent.
  void Stop();

  bool running() const { return !exit_.has_value(); }
  const std::optional<PppdExit>& exit() const { return exit_; }
  pid_t pid() const { return pid_; }
  const PppLinkInfo& link() const { return parser_.link(); }
  const std::string& directory() const { return dir_.path(); }

 private:
  PppdProcess(PppdProcessOptions options, CallDir dir, PppdCallbacks callbacks)
      : options_(std::move(options)), dir_(std::move(dir)), callbacks_(std::move(callbacks)) {}

  // Reads the pipe until it would block; true at end of file.
  bool DrainPipe();
  void Line(std::string_view line);
  void ReportPhases();
  void Finish(int wait_status);

  PppdProcessOptions options_;
  CallDir dir_;
  PppdCallbacks callbacks_;
  PppdLogParser parser_;
  pid_t pid_ = -1;
  int pipe_fd_ = -1;               // pppd's stdout and stderr, read end, non-blocking
  int pidfd_ = -1;                 // readable once pppd exited; -1 without pidfd_open
  int epoll_fd_ = -1;              // both of the above
  std::string partial_;            // a line not yet ended
  std::vector<PppPhase> reached_;  // phases not yet reported
  std::optional<PppdExit> exit_;
};

}  // namespace l2tp::ppp
