#include "datapath/kernel/kernel_errors.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace l2tp::kernel {
namespace {

bool IsTunnelOp(KernelOp op) {
  return op == KernelOp::kCreateTunnel || op == KernelOp::kDeleteTunnel || op == KernelOp::kGetTunnel;
}

bool IsPppOp(KernelOp op) {
  return op == KernelOp::kPppSocket || op == KernelOp::kPppConnect || op == KernelOp::kPppOption ||
         op == KernelOp::kPppStats;
}

// What an errno means for a PPPoL2TP socket (l2tp_ppp.c, pppox.c), or
// nullptr where the netlink meaning below fits as well.
const char* PppMeaning(KernelOp op, int err) {
  switch (err) {
    case EAFNOSUPPORT: return "no PPPoX sockets in this kernel (module pppox, loaded with l2tp_ppp)";
    case EPROTONOSUPPORT: return "no PPPoL2TP sockets in this kernel (module l2tp_ppp)";
    case EINVAL:
      if (op == KernelOp::kPppConnect) {
        return "address refused by the kernel (wrong length or protocol, or tunnel id 0)";
      }
      if (op == KernelOp::kPppOption) return "option value refused by the kernel (0 or 1 only)";
      return nullptr;
    case ENOENT:
      if (op == KernelOp::kPppConnect) return "no such tunnel (or its socket is gone)";
      return nullptr;
    case EPROTOTYPE: return "the session exists and is not a PPP pseudowire";
    case EEXIST: return "the session has a PPPoL2TP socket already";
    case EBUSY:
    case EALREADY: return "this PPPoL2TP socket is connected to a session already";
    case EBADF: return "no session behind this PPPoL2TP socket";
    case ENOTCONN: return "the PPPoL2TP socket is not connected to a session";
    case ENOPROTOOPT: return "option not supported on this socket";
    case EBADR: return "no such PPP session in the tunnel";
    case ENOTTY: return "not a PPPoL2TP socket";
    case EPERM:
    case EACCES: return "not permitted";
    default: return nullptr;
  }
}

// What an errno means for this operation (the kernel reuses a few for
// different causes: ENODEV on session create is the tunnel, not the session).
std::string Meaning(KernelOp op, int err) {
  if (IsPppOp(op)) {
    if (const char* m = PppMeaning(op, err)) return m;
  }
  switch (err) {
    case EEXIST:
      if (op == KernelOp::kCreateTunnel) return "tunnel id already in use";
      if (op == KernelOp::kCreateSession) return "session id or interface name already in use";
      return "already exists";
    case ENOENT:
    case ENODEV:
      if (op == KernelOp::kCreateSession) return "its tunnel does not exist";
      if (IsTunnelOp(op)) return "no such tunnel";
      if (op == KernelOp::kLink) return "no such interface";
      return "no such session";
    case EPROTONOSUPPORT:
      return "not supported by this kernel (pseudowire or encapsulation module missing, or wrong L2TP version)";
    case EPERM:
    case EACCES: return "not permitted: the L2TP netlink family needs CAP_NET_ADMIN";
    case EBUSY:
      // Only a managed tunnel's socket (L2TP_ATTR_FD) can be busy: it carries
      // a tunnel already, or did (the kernel does not let go of a socket
      // whose tunnel was deleted until the socket is closed).
      if (op == KernelOp::kCreateTunnel) return "the socket carries an L2TP tunnel already, or did";
      return "busy (the socket or interface is in use)";
    case EINVAL: return "rejected by the kernel as invalid";
    case EADDRINUSE: return "local address and port already in use";
    case EADDRNOTAVAIL: return "local address not configured on this host";
    case EAFNOSUPPORT: return "address family not supported (IPv6 disabled?)";
    case ENETUNREACH: return "no route to the remote address";
    case ENOBUFS:
    case ENOMEM: return "kernel out of memory";
    default: return std::strerror(err);
  }
}

absl::StatusCode Code(KernelOp op, int err) {
  if (IsPppOp(op)) {
    switch (err) {
      case EPROTOTYPE:
      case EALREADY:
      case ENOTCONN: return absl::StatusCode::kFailedPrecondition;
      case EBADF:
      case EBADR: return absl::StatusCode::kNotFound;
      case ENOPROTOOPT:
      case ENOTTY: return absl::StatusCode::kInvalidArgument;
      default: break;  // as for netlink
    }
  }
  switch (err) {
    case EEXIST: return absl::StatusCode::kAlreadyExists;
    case ENOENT:
    case ENODEV: return absl::StatusCode::kNotFound;
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
    case EADDRNOTAVAIL:
    case ENETUNREACH: return absl::StatusCode::kFailedPrecondition;
    case EPERM:
    case EACCES: return absl::StatusCode::kPermissionDenied;
    case EBUSY:
    case EADDRINUSE: return absl::StatusCode::kFailedPrecondition;
    case EINVAL: return absl::StatusCode::kInvalidArgument;
    case ENOBUFS:
    case ENOMEM: return absl::StatusCode::kResourceExhausted;
    default: return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status KernelErrorStatus(KernelOp op, const std::string& object, int err) {
  if (err == 0) return absl::OkStatus();
  if (err < 0) err = -err;
  const char* name = strerrorname_np(err);
  return absl::Status(Code(op, err), absl::StrCat(object, ": ", Meaning(op, err), " (",
                                                  name ? name : absl::StrCat("errno ", err), ")"));
}

}  // namespace l2tp::kernel
