// rtnetlink messages about network devices, built and parsed without I/O
// (link_control.h sends them). The userspace datapath needs only a few: read a
// device's name, alias and kind, set an alias, delete a device.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace l2tp::userspace {

// One device, as RTM_NEWLINK describes it.
struct LinkInfo {
  int ifindex = 0;
  std::string name;
  std::string alias;  // IFLA_IFALIAS; empty when unset
  std::string kind;   // IFLA_INFO_KIND ("tun", "veth", ...); empty for none
};

// RTM_GETLINK for one device by name, or a dump of all (name empty).
std::vector<uint8_t> BuildGetLink(std::string_view name, uint32_t seq);
// RTM_NEWLINK (change) of device `ifindex` setting its alias.
std::vector<uint8_t> BuildSetAlias(int ifindex, std::string_view alias, uint32_t seq);
// RTM_DELLINK of device `ifindex`.
std::vector<uint8_t> BuildDeleteLink(int ifindex, uint32_t seq);

// The device an RTM_NEWLINK message (header included) describes; nullopt when
// it is not one or is malformed.
std::optional<LinkInfo> ParseLink(std::span<const uint8_t> message);

}  // namespace l2tp::userspace
