// How API enums and resource references read on the terminal.
#pragma once

#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::cli {

std::string PhaseName(l2tpagent::v1::Phase phase);                     // "READY"; "UNKNOWN" when unset
std::string EventTypeName(l2tpagent::v1::WatchEvent::Type type);       // "ADDED", "SYNCED"
std::string EncapName(l2tpagent::v1::Encapsulation encap);             // "udp" (also when unset), "ip"
std::string SublayerName(l2tpagent::v1::L2SpecificSublayer s);         // "default" (also when unset), "none"
std::string PseudowireName(l2tpagent::v1::Pseudowire pw);              // "eth" (also when unset), "ppp"
std::string KindName(l2tpagent::v1::ResourceKind kind);                // "tunnel", "session"
std::string EventReasonName(l2tpagent::v1::Event::Reason reason);      // "FAILED", "CONTROL"
std::string ControlStateName(l2tpagent::v1::ControlState state);       // "ESTABLISHED"; "UNKNOWN" when unset
std::string ControlRoleName(l2tpagent::v1::TunnelControl::Role role);  // "initiator", "responder"; "-" unset
std::string PppPhaseName(l2tpagent::v1::PppPhase phase);               // "NETWORK"; "UNKNOWN" when unset

// "tunnel/t1"
std::string ResourceRef(l2tpagent::v1::ResourceKind kind, const std::string& name);

// Whether the L2TP control protocol sets the resource up: a DYNAMIC tunnel,
// or a session of one (it has a Remote End ID, is a PPP pseudowire, or the
// agent reports its control state).
bool UsesControl(const l2tpagent::v1::Tunnel& tunnel);
bool UsesControl(const l2tpagent::v1::Session& session);

// The CONTROL column and watch lines: "static" when the control protocol is
// not used, else the control state ("ESTABLISHED", "DOWN").
std::string ControlText(const l2tpagent::v1::Tunnel& tunnel);
std::string ControlText(const l2tpagent::v1::Session& session);

// status.message, followed ("; ") by what the control protocol says when it
// is used: its own message and, while a tunnel is not ESTABLISHED, "last
// stop: <reason>". Parts another part already contains are left out.
std::string StatusText(const l2tpagent::v1::Tunnel& tunnel);
std::string StatusText(const l2tpagent::v1::Session& session);

}  // namespace l2tp::cli
