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

namespace l2tp::kernel {

class LinkControl {
 public:
  static absl::StatusOr<std::unique_ptr<LinkControl>> Open();
  ~LinkControl();

  // Sets the interface administratively up and, when mtu != 0, its MTU.
  absl::Status SetUp(const std::string& ifname, uint32_t mtu);
  // Interface name -> MTU, one dump for all interfaces.
  absl::StatusOr<std::unordered_map<std::string, uint32_t>> Mtus();

 private:
  explicit LinkControl(nl_sock* sk) : sk_(sk) {}
  absl::Status Exchange(NlMsgPtr msg, const std::string& object,
                        const std::function<absl::Status(nlmsghdr*)>* on_reply);
  nl_sock* sk_;
};

}  // namespace l2tp::kernel
