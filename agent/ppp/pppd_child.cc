#include "agent/ppp/pppd_child.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"

namespace l2tp::ppp {
namespace {

// "what: strerror" (ErrnoToStatus adds the errno's words).
absl::Status Errno(int error, std::string_view what) { return absl::ErrnoToStatus(error, Av(what)); }

// The entries of the real <etc>, to mirror when <etc>/ppp is missing.
absl::Status ListEtc(ChildPlan& plan) {
  plan.etc_fd = open(plan.etc_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (plan.etc_fd < 0) return Errno(errno, absl::StrCat("open ", plan.etc_dir));
  const int list_fd = open(plan.etc_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = list_fd < 0 ? nullptr : fdopendir(list_fd);
  if (dir == nullptr) {
    const int error = errno;
    if (list_fd >= 0) close(list_fd);
    return Errno(error, absl::StrCat("opendir ", plan.etc_dir));
  }
  absl::Status status;
  while (dirent* d = readdir(dir)) {
    const std::string name = d->d_name;
    if (name == "." || name == ".." || name == "ppp") continue;
    struct stat st {};
    if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    ChildPlan::Entry entry;
    entry.source = absl::StrCat("/proc/self/fd/", plan.etc_fd, "/", name);
    entry.target = absl::StrCat(plan.etc_dir, "/", name);
    if (S_ISLNK(st.st_mode)) {
      entry.kind = ChildPlan::Entry::kSymlink;
      std::string link(PATH_MAX, '\0');
      const ssize_t n = readlinkat(dirfd(dir), d->d_name, link.data(), link.size());
      if (n < 0 || static_cast<size_t>(n) >= link.size()) {
        status = Errno(n < 0 ? errno : ENAMETOOLONG, absl::StrCat("readlink ", entry.target));
        break;
      }
      link.resize(static_cast<size_t>(n));
      entry.link = std::move(link);
    } else {
      entry.kind = S_ISDIR(st.st_mode) ? ChildPlan::Entry::kDirectory : ChildPlan::Entry::kOther;
    }
    plan.mirror.push_back(std::move(entry));
  }
  closedir(dir);
  return status;
}

}  // namespace

absl::StatusOr<ChildPlan> PrepareChild(std::string pppd_path, std::vector<std::string> argv,
                                       std::string call_dir, const std::string& etc_dir) {
  ChildPlan plan;
  plan.pppd_path = std::move(pppd_path);
  plan.argv = std::move(argv);
  plan.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  for (std::string& a : plan.argv) plan.argv_ptrs.push_back(a.data());
  plan.argv_ptrs.push_back(nullptr);
  for (std::string& e : plan.env) plan.env_ptrs.push_back(e.data());
  plan.env_ptrs.push_back(nullptr);
  plan.call_dir = std::move(call_dir);
  plan.etc_ppp = absl::StrCat(etc_dir, "/ppp");

  struct stat st {};
  if (lstat(plan.etc_ppp.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(plan.etc_ppp, " exists and is not a directory: pppd's secrets cannot be put there"));
    }
  } else if (errno == ENOENT) {
    plan.etc_dir = etc_dir;
    if (absl::Status s = ListEtc(plan); !s.ok()) {
      ReleaseChildPlan(plan);
      return s;
    }
  } else {
    return Errno(errno, absl::StrCat("stat ", plan.etc_ppp));
  }

  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    plan.max_fd = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
  }
  return plan;
}

void ReleaseChildPlan(ChildPlan& plan) {
  if (plan.etc_fd >= 0) close(plan.etc_fd);
  plan.etc_fd = -1;
}

void RunChild(const ChildPlan& plan) {
  int error_fd = plan.error_fd;
  auto fail = [&error_fd](ChildStep step, int index = 0) {
    const ChildError e{step, index, errno};
    const ssize_t n = write(error_fd, &e, sizeof e);
    (void)n;
    _exit(127);
  };

  // 1. Default dispositions (an ignored signal stays ignored across exec),
  // nothing blocked. Signals glibc keeps for itself refuse: that is fine.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &default_action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail(ChildStep::kSignals);

  // 2. Also off the agent's working directory, which pppd has no use for.
  if (setsid() < 0 || chdir("/") != 0) fail(ChildStep::kSession);

  // 3.
  if (unshare(CLONE_NEWNS) != 0) fail(ChildStep::kUnshare);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(ChildStep::kPrivateRoot);

  // 4.
  if (plan.mirror_etc()) {
    // The sources are /proc/self/fd/<etc_fd>/...: that descriptor must be
    // the namespace's own <etc> (one from before unshare() names a mount of
    // the host's namespace, which bind mounts refuse), and opened before
    // the tmpfs hides it.
    const int etc_fd = open(plan.etc_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (etc_fd < 0 || dup2(etc_fd, plan.etc_fd) < 0) fail(ChildStep::kMirrorTmpfs);
    close(etc_fd);
    if (mount("tmpfs", plan.etc_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) {
      fail(ChildStep::kMirrorTmpfs);
    }
    for (size_t i = 0; i < plan.mirror.size(); ++i) {
      const ChildPlan::Entry& e = plan.mirror[i];
      const int index = static_cast<int>(i);
      if (e.kind == ChildPlan::Entry::kSymlink) {
        if (symlink(e.link.c_str(), e.target.c_str()) != 0) fail(ChildStep::kMirrorEntry, index);
        continue;
      }
      if (e.kind == ChildPlan::Entry::kDirectory) {
        if (mkdir(e.target.c_str(), 0755) != 0) fail(ChildStep::kMirrorEntry, index);
      } else {
        const int fd = open(e.target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) fail(ChildStep::kMirrorEntry, index);
        close(fd);
      }
      if (mount(e.source.c_str(), e.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        if (errno != ENOENT) fail(ChildStep::kMirrorEntry, index);
        // Gone from the host since the listing: gone here too.
        if (e.kind == ChildPlan::Entry::kDirectory) {
          rmdir(e.target.c_str());
        } else {
          unlink(e.target.c_str());
        }
      }
    }
    if (mkdir(plan.etc_ppp.c_str(), 0755) != 0) fail(ChildStep::kMakeEtcPpp);
  }
  if (mount(plan.call_dir.c_str(), plan.etc_ppp.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    fail(ChildStep::kBindCallDir);
  }
  // Defence in depth (the directory holds no programs), so a refusal does
  // not stop the call.
  mount(nullptr, plan.etc_ppp.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC,
        nullptr);

  // 5. What we keep moves above the target number first, so that no dup2
  // below lands on a descriptor still needed.
  const int above = plan.target_fd + 1;
  const int socket_fd = fcntl(plan.socket_fd, F_DUPFD_CLOEXEC, above);
  const int output_fd = fcntl(plan.output_fd, F_DUPFD_CLOEXEC, above);
  const int null_fd = fcntl(plan.null_fd, F_DUPFD_CLOEXEC, above);
  const int moved_error_fd = fcntl(error_fd, F_DUPFD_CLOEXEC, above);
  if (output_fd < 0 || null_fd < 0 || moved_error_fd < 0) fail(ChildStep::kStdio);
  if (socket_fd < 0) fail(ChildStep::kSocket);
  error_fd = moved_error_fd;
  if (dup2(null_fd, 0) < 0 || dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0) fail(ChildStep::kStdio);
  if (dup2(socket_fd, plan.target_fd) < 0) fail(ChildStep::kSocket);
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {  // before Linux 5.11
    for (int fd = 3; fd <= plan.max_fd; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (fcntl(plan.target_fd, F_SETFD, 0) != 0) fail(ChildStep::kCloseOthers);

  // 6.
  execve(plan.pppd_path.c_str(), plan.argv_ptrs.data(), plan.env_ptrs.data());
  fail(ChildStep::kExec);
  _exit(127);  // not reached
}

std::string DescribeChildError(const ChildPlan& plan, const ChildError& e) {
  std::string what;
  switch (e.step) {
    case ChildStep::kSignals: what = "resetting signals"; break;
    case ChildStep::kSession: what = "starting a session (setsid, chdir /)"; break;
    case ChildStep::kUnshare: what = "unshare(CLONE_NEWNS) (a mount namespace needs CAP_SYS_ADMIN)"; break;
    case ChildStep::kPrivateRoot: what = "making / a private mount"; break;
    case ChildStep::kMirrorTmpfs:
      what = absl::StrCat("mounting a tmpfs over ", plan.etc_dir, " (", plan.etc_ppp, " is missing)");
      break;
    case ChildStep::kMirrorEntry:
      what = absl::StrCat("mirroring ",
                          e.index >= 0 && static_cast<size_t>(e.index) < plan.mirror.size()
                              ? plan.mirror[static_cast<size_t>(e.index)].target
                              : plan.etc_dir,
                          " into the namespace");
      break;
    case ChildStep::kMakeEtcPpp: what = absl::StrCat("making ", plan.etc_ppp, " in the namespace"); break;
    case ChildStep::kBindCallDir:
      what = absl::StrCat("bind-mounting ", plan.call_dir, " over ", plan.etc_ppp);
      break;
    case ChildStep::kStdio: what = "redirecting pppd's standard input, output and error"; break;
    case ChildStep::kSocket:
      what = absl::StrCat("giving pppd the PPPoL2TP socket as descriptor ", plan.target_fd);
      break;
    case ChildStep::kCloseOthers: what = "closing the agent's other descriptors"; break;
    case ChildStep::kExec: what = absl::StrCat("exec ", plan.pppd_path); break;
  }
  return absl::StrCat(what, ": ", std::strerror(e.error));
}

}  // namespace l2tp::ppp
