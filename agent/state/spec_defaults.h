// Fills in defaults so that equal intent compares equal: a spec is stored and
// compared only in this normalised form. Normalise after validation.
#pragma once

#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

constexpr uint32_t kDefaultL2tpPort = 1701;

// Whether the tunnel is set up by the L2TP control protocol: control.mode
// DYNAMIC. An unset control, and MODE_UNSPECIFIED, mean STATIC.
bool IsDynamic(const l2tpagent::v1::TunnelSpec& spec);

// A DYNAMIC L2TPv2 tunnel, whose sessions are PPP (a STATIC one is refused).
bool IsL2tpv2(const l2tpagent::v1::TunnelSpec& spec);

// A PPP session on the LNS (server) side: its DYNAMIC tunnel is RESPONDER.
// Its interface_name is a prefix each call's number follows.
bool IsPppLns(const l2tpagent::v1::TunnelSpec& tunnel, const l2tpagent::v1::SessionSpec& session);

// version 0 -> 3, encap -> UDP, UDP ports 0 -> 1701, addresses in canonical
// text. A control that says no more than STATIC (mode UNSPECIFIED or STATIC,
// nothing else set) is cleared: unset means STATIC, and equal intent must
// compare equal (or adding `control: {mode: STATIC}` would replace the
// tunnel). Nothing else in control is filled in: an unset hello_interval,
// retransmit_retries, receive_window or host_name stays unset and means the
// default at run time (host_name: the node's hostname).
void NormalizeTunnelSpec(l2tpagent::v1::TunnelSpec* spec);

// pseudowire -> ETH, sublayer -> DEFAULT (NONE in an L2TPv2 tunnel), cookies
// to lowercase hex, and an empty interface name ->
// DefaultInterfaceName(tunnel.tunnel_id, session_id); in a DYNAMIC tunnel
// where either id is 0 (picked at run time), it is
// DefaultInterfaceNameForSession(session_name) instead. An LNS PPP session
// (IsPppLns): ppp.authentication -> CHAP, and an empty interface name ->
// DefaultPppInterfacePrefix(session_name). The rest of ppp stays as given
// (unset lcp_echo_interval and 0 lcp_echo_failure or max_sessions mean their
// defaults at run time). `session_name` is the session's (unique) resource name.
void NormalizeSessionSpec(const l2tpagent::v1::TunnelSpec& tunnel, const std::string& session_name,
                          l2tpagent::v1::SessionSpec* spec);
// The same without the name, for STATIC tunnels: a DYNAMIC tunnel's session
// with an id 0 gets the id-based name here, which sessions may share.
void NormalizeSessionSpec(const l2tpagent::v1::TunnelSpec& tunnel, l2tpagent::v1::SessionSpec* spec);

}  // namespace l2tp
