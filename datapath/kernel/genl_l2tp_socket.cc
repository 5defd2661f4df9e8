#include "datapath/kernel/genl_l2tp_socket.h"

#include <linux/l2tp.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "absl/strings/str_cat.h"

namespace l2tp::kernel {
namespace {

// State of one request/response exchange, shared with libnl's callbacks.
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

absl::StatusOr<std::unique_ptr<GenlL2tpSocket>> GenlL2tpSocket::Open() {
  nl_sock* sk = nl_socket_alloc();
  if (sk == nullptr) return absl::ResourceExhaustedError("cannot allocate a netlink socket");
  if (int err = genl_connect(sk); err < 0) {
    nl_socket_free(sk);
    return absl::UnavailableError(absl::StrCat("generic netlink: ", nl_geterror(err)));
  }
  // Big dumps (thousands of sessions) arrive in many page-sized parts; peeking
  // lets libnl size its buffer to each one.
  nl_socket_enable_msg_peek(sk);
  int family = genl_ctrl_resolve(sk, L2TP_GENL_NAME);
  if (family < 0) {
    nl_socket_free(sk);
    return absl::FailedPreconditionError(absl::StrCat(
        "generic netlink family \"l2tp\" does not resolve: ", nl_geterror(family),
        " (kernel without L2TP, or l2tp_netlink not loadable)"));
  }
  return std::unique_ptr<GenlL2tpSocket>(new GenlL2tpSocket(sk, family));
}

GenlL2tpSocket::~GenlL2tpSocket() { nl_socket_free(sk_); }

void GenlL2tpSocket::Reconnect() {
  nl_sock* fresh = nl_socket_alloc();
  if (fresh == nullptr) return;
  if (genl_connect(fresh) < 0) {
    nl_socket_free(fresh);
    return;  // keep the old one; the next request reports what fails
  }
  nl_socket_enable_msg_peek(fresh);
  nl_socket_free(sk_);
  sk_ = fresh;
}

uint32_t GenlL2tpSocket::port() const { return nl_socket_get_local_port(sk_); }

absl::Status GenlL2tpSocket::Execute(NlMsgPtr msg, KernelOp op, const std::string& object) {
  return Exchange(std::move(msg), op, object, nullptr);
}

absl::Status GenlL2tpSocket::Query(NlMsgPtr msg, KernelOp op, const std::string& object,
                                   const std::function<absl::Status(nlmsghdr*)>& on_reply) {
  return Exchange(std::move(msg), op, object, &on_reply);
}

absl::Status GenlL2tpSocket::Exchange(NlMsgPtr msg, KernelOp op, const std::string& object,
                                      const std::function<absl::Status(nlmsghdr*)>* on_reply) {
  struct CbFree {
    void operator()(nl_cb* cb) const { nl_cb_put(cb); }
  };
  std::unique_ptr<nl_cb, CbFree> cb(nl_cb_alloc(NL_CB_DEFAULT));
  if (!cb) return absl::ResourceExhaustedError("cannot allocate netlink callbacks");
  ExchangeState ex;
  ex.on_reply = on_reply;
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, OnValid, &ex);
  nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, OnFinish, &ex);
  nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, OnAck, &ex);
  nl_cb_err(cb.get(), NL_CB_CUSTOM, OnError, &ex);

  if (int err = nl_send_auto(sk_, msg.get()); err < 0) {
    return absl::UnavailableError(absl::StrCat(object, ": netlink send failed: ", nl_geterror(err)));
  }
  while (!ex.done) {
    int err = nl_recvmsgs(sk_, cb.get());
    // A kernel error also makes nl_recvmsgs fail (with libnl's code, which
    // loses the errno): the one OnError kept is the answer.
    if (ex.kernel_errno != 0) return KernelErrorStatus(op, object, ex.kernel_errno);
    if (err < 0) {
      // The rest of a reply (or dump) may still be queued and would be read
      // as the answer to the next request: start over on a fresh socket.
      Reconnect();
      return absl::UnavailableError(absl::StrCat(object, ": netlink receive failed: ", nl_geterror(err)));
    }
  }
  return ex.reply_status;
}

}  // namespace l2tp::kernel
