#include "agent/ppp/address_pool.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"
#include "agent/ppp/ipv4.h"

namespace l2tp::ppp {

absl::StatusOr<AddressPool> AddressPool::Create(std::string_view cidr, std::string_view local_address,
                                                std::string_view field) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(Av(field), " ", Av(cidr), ": ", Av(why)));
  };
  const size_t slash = cidr.find('/');
  const std::optional<uint32_t> base = ParseIpv4(cidr.substr(0, slash));
  int bits = -1;
  if (slash == std::string_view::npos || !base) {
    if (cidr.find(':') != std::string_view::npos) {
      return invalid("IPv6 pools are not supported (pppd assigns IPv4 addresses; IPv6 uses IPV6CP)");
    }
    return absl::InvalidArgumentError(absl::StrCat(Av(field), ": want an IPv4 CIDR like 10.0.0.0/24, got \"",
                                                   absl::CHexEscape(Av(cidr)), "\""));
  }
  const std::string_view length = cidr.substr(slash + 1);
  const bool digits = !length.empty() && length.size() <= 2 &&
                      length.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits || !absl::SimpleAtoi(Av(length), &bits) || bits > 32) {
    return invalid("the prefix length must be 0..32");
  }
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  if ((*base & ~mask) != 0) {
    return invalid(
        absl::StrCat("host bits are set (the network is ", FormatIpv4(*base & mask), "/", bits, ")"));
  }
  const uint32_t network = *base;
  const uint32_t broadcast = network | ~mask;
  // Every special range is a whole /8 or larger and aligned, so checking the
  // ends is enough.
  for (uint32_t end : {network, broadcast}) {
    if (const std::string_view why = UnusableLinkAddress(end); !why.empty()) {
      return invalid(absl::StrCat("holds ", FormatIpv4(end), ", which ", Av(why)));
    }
  }

  AddressPool pool;
  pool.field_ = std::string(field);
  pool.cidr_ = std::string(cidr);
  pool.first_ = bits >= 31 ? network : network + 1;
  pool.last_ = bits >= 31 ? broadcast : broadcast - 1;
  pool.size_ = uint64_t{pool.last_} - pool.first_ + 1;
  if (!local_address.empty()) {
    const std::optional<uint32_t> local = ParseIpv4(local_address);
    if (!local) {
      return absl::InvalidArgumentError(absl::StrCat("local_address: want an IPv4 address, got \"",
                                                     absl::CHexEscape(Av(local_address)), "\""));
    }
    if (*local >= pool.first_ && *local <= pool.last_) {
      pool.excluded_ = *local;
      --pool.size_;
    }
  }
  if (pool.size_ == 0) return invalid("has no address left to give a call");
  return pool;
}

absl::StatusOr<std::string> AddressPool::Allocate(const std::string& call) {
  if (auto it = by_call_.find(call); it != by_call_.end()) return FormatIpv4(it->second);
  if (by_call_.size() >= size_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(field_, " ", cidr_, ": all ", size_, " addresses in use"));
  }
  // The first gap in the sorted addresses in use (and the excluded one).
  uint32_t candidate = first_;
  auto used = used_.begin();
  for (;;) {
    if (excluded_ && candidate == *excluded_) {
      ++candidate;
      continue;
    }
    if (used != used_.end() && *used == candidate) {
      ++used;
      ++candidate;
      continue;
    }
    break;
  }
  used_.insert(candidate);
  by_call_[call] = candidate;
  return FormatIpv4(candidate);
}

bool AddressPool::Release(const std::string& call) {
  auto it = by_call_.find(call);
  if (it == by_call_.end()) return false;
  used_.erase(it->second);
  by_call_.erase(it);
  return true;
}

std::optional<std::string> AddressPool::AddressOf(const std::string& call) const {
  auto it = by_call_.find(call);
  if (it == by_call_.end()) return std::nullopt;
  return FormatIpv4(it->second);
}

}  // namespace l2tp::ppp
