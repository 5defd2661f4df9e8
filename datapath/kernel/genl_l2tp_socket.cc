#include "datapath/kernel/genl_l2tp_socket.h"

#include <linux/l2tp.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "absl/strings/str_cat.h"
#include "datapath/kernel/netlink_exchange.h"

namespace l2tp::kernel {

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
    return absl::FailedPreconditionError(
        absl::StrCat("generic netlink family \"l2tp\" does not resolve: ", nl_geterror(family),
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
  ExchangeOutcome out = NetlinkExchange(sk_, msg.get(), op, object, on_reply);
  // What is still queued would be read as the answer to the next request:
  // start over on a fresh socket.
  if (out.socket_dirty) Reconnect();
  return out.status;
}

}  // namespace l2tp::kernel
