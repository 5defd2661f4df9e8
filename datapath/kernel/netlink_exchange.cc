#include "datapath/kernel/netlink_exchange.h"

#include <netlink/errno.h>
#include <netlink/msg.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace l2tp::kernel {
namespace {

// State of one exchange, shared with libnl's callbacks.
struct ExchangeState {
  const std::function<absl::Status(nlmsghdr*)>* on_reply = nullptr;
  bool done = false;
  int kernel_errno = 0;  // from NLMSG_ERROR, positive
  absl::Status reply_status;
};

int OnValid(nl_msg* msg, void* arg) {
  auto* ex = static_cast<ExchangeState*>(arg);
  if (ex->on_reply == nullptr || !ex->reply_status.ok()) return NL_OK;
  // Keep reading to the end of the dump even after a parse error, so the
  // socket holds no stale replies for the next request.
  ex->reply_status = (*ex->on_reply)(nlmsg_hdr(msg));
  return NL_OK;
}

int OnFinish(nl_msg*, void* arg) {
  static_cast<ExchangeState*>(arg)->done = true;
  return NL_STOP;
}

int OnAck(nl_msg*, void* arg) {
  static_cast<ExchangeState*>(arg)->done = true;
  return NL_STOP;
}

int OnError(sockaddr_nl*, nlmsgerr* err, void* arg) {
  auto* ex = static_cast<ExchangeState*>(arg);
  ex->kernel_errno = -err->error;
  ex->done = true;
  return NL_STOP;
}

}  // namespace

ExchangeOutcome NetlinkExchange(nl_sock* sk, nl_msg* msg, KernelOp op, const std::string& object,
                                const std::function<absl::Status(nlmsghdr*)>* on_reply) {
  struct CbFree {
    void operator()(nl_cb* cb) const { nl_cb_put(cb); }
  };
  std::unique_ptr<nl_cb, CbFree> cb(nl_cb_alloc(NL_CB_DEFAULT));
  if (!cb) return {absl::ResourceExhaustedError("cannot allocate netlink callbacks"), false};
  ExchangeState ex;
  ex.on_reply = on_reply;
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, OnValid, &ex);
  nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, OnFinish, &ex);
  nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, OnAck, &ex);
  nl_cb_err(cb.get(), NL_CB_CUSTOM, OnError, &ex);

  if (int err = nl_send_auto(sk, msg); err < 0) {
    return {absl::UnavailableError(absl::StrCat(object, ": netlink send failed: ", nl_geterror(err))), false};
  }
  while (!ex.done) {
    int err = nl_recvmsgs(sk, cb.get());
    // A kernel error also makes nl_recvmsgs fail (with libnl's code, which
    // loses the errno): the one OnError kept is the answer.
    if (ex.kernel_errno != 0) return {KernelErrorStatus(op, object, ex.kernel_errno), false};
    // libnl reads an interrupted dump to its end before saying so.
    if (err == -NLE_DUMP_INTR && ex.done) {
      return {absl::AbortedError(absl::StrCat(object, ": the list changed while the kernel sent it")), false,
              true};
    }
    if (err < 0) {
      // The rest of a reply (or dump) may still be queued and would be read
      // as the answer to the next request.
      return {absl::UnavailableError(absl::StrCat(object, ": netlink receive failed: ", nl_geterror(err))),
              true};
    }
  }
  return {ex.reply_status, false};
}

}  // namespace l2tp::kernel
