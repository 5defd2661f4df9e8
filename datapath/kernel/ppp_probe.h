// Can PPP pseudowires work here? They need the kernel's PPPoL2TP sockets
// (l2tp_ppp, with pppox) for the session's PPP channel and /dev/ppp
// (ppp_generic) for pppd's channel and interface.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace l2tp::kernel {

// OK, or FAILED_PRECONDITION naming each thing missing, e.g.
// "PPP pseudowires unavailable: no PPPoL2TP sockets (module l2tp_ppp):
// AF_PPPOX not supported, pppox missing too (EAFNOSUPPORT); no /dev/ppp
// (module ppp_generic)".
// Opening the socket makes the kernel autoload pppox and l2tp_ppp where it
// can, opening /dev/ppp ppp_generic (a static device node). Nothing stays
// open. `ppp_device` is for tests.
absl::Status ProbePppoL2tp(const std::string& ppp_device = "/dev/ppp");

}  // namespace l2tp::kernel
