#include "datapath/kernel/genl_probe.h"

#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

namespace l2tp::kernel {

KernelL2tpProbe ProbeKernelL2tp() {
  KernelL2tpProbe probe;
  nl_sock* sk = nl_socket_alloc();
  if (sk == nullptr) {
    probe.detail = "cannot allocate a netlink socket";
    return probe;
  }
  if (int err = genl_connect(sk); err < 0) {
    probe.detail = std::string("generic netlink: ") + nl_geterror(err);
  } else if (int family = genl_ctrl_resolve(sk, "l2tp"); family < 0) {
    probe.detail = std::string("generic netlink family \"l2tp\" does not resolve: ") + nl_geterror(family) +
                   " (kernel without L2TP, or l2tp_netlink not loadable)";
  } else {
    probe.available = true;
  }
  nl_socket_free(sk);
  return probe;
}

}  // namespace l2tp::kernel
