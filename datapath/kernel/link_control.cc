#include "datapath/kernel/link_control.h"

#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>

#include "absl/strings/str_cat.h"
#include "datapath/kernel/kernel_errors.h"

namespace l2tp::kernel {
namespace {

struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;

// libnl folds errno into its own codes; map the ones that matter back.
int NlErrToErrno(int nlerr) {
  switch (nlerr < 0 ? -nlerr : nlerr) {
    case NLE_OBJ_NOTFOUND: return ENODEV;
    case NLE_NODEV: return ENODEV;
    case NLE_PERM: return EPERM;
    case NLE_INVAL: return EINVAL;
    case NLE_RANGE: return ERANGE;
    case NLE_BUSY: return EBUSY;
    case NLE_EXIST: return EEXIST;
    default: return EIO;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<LinkControl>> LinkControl::Open() {
  nl_sock* sk = nl_socket_alloc();
  if (sk == nullptr) return absl::ResourceExhaustedError("cannot allocate a netlink socket");
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sk);
    return absl::UnavailableError(absl::StrCat("rtnetlink: ", nl_geterror(err)));
  }
  nl_socket_enable_msg_peek(sk);
  return std::unique_ptr<LinkControl>(new LinkControl(sk));
}

LinkControl::~LinkControl() { nl_socket_free(sk_); }

absl::Status LinkControl::SetUp(const std::string& ifname, uint32_t mtu) {
  const std::string what = absl::StrCat("set up interface ", ifname);
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sk_, 0, ifname.c_str(), &raw); err < 0) {
    return KernelErrorStatus(KernelOp::kLink, what, NlErrToErrno(err));
  }
  LinkPtr current(raw);
  LinkPtr change(rtnl_link_alloc());
  if (!change) return absl::ResourceExhaustedError("cannot allocate a link object");
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (mtu != 0) rtnl_link_set_mtu(change.get(), mtu);
  if (int err = rtnl_link_change(sk_, current.get(), change.get(), 0); err < 0) {
    if (mtu != 0 && (err == -NLE_RANGE || err == -NLE_INVAL)) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": MTU ", mtu, " rejected by the kernel (", nl_geterror(err), ")"));
    }
    return KernelErrorStatus(KernelOp::kLink, what, NlErrToErrno(err));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, uint32_t>> LinkControl::Mtus() {
  nl_cache* cache = nullptr;
  if (int err = rtnl_link_alloc_cache(sk_, AF_UNSPEC, &cache); err < 0) {
    return absl::UnavailableError(absl::StrCat("list interfaces: ", nl_geterror(err)));
  }
  std::map<std::string, uint32_t> mtus;
  for (nl_object* o = nl_cache_get_first(cache); o != nullptr; o = nl_cache_get_next(o)) {
    auto* link = reinterpret_cast<rtnl_link*>(o);
    if (const char* name = rtnl_link_get_name(link)) mtus[name] = rtnl_link_get_mtu(link);
  }
  nl_cache_free(cache);
  return mtus;
}

}  // namespace l2tp::kernel
