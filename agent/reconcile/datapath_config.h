// Translates normalised API specs into the datapath's id-keyed configs.
#pragma once

#include "agent/state/spec_defaults.h"
#include "datapath/datapath.h"

namespace l2tp {

TunnelConfig ToTunnelConfig(const v1::TunnelSpec& spec);
SessionConfig ToSessionConfig(const v1::TunnelSpec& tunnel, const v1::SessionSpec& session);
v1::Counters ToProtoCounters(const Counters& c);

}  // namespace l2tp
