// The control library's status, as the API shows it.
#pragma once

#include <string>

#include "control/connection.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

l2tpagent::v1::ControlState ToProtoState(control::TunnelState s);
l2tpagent::v1::ControlState ToProtoState(control::SessionState s);
l2tpagent::v1::TunnelControlStatus ToProto(const control::TunnelStatus& s);
l2tpagent::v1::SessionControlStatus ToProto(const control::SessionStatus& s);

// "control connection ESTABLISHED: why", as status messages and events say it.
std::string DescribeTunnel(const control::TunnelStatus& s);
std::string DescribeSession(const control::SessionStatus& s);

}  // namespace l2tp
