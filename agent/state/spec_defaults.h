// Fills in defaults so that equal intent compares equal: a spec is stored and
// compared only in this normalised form. Normalise after validation.
#pragma once

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

constexpr uint32_t kDefaultL2tpPort = 1701;
constexpr uint32_t kUnderlayMtu = 1500;

// version 0 -> 3, encap -> UDP, UDP ports 0 -> 1701, addresses in canonical text.
void NormalizeTunnelSpec(l2tpagent::v1::TunnelSpec* spec);

// pseudowire -> ETH, sublayer -> DEFAULT, cookies to lowercase hex, and an
// empty interface name -> DefaultInterfaceName(tunnel.tunnel_id, session_id).
void NormalizeSessionSpec(const l2tpagent::v1::TunnelSpec& tunnel, l2tpagent::v1::SessionSpec* spec);

// Bytes the encapsulation adds in front of the Ethernet frame's payload,
// counting the inner Ethernet header as the kernel's l2tp_eth does.
uint32_t EncapsulationOverhead(const l2tpagent::v1::TunnelSpec& tunnel,
                               const l2tpagent::v1::SessionSpec& session);

// spec.mtu when set, otherwise 1500 minus the overhead (as l2tp_eth does).
uint32_t EffectiveMtu(const l2tpagent::v1::TunnelSpec& tunnel, const l2tpagent::v1::SessionSpec& session);

}  // namespace l2tp
