#include "datapath/kernel/link_control.h"

#include <netlink/errno.h>

#include "absl/strings/str_cat.h"
#include "datapath/kernel/kernel_errors.h"
#include "datapath/kernel/link_messages.h"
#include "datapath/kernel/netlink_exchange.h"

namespace l2tp::kernel {
namespace {

nl_sock* Connect() {
  nl_sock* sk = nl_socket_alloc();
  if (sk == nullptr) return nullptr;
  if (nl_connect(sk, NETLINK_ROUTE) < 0) {
    nl_socket_free(sk);
    return nullptr;
  }
  // A dump of thousands of interfaces arrives in many parts; peeking lets
  // libnl size its buffer to each one.
  nl_socket_enable_msg_peek(sk);
  return sk;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LinkControl>> LinkControl::Open() {
  nl_sock* sk = Connect();
  if (sk == nullptr) return absl::UnavailableError("rtnetlink: cannot open a socket");
  return std::unique_ptr<LinkControl>(new LinkControl(sk));
}

LinkControl::~LinkControl() { nl_socket_free(sk_); }

ExchangeOutcome LinkControl::Exchange(NlMsgPtr msg, const std::string& object,
                                      const std::function<absl::Status(nlmsghdr*)>* on_reply) {
  ExchangeOutcome out = NetlinkExchange(sk_, msg.get(), KernelOp::kLink, object, on_reply);
  if (out.socket_dirty) {  // replies may still be queued: start over
    if (nl_sock* fresh = Connect()) {
      nl_socket_free(sk_);
      sk_ = fresh;
    }
  }
  return out;
}

absl::Status LinkControl::SetUp(const std::string& ifname, uint32_t mtu) {
  const std::string what = absl::StrCat("set up interface ", ifname);
  auto msg = BuildLinkSetUp(ifname, mtu);
  if (!msg.ok()) return msg.status();
  absl::Status st = Exchange(*std::move(msg), what, nullptr).status;
  if (!st.ok() && mtu != 0 && absl::IsInvalidArgument(st)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": MTU ", mtu, " rejected by the kernel (EINVAL)"));
  }
  return st;
}

absl::StatusOr<std::unordered_map<std::string, uint32_t>> LinkControl::Mtus() {
  std::unordered_map<std::string, uint32_t> mtus;
  const std::function<absl::Status(nlmsghdr*)> on_reply = [&](nlmsghdr* h) {
    auto link = ParseLinkReply(h);
    if (!link.ok()) return link.status();
    mtus[std::move(link->name)] = link->mtu;
    return absl::OkStatus();
  };
  for (int attempt = 1;; ++attempt) {
    auto msg = BuildLinkDump();
    if (!msg.ok()) return msg.status();
    mtus.clear();
    ExchangeOutcome out = Exchange(*std::move(msg), "list interfaces", &on_reply);
    if (!out.interrupted) {
      if (!out.status.ok()) return out.status;
      return mtus;
    }
    ++interrupted_dumps_;
    if (attempt == kDumpAttempts) return mtus;  // as it is (see the header)
  }
}

}  // namespace l2tp::kernel
