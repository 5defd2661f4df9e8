// The l2tpeth interfaces of sessions, through rtnetlink: bring one up with an
// MTU (one RTM_SETLINK by name, no read first), and read every interface's
// MTU for Observe (one dump, parsed for the two attributes that matter).
#pragma once

#include <netlink/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "datapath/kernel/l2tp_messages.h"
#include "datapath/kernel/netlink_exchange.h"

namespace l2tp::kernel {

class LinkControl {
 public:
  static absl::StatusOr<std::unique_ptr<LinkControl>> Open();
  ~LinkControl();

  // Sets the interface administratively up and, when mtu != 0, its MTU.
  absl::Status SetUp(const std::string& ifname, uint32_t mtu);
  // Interface name -> MTU, one dump for all interfaces. A dump that
  // interfaces changed under (NLM_F_DUMP_INTR: hundreds of PPP interfaces
  // coming and going) is asked again, kDumpAttempts in all, since older
  // kernels may skip an entry then; if every attempt was interrupted, the
  // last list is returned as it is: an interface it lacks has no known MTU
  // for this pass, which is no reason to fail Observe.
  absl::StatusOr<std::unordered_map<std::string, uint32_t>> Mtus();
  // Dumps that interfaces changed under while they were read.
  uint64_t interrupted_dumps() const { return interrupted_dumps_; }

  static constexpr int kDumpAttempts = 4;

 private:
  explicit LinkControl(nl_sock* sk) : sk_(sk) {}
  ExchangeOutcome Exchange(NlMsgPtr msg, const std::string& object,
                           const std::function<absl::Status(nlmsghdr*)>* on_reply);
  nl_sock* sk_;
  uint64_t interrupted_dumps_ = 0;
};

}  // namespace l2tp::kernel
