// One request/response exchange on a libnl socket (generic netlink or
// rtnetlink): send, then read until the ack, the kernel's error (its errno
// kept, which libnl's own return codes lose) or the end of a dump.
#pragma once

#include <netlink/netlink.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "datapath/kernel/kernel_errors.h"
#include "datapath/kernel/l2tp_messages.h"

namespace l2tp::kernel {

struct ExchangeOutcome {
  absl::Status status;
  // A receive failed part way: replies may still be queued on the socket, so
  // the caller must replace it before the next request.
  bool socket_dirty = false;
  // The dump was read to its end, but what it lists changed while it was
  // being read (NLM_F_DUMP_INTR: entries may be missing or twice); status is
  // then Aborted, and asking again gets a consistent list.
  bool interrupted = false;
};

// `on_reply` (may be null) sees every reply; the first error it returns is
// the outcome, but the walk goes on to the end so nothing stays queued.
ExchangeOutcome NetlinkExchange(nl_sock* sk, nl_msg* msg, KernelOp op, const std::string& object,
                                const std::function<absl::Status(nlmsghdr*)>* on_reply);

}  // namespace l2tp::kernel
