// Puts the services the agent does not implement itself, gRPC health and
// server reflection, behind the same CallGate as the API: they need the reader
// role and count toward --max-concurrent-rpcs-per-client. (The L2tpAgent
// service admits its own calls in service.cc, where a refusal can carry its
// status code.)
//
// gRPC 1.51's server interceptors cannot end a call with a status of their
// choosing, so a refused health or reflection call is cancelled before its
// handler runs: the client sees CANCELLED. The refusal is logged and counted
// (l2tp_agent_authz_denied_total) like any other.
#pragma once

#include <memory>

#include "agent/call_gate.h"
#include "grpcpp/support/server_interceptor.h"

namespace l2tp {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGateInterceptorFactory(CallGate* gate);

}  // namespace l2tp
