#include "datapath/kernel/l2tp_event_watcher.h"

#include <linux/l2tp.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace l2tp::kernel {
namespace {

struct BatchState {
  uint32_t ignore_port;
  uint64_t foreign = 0;  // notifications from other sockets in this batch
};

int OnNotification(nl_msg* msg, void* arg) {
  auto* state = static_cast<BatchState*>(arg);
  // The kernel stamps a notification with the port of the request behind it.
  if (nlmsg_hdr(msg)->nlmsg_pid != state->ignore_port) ++state->foreign;
  return NL_OK;
}

int AcceptAnySequence(nl_msg*, void*) { return NL_OK; }

}  // namespace

absl::StatusOr<std::unique_ptr<L2tpEventWatcher>> L2tpEventWatcher::Start(uint32_t ignore_port,
                                                                          std::function<void()> on_change) {
  nl_sock* sk = nl_socket_alloc();
  if (sk == nullptr) return absl::ResourceExhaustedError("cannot allocate a netlink socket");
  auto fail = [&](absl::Status st) {
    nl_socket_free(sk);
    return st;
  };
  if (int err = genl_connect(sk); err < 0) {
    return fail(absl::UnavailableError(absl::StrCat("generic netlink: ", nl_geterror(err))));
  }
  int group = genl_ctrl_resolve_grp(sk, L2TP_GENL_NAME, L2TP_GENL_MCGROUP);
  if (group < 0) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("l2tp multicast group does not resolve: ", nl_geterror(group))));
  }
  if (int err = nl_socket_add_membership(sk, group); err < 0) {
    return fail(absl::UnavailableError(absl::StrCat("join the l2tp multicast group: ", nl_geterror(err))));
  }
  nl_socket_set_nonblocking(sk);
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) return fail(absl::ResourceExhaustedError("eventfd failed"));
  return std::unique_ptr<L2tpEventWatcher>(
      new L2tpEventWatcher(sk, stop_fd, ignore_port, std::move(on_change)));
}

L2tpEventWatcher::L2tpEventWatcher(nl_sock* sk, int stop_fd, uint32_t ignore_port,
                                   std::function<void()> on_change)
    : sk_(sk), stop_fd_(stop_fd), ignore_port_(ignore_port), on_change_(std::move(on_change)) {
  thread_ = std::thread([this] { Loop(); });
}

L2tpEventWatcher::~L2tpEventWatcher() {
  uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof one);
  thread_.join();
  close(stop_fd_);
  nl_socket_free(sk_);
}

void L2tpEventWatcher::Loop() {
  BatchState state{ignore_port_};
  nl_cb* cb = nl_cb_alloc(NL_CB_DEFAULT);
  if (cb == nullptr) return;
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, OnNotification, &state);
  // This callback set replaces the socket's, so sequence checking is turned
  // off here too (notifications carry the requester's sequence numbers).
  nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, AcceptAnySequence, nullptr);
  while (true) {
    pollfd fds[2] = {{nl_socket_get_fd(sk_), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;
    state.foreign = 0;
    bool lost = false;
    // Drain everything queued; -NLE_AGAIN means empty.
    while (true) {
      int err = nl_recvmsgs(sk_, cb);
      if (err == -NLE_AGAIN) break;
      if (err == -NLE_NOMEM) {  // ENOBUFS: the socket overflowed, events were lost
        lost = true;
        continue;
      }
      if (err < 0) {
        L2TP_LOG(kWarning) << "kernel: l2tp notifications: " << nl_geterror(err);
        lost = true;
        break;
      }
    }
    notifications_ += state.foreign;
    if (state.foreign > 0 || lost) on_change_();
  }
  nl_cb_put(cb);
}

}  // namespace l2tp::kernel
