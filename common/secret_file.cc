#include "common/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace l2tp {

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return absl::InvalidArgumentError(absl::StrCat("cannot read the secret file: ", std::strerror(errno)));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError("the secret file is not a regular file");
  }
  // One byte more than allowed (and a newline) tells "too long" from "just fits".
  char buf[kMaxSecretBytes + 2];
  size_t n = 0;
  while (n < sizeof buf) {
    const ssize_t r = read(fd, buf + n, sizeof buf - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat("cannot read the secret file: ", std::strerror(err)));
    }
    if (r == 0) break;
    n += static_cast<size_t>(r);
  }
  close(fd);
  std::string secret(buf, n);
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (secret.empty()) return absl::InvalidArgumentError("the secret file is empty");
  if (secret.size() > kMaxSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the secret file is longer than ", kMaxSecretBytes, " bytes"));
  }
  return secret;
}

}  // namespace l2tp
