#include "agent/process_limits.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace l2tp {

std::string RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::StrCat("getrlimit: ", std::strerror(errno));
  if (limit.rlim_cur >= limit.rlim_max)
    return absl::StrCat("open files: ", limit.rlim_cur, " (the hard limit)");
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::StrCat("open files: stays at ", before, ": setrlimit: ", std::strerror(errno));
  }
  return absl::StrCat("open files: soft limit raised from ", before, " to ", limit.rlim_cur);
}

}  // namespace l2tp
