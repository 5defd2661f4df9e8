// How API enums and resource references read on the terminal.
#pragma once

#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::cli {

std::string PhaseName(l2tpagent::v1::Phase phase);                // "READY"; "UNKNOWN" when unset
std::string EventTypeName(l2tpagent::v1::WatchEvent::Type type);  // "ADDED", "SYNCED"
std::string EncapName(l2tpagent::v1::Encapsulation encap);        // "udp" (also when unset), "ip"
std::string SublayerName(l2tpagent::v1::L2SpecificSublayer s);    // "default" (also when unset), "none"
std::string PseudowireName(l2tpagent::v1::Pseudowire pw);         // "eth" (also when unset), "ppp"
std::string KindName(l2tpagent::v1::ResourceKind kind);           // "tunnel", "session"

// "tunnel/t1"
std::string ResourceRef(l2tpagent::v1::ResourceKind kind, const std::string& name);

}  // namespace l2tp::cli
