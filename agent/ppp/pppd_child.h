// The forked child's side of starting pppd, from fork to exec.
//
// The agent has threads, so between fork and exec the child may only make
// async-signal-safe calls (another thread may have held malloc's lock at the
// fork): every string and array the child uses is made before the fork, in
// PrepareChild, and RunChild only makes system calls on them.
//
// What the child does:
//  1. signals back to their defaults and unblocked (the agent blocks
//     SIGTERM and SIGINT in every thread, and a blocked mask survives exec:
//     pppd would never see our SIGTERM);
//  2. setsid(): pppd leads its own process group, so stopping it can reach
//     anything it started, and the agent's terminal sends it nothing; and
//     chdir("/");
//  3. a mount namespace of its own: unshare(CLONE_NEWNS), / made a
//     recursive private mount (nothing below propagates back to the host);
//  4. the call's directory bind-mounted over <etc>/ppp (nosuid, nodev,
//     noexec): pppd reads the call's secrets and options there, and finds
//     none of the host's (no ip-up scripts either). When <etc>/ppp does not
//     exist (pppd's package makes it; a host without it has nothing to
//     hide), a tmpfs is mounted over <etc> in the namespace and every entry
//     of the real <etc> bind-mounted (or, for symlinks, copied) into it,
//     plus a ppp/ for the call's directory: the host's <etc> is not touched;
//  5. stdin from /dev/null, stdout and stderr to the log pipe, the PPPoL2TP
//     socket at the number pppd's argv names, every other descriptor closed
//     at exec (close_range CLOSE_RANGE_CLOEXEC, else one fcntl each);
//  6. execve(pppd, argv, {PATH=...}): none of the agent's environment.
// A failing step writes a ChildError to the error pipe (close-on-exec, so
// the parent reads EOF when exec succeeded) and exits 127.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace l2tp::ppp {

struct ChildPlan {
  std::string pppd_path;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<char*> argv_ptrs;  // into argv, nullptr-terminated
  std::vector<char*> env_ptrs;

  std::string call_dir;
  std::string etc_ppp;  // <etc>/ppp
  // Only when <etc>/ppp is missing: the real <etc> and its entries. etc_fd
  // reserves a descriptor number: the child opens <etc> again inside its
  // namespace onto it, and reaches the entries through /proc/self/fd/<etc_fd>
  // once the tmpfs covers <etc>.
  std::string etc_dir;
  int etc_fd = -1;
  struct Entry {
    enum Kind { kDirectory, kSymlink, kOther } kind = kOther;
    std::string source;  // /proc/self/fd/<etc_fd>/<name>
    std::string target;  // <etc>/<name>
    std::string link;    // a symlink's target
  };
  std::vector<Entry> mirror;
  bool mirror_etc() const { return etc_fd >= 0; }

  int socket_fd = -1;  // the PPPoL2TP socket, here
  int target_fd = 3;   // its number in pppd
  int output_fd = -1;  // the log pipe's write end
  int null_fd = -1;    // /dev/null
  int error_fd = -1;   // the error pipe's write end
  int max_fd = 1024;   // the fallback closes up to here
};

// The steps of RunChild a ChildError names.
enum class ChildStep : int32_t {
  kSignals,
  kSession,
  kUnshare,
  kPrivateRoot,
  kMirrorTmpfs,
  kMirrorEntry,
  kMakeEtcPpp,
  kBindCallDir,
  kStdio,
  kSocket,
  kCloseOthers,
  kExec,
};

struct ChildError {
  ChildStep step = ChildStep::kExec;
  int32_t index = 0;  // kMirrorEntry: which entry
  int32_t error = 0;  // errno
};

// Fills the plan's paths, argv, environment and (when <etc>/ppp is missing)
// the mirror of <etc>; the descriptors are the caller's to set. Errors name
// the path.
absl::StatusOr<ChildPlan> PrepareChild(std::string pppd_path, std::vector<std::string> argv,
                                       std::string call_dir, const std::string& etc_dir);

// Runs in the child; never returns.
[[noreturn]] void RunChild(const ChildPlan& plan);

// "bind-mounting /run/x/call over /etc/ppp: Operation not permitted".
std::string DescribeChildError(const ChildPlan& plan, const ChildError& error);

// Closes the mirror's descriptor (the parent's copy, after the fork).
void ReleaseChildPlan(ChildPlan& plan);

}  // namespace l2tp::ppp
