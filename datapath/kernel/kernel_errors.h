// Kernel errno values from the L2TP netlink family, as absl::Status with a
// message that says what the kernel meant for this operation.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace l2tp::kernel {

enum class KernelOp {
  kCreateTunnel,
  kDeleteTunnel,
  kGetTunnel,
  kCreateSession,
  kModifySession,
  kDeleteSession,
  kGetSession,
  kDump,
  kLink,  // rtnetlink on the session's interface
  // A PPP pseudowire's PPPoL2TP socket (pppol2tp_socket.h).
  kPppSocket,   // socket(AF_PPPOX, SOCK_DGRAM, PX_PROTO_OL2TP)
  kPppConnect,  // connect() to the session
  kPppOption,   // setsockopt/getsockopt SOL_PPPOL2TP
  kPppStats,    // ioctl PPPIOCGL2TPSTATS
};

// `object` names the target, e.g. "create tunnel 100"; `err` is a positive
// errno. Returns OkStatus for 0.
absl::Status KernelErrorStatus(KernelOp op, const std::string& object, int err);

}  // namespace l2tp::kernel
