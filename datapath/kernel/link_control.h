// The l2tpeth interfaces of sessions, through rtnetlink (libnl-route-3):
// bring one up with an MTU, and read every interface's MTU for Observe.
#pragma once

#include <netlink/netlink.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace l2tp::kernel {

class LinkControl {
 public:
  static absl::StatusOr<std::unique_ptr<LinkControl>> Open();
  ~LinkControl();

  // Sets the interface administratively up and, when mtu != 0, its MTU.
  absl::Status SetUp(const std::string& ifname, uint32_t mtu);
  // Interface name -> MTU, one dump for all interfaces.
  absl::StatusOr<std::map<std::string, uint32_t>> Mtus();

 private:
  explicit LinkControl(nl_sock* sk) : sk_(sk) {}
  nl_sock* sk_;
};

}  // namespace l2tp::kernel
