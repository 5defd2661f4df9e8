#include "agent/ppp/call_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"
#include "common/log.h"

namespace l2tp::ppp {
namespace {

// "what: strerror" (ErrnoToStatus adds the errno's words).
absl::Status Errno(int error, std::string_view what) { return absl::ErrnoToStatus(error, Av(what)); }

// A directory of ours with mode 0700: made if missing; an existing one must
// be a directory (not a symlink to one) and gets 0700.
absl::Status MakePrivateDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Errno(errno, absl::StrCat("mkdir ", path));
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Errno(errno, absl::StrCat("open ", path, " (want a directory, not a symlink)"));
  const bool ok = fchmod(fd, 0700) == 0;
  const int error = errno;
  close(fd);
  if (!ok) return Errno(error, absl::StrCat("chmod 0700 ", path));
  return absl::OkStatus();
}

// Unlinks every entry of `path` (files only: we make no subdirectories).
absl::Status Empty(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Errno(errno, absl::StrCat("open ", path));
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int error = errno;
    close(fd);
    return Errno(error, absl::StrCat("opendir ", path));
  }
  absl::Status status;
  while (dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (unlinkat(dirfd(dir), entry->d_name, 0) != 0 && errno != ENOENT && status.ok()) {
      status = Errno(errno, absl::StrCat("unlink ", path, "/", Av(name)));
    }
  }
  closedir(dir);
  return status;
}

}  // namespace

absl::Status CheckCallName(std::string_view field, std::string_view call) {
  bool ok = !call.empty() && call.size() <= 128 && call.front() != '.';
  for (char c : call) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '-' || c == '.');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      Av(field), ": \"", absl::CHexEscape(Av(call)),
      "\" is not a usable directory name (1 to 128 of A-Z a-z 0-9 _ . -, not starting with a dot)"));
}

absl::StatusOr<CallDir> CallDir::Create(const std::string& run_dir, std::string_view call) {
  if (absl::Status s = CheckCallName("call", call); !s.ok()) return s;
  if (run_dir.empty() || run_dir.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("run_dir: must be an absolute path, got \"", run_dir, "\""));
  }
  if (absl::Status s = MakePrivateDir(run_dir); !s.ok()) return s;
  const std::string path = absl::StrCat(run_dir, "/", Av(call));
  if (absl::Status s = MakePrivateDir(path); !s.ok()) return s;
  CallDir dir(path);
  if (absl::Status s = Empty(path); !s.ok()) return s;  // left by a crash
  return dir;
}

CallDir::CallDir(CallDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

CallDir& CallDir::operator=(CallDir&& other) noexcept {
  if (this != &other) {
    (void)Remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

CallDir::~CallDir() {
  if (absl::Status s = Remove(); !s.ok()) {
    L2TP_LOG(kWarning) << "ppp: " << s.message();
  }
}

absl::Status CallDir::Write(std::string_view name, std::string_view content) {
  const std::string temp = absl::StrCat(path_, "/.", Av(name), ".tmp");
  const std::string final_path = absl::StrCat(path_, "/", Av(name));
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(errno, absl::StrCat("create ", temp));
  absl::Status status;
  if (fchmod(fd, 0600) != 0) status = Errno(errno, absl::StrCat("chmod 0600 ", temp));  // whatever the umask
  for (size_t done = 0; status.ok() && done < content.size();) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Errno(errno, absl::StrCat("write ", temp));
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (close(fd) != 0 && status.ok()) status = Errno(errno, absl::StrCat("close ", temp));
  if (status.ok() && rename(temp.c_str(), final_path.c_str()) != 0) {
    status = Errno(errno, absl::StrCat("rename ", temp, " to ", final_path));
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

absl::Status CallDir::Remove() {
  if (path_.empty()) return absl::OkStatus();
  absl::Status status = Empty(path_);
  if (absl::IsNotFound(status)) status = absl::OkStatus();  // gone already
  if (status.ok() && rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    status = Errno(errno, absl::StrCat("rmdir ", path_));
  }
  if (status.ok()) path_.clear();
  return status;
}

}  // namespace l2tp::ppp
