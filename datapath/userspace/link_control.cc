#include "datapath/userspace/link_control.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>

#include "absl/strings/str_cat.h"

namespace l2tp::userspace {
namespace {

std::atomic<uint32_t> next_seq{1};

class RtnlSocket {
 public:
  RtnlSocket() : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {}
  ~RtnlSocket() {
    if (fd_ >= 0) close(fd_);
  }
  RtnlSocket(const RtnlSocket&) = delete;
  RtnlSocket& operator=(const RtnlSocket&) = delete;

  // Sends `request` and hands every reply message to `on_message` until the
  // final ACK, error or end of dump. ENODEV in an error reply is reported as
  // NotFound.
  absl::Status Exchange(const std::vector<uint8_t>& request, const char* what,
                        const std::function<void(std::span<const uint8_t>)>& on_message) {
    if (fd_ < 0) return absl::ErrnoToStatus(errno, absl::StrCat("rtnetlink socket for ", what));
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) <
        0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("rtnetlink send for ", what));
    }
    const uint32_t seq = reinterpret_cast<const nlmsghdr*>(request.data())->nlmsg_seq;
    const bool dump = reinterpret_cast<const nlmsghdr*>(request.data())->nlmsg_flags & NLM_F_DUMP;
    std::vector<uint8_t> buf(64 * 1024);
    for (;;) {
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::ErrnoToStatus(errno, absl::StrCat("rtnetlink receive for ", what));
      }
      int left = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_seq != seq) continue;
        if (h->nlmsg_type == NLMSG_DONE) return absl::OkStatus();
        if (h->nlmsg_type == NLMSG_ERROR) {
          const int err = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
          if (err == 0) return absl::OkStatus();  // the ACK
          if (err == ENODEV) return absl::NotFoundError(absl::StrCat(what, ": no such device"));
          return absl::ErrnoToStatus(err, what);
        }
        on_message({reinterpret_cast<const uint8_t*>(h), h->nlmsg_len});
        if (!dump) return absl::OkStatus();
      }
    }
  }

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<std::optional<LinkInfo>> FindLink(std::string_view name) {
  RtnlSocket s;
  std::optional<LinkInfo> found;
  const std::string what = absl::StrCat("looking up interface ", std::string(name));
  absl::Status st = s.Exchange(BuildGetLink(name, next_seq++), what.c_str(),
                               [&](std::span<const uint8_t> m) { found = ParseLink(m); });
  if (absl::IsNotFound(st)) return std::optional<LinkInfo>();
  if (!st.ok()) return st;
  return found;
}

absl::StatusOr<std::vector<LinkInfo>> ListLinks() {
  RtnlSocket s;
  std::vector<LinkInfo> links;
  absl::Status st = s.Exchange(BuildGetLink("", next_seq++), "listing interfaces",
                               [&](std::span<const uint8_t> m) {
                                 if (auto link = ParseLink(m)) links.push_back(*std::move(link));
                               });
  if (!st.ok()) return st;
  return links;
}

absl::Status SetLinkAlias(int ifindex, std::string_view alias) {
  RtnlSocket s;
  const std::string what = absl::StrCat("setting the alias of interface #", ifindex);
  return s.Exchange(BuildSetAlias(ifindex, alias, next_seq++), what.c_str(), [](auto) {});
}

absl::Status DeleteLink(int ifindex) {
  RtnlSocket s;
  const std::string what = absl::StrCat("deleting interface #", ifindex);
  return s.Exchange(BuildDeleteLink(ifindex, next_seq++), what.c_str(), [](auto) {});
}

}  // namespace l2tp::userspace
