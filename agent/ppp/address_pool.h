// The addresses an LNS template gives its calls (remote_address_pool): an
// IPv4 CIDR range without its network and broadcast addresses (a /31 and a
// /32 have none, RFC 3021) and without the LNS's own local_address. One
// address per call, the lowest free one first, never one in use. Pure; not
// thread-safe.
//
// IPv4 only: pppd's <local>:<remote> assigns IPv4 addresses; IPv6 over PPP
// uses interface identifiers (IPV6CP), not addresses from a pool.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace l2tp::ppp {

class AddressPool {
 public:
  // `cidr` as "10.0.0.0/24"; `local_address` ("" for none) is never handed
  // out. Errors name `field` and say why: not a CIDR, host bits set, a range
  // of loopback, multicast or other addresses no link may use, nothing left
  // to hand out.
  static absl::StatusOr<AddressPool> Create(std::string_view cidr, std::string_view local_address,
                                            std::string_view field = "remote_address_pool");

  // The call's address: the one it has, or the lowest free one.
  // RESOURCE_EXHAUSTED when every address is in use:
  // "remote_address_pool 10.0.0.0/30: all 1 addresses in use".
  absl::StatusOr<std::string> Allocate(const std::string& call);
  // Frees the call's address; false when it had none.
  bool Release(const std::string& call);

  std::optional<std::string> AddressOf(const std::string& call) const;
  uint64_t size() const { return size_; }  // addresses the pool can hand out
  size_t in_use() const { return by_call_.size(); }
  const std::string& cidr() const { return cidr_; }

 private:
  AddressPool() = default;

  std::string field_;
  std::string cidr_;
  uint32_t first_ = 0;  // the first and last addresses handed out
  uint32_t last_ = 0;
  std::optional<uint32_t> excluded_;  // local_address, when inside [first_, last_]
  uint64_t size_ = 0;
  std::map<std::string, uint32_t> by_call_;
  std::set<uint32_t> used_;
};

}  // namespace l2tp::ppp
