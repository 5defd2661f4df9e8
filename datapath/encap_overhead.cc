#include "datapath/encap_overhead.h"

#include <algorithm>

namespace l2tp {
namespace {

constexpr uint32_t kIpv4Header = 20;
constexpr uint32_t kIpv6Header = 40;
constexpr uint32_t kUdpHeader = 8;
constexpr uint32_t kUdpFlagsWord = 4;  // L2TPv3 over UDP: flags/version, reserved
constexpr uint32_t kSessionId = 4;
constexpr uint32_t kDefaultSublayer = 4;
constexpr uint32_t kEthernetHeader = 14;

}  // namespace

uint32_t EncapOverhead(bool ipv6, Encap encap, size_t cookie_length, L2Spec l2spec) {
  const uint32_t ip = ipv6 ? kIpv6Header : kIpv4Header;
  const uint32_t udp = encap == Encap::kUdp ? kUdpHeader + kUdpFlagsWord : 0;
  const uint32_t sublayer = l2spec == L2Spec::kDefault ? kDefaultSublayer : 0;
  return ip + udp + kSessionId + static_cast<uint32_t>(cookie_length) + sublayer + kEthernetHeader;
}

uint32_t EncapOverhead(const TunnelConfig& tunnel, const SessionConfig& session) {
  return EncapOverhead(tunnel.local.is_v6(), tunnel.encap, session.cookie.size(), session.l2spec);
}

uint32_t RightSizedMtu(uint32_t underlay_mtu, uint32_t overhead) {
  const uint32_t underlay = std::min(underlay_mtu, kMaxUnderlayMtu);
  if (underlay < overhead + kMinInterfaceMtu) return kFallbackUnderlayMtu - overhead;
  return underlay - overhead;
}

uint32_t FragmentingBytes(uint32_t mtu, uint32_t overhead, uint32_t underlay_mtu) {
  if (underlay_mtu == 0) return 0;
  const uint64_t packet = uint64_t{mtu} + overhead;
  const uint32_t underlay = std::min(underlay_mtu, kMaxUnderlayMtu);
  return packet > underlay ? static_cast<uint32_t>(packet - underlay) : 0;
}

}  // namespace l2tp
