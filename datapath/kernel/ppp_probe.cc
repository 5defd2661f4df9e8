#include "datapath/kernel/ppp_probe.h"

// glibc's headers first (see pppol2tp_address.cc).
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
// The kernel's uapi headers, after glibc's.
#include <linux/if_pppox.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace l2tp::kernel {
namespace {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : absl::StrCat("errno ", err);
}

// Empty when PPPoL2TP sockets can be made.
std::string SocketProblem() {
  const int fd = socket(AF_PPPOX, SOCK_DGRAM | SOCK_CLOEXEC, PX_PROTO_OL2TP);
  if (fd >= 0) {
    close(fd);
    return "";
  }
  const int err = errno;
  std::string why;
  switch (err) {
    case EAFNOSUPPORT: why = "AF_PPPOX not supported, pppox missing too"; break;
    case EPROTONOSUPPORT: why = "PX_PROTO_OL2TP not supported"; break;
    default: why = std::strerror(err);
  }
  return absl::StrCat("no PPPoL2TP sockets (module l2tp_ppp): ", why, " (", ErrnoName(err), ")");
}

// Empty when the PPP device opens.
std::string DeviceProblem(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return "";
  }
  const int err = errno;
  switch (err) {
    case ENOENT: return absl::StrCat("no ", path, " (module ppp_generic)");
    case ENXIO:
    case ENODEV:
      return absl::StrCat("no ", path, " (module ppp_generic): the device node has no driver (",
                          ErrnoName(err), ")");
    case EPERM:
    case EACCES:
      return absl::StrCat("cannot open ", path, ": not permitted (", ErrnoName(err),
                          "; ppp_generic wants CAP_NET_ADMIN)");
    default: return absl::StrCat("cannot open ", path, ": ", std::strerror(err), " (", ErrnoName(err), ")");
  }
}

}  // namespace

absl::Status ProbePppoL2tp(const std::string& ppp_device) {
  std::vector<std::string> missing;
  if (std::string p = SocketProblem(); !p.empty()) missing.push_back(std::move(p));
  if (std::string p = DeviceProblem(ppp_device); !p.empty()) missing.push_back(std::move(p));
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("PPP pseudowires unavailable: ", absl::StrJoin(missing, "; ")));
}

}  // namespace l2tp::kernel
