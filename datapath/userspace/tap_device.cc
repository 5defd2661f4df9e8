#include "datapath/userspace/tap_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "datapath/userspace/link_control.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

namespace l2tp::userspace {
namespace {

absl::Status Errno(const char* what, const std::string& name) {
  return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", name));
}

// Interface ioctls need some socket; a datagram one in our netns will do.
absl::Status InterfaceIoctl(unsigned long request, ifreq* ifr, const std::string& name) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Errno("socket for ioctl on", name);
  int rc = ioctl(s, request, ifr);
  int saved = errno;
  close(s);
  errno = saved;
  if (rc < 0) return Errno("interface ioctl on", name);
  return absl::OkStatus();
}

// TUNSETIFF: `fd` becomes (a queue of) the TAP `name`. Every queue must ask
// with the same flags: the device takes the last ones given.
int AttachFd(int fd, const std::string& name, bool multi_queue) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (multi_queue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  return ioctl(fd, TUNSETIFF, &ifr);
}

}  // namespace

absl::StatusOr<TapDevice> TapDevice::Open(const std::string& name, bool tso, std::string_view alias,
                                          bool multi_queue) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrCat("bad interface name '", name, "'"));
  }
  TapDevice tap;
  tap.name_ = name;
  tap.fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (tap.fd_ < 0) return Errno("open /dev/net/tun for", name);
  // A TAP that exists takes only the queue kind it was made with (EINVAL
  // otherwise): try the one asked for, then the other.
  bool attached = false;
  for (bool mq : {multi_queue, !multi_queue}) {
    if (AttachFd(tap.fd_, name, mq) == 0) {
      tap.multi_queue_ = mq;
      attached = true;
      break;
    }
    if (errno != EINVAL) break;
  }
  if (!attached) {
    // EINVAL/EBUSY: the name belongs to a non-TAP link or a TAP of other flags.
    if (errno == EINVAL || errno == EBUSY) {
      return absl::AlreadyExistsError(absl::StrCat("interface ", name, " exists and is not a free TAP"));
    }
    return Errno("TUNSETIFF", name);
  }
  tap.ifindex_ = static_cast<int>(if_nametoindex(name.c_str()));
  if (tap.ifindex_ == 0) return Errno("if_nametoindex", name);
  if (auto st = SetLinkAlias(tap.ifindex_, alias); !st.ok()) return st;
  if (ioctl(tap.fd_, TUNSETPERSIST, 1) < 0) return Errno("TUNSETPERSIST", name);
  unsigned offloads = tso ? (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) : 0;
  // Kernels that know the USO offload flags (6.2+) also take GSO_UDP_L4
  // frames from us. Probe with them, then set the flags we want.
  if (tso && ioctl(tap.fd_, TUNSETOFFLOAD, offloads | TUN_F_USO4 | TUN_F_USO6) == 0) {
    tap.accepts_uso_ = true;
  }
  if (ioctl(tap.fd_, TUNSETOFFLOAD, offloads) < 0) {
    // Not fatal: without offloads the kernel segments and checksums for us.
    L2TP_LOG(kWarning) << "userspace datapath: no TAP offloads on " << name << ", errno " << errno;
  }
  return tap;
}

absl::StatusOr<TapDevice> TapDevice::OpenQueue() const {
  if (!multi_queue_) {
    return absl::FailedPreconditionError(absl::StrCat("TAP ", name_, " has a single queue"));
  }
  TapDevice q;
  q.fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (q.fd_ < 0) return Errno("open /dev/net/tun for a queue of", name_);
  if (AttachFd(q.fd_, name_, /*multi_queue=*/true) < 0) return Errno("TUNSETIFF (another queue) on", name_);
  q.mtu_ = mtu_;
  q.accepts_uso_ = accepts_uso_;
  q.multi_queue_ = true;
  q.name_ = name_;
  q.ifindex_ = ifindex_;
  return q;
}

TapDevice::TapDevice(TapDevice&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      mtu_(o.mtu_),
      accepts_uso_(o.accepts_uso_),
      multi_queue_(o.multi_queue_),
      name_(std::move(o.name_)),
      ifindex_(o.ifindex_) {}

TapDevice& TapDevice::operator=(TapDevice&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    mtu_ = o.mtu_;
    accepts_uso_ = o.accepts_uso_;
    multi_queue_ = o.multi_queue_;
    name_ = std::move(o.name_);
    ifindex_ = o.ifindex_;
  }
  return *this;
}

TapDevice::~TapDevice() {
  if (fd_ >= 0) close(fd_);
}

absl::Status TapDevice::Configure(uint32_t mtu) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
  ifr.ifr_mtu = static_cast<int>(mtu);
  if (auto st = InterfaceIoctl(SIOCSIFMTU, &ifr, name_); !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("mtu ", mtu, ": ", st.message()));
  }
  mtu_ = mtu;
  if (auto st = InterfaceIoctl(SIOCGIFFLAGS, &ifr, name_); !st.ok()) return st;
  if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    if (auto st = InterfaceIoctl(SIOCSIFFLAGS, &ifr, name_); !st.ok()) return st;
  }
  return absl::OkStatus();
}

void TapDevice::Remove() {
  if (fd_ < 0) return;
  ioctl(fd_, TUNSETPERSIST, 0);  // best effort: the device may already be gone
  close(fd_);
  fd_ = -1;
}

bool TapDevice::StillExists() const {
  return ifindex_ != 0 && static_cast<int>(if_nametoindex(name_.c_str())) == ifindex_;
}

}  // namespace l2tp::userspace
