// Translates normalised API specs into the datapath's id-keyed configs.
#pragma once

#include "agent/state/spec_defaults.h"
#include "datapath/datapath.h"

namespace l2tp {

TunnelConfig ToTunnelConfig(const l2tpagent::v1::TunnelSpec& spec);
SessionConfig ToSessionConfig(const l2tpagent::v1::TunnelSpec& tunnel,
                              const l2tpagent::v1::SessionSpec& session);
l2tpagent::v1::Counters ToProtoCounters(const Counters& c);

}  // namespace l2tp
