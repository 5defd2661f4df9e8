// The agent's server interceptor. It does two things:
//
// 1. It puts the services the agent does not implement itself, gRPC health
//    and server reflection, behind the same CallGate as the API: they need
//    the reader role and count toward --max-concurrent-rpcs-per-client. (The
//    L2tpAgent service admits its own calls in service.cc, where a refusal
//    can carry its status code.) gRPC 1.51's server interceptors cannot end a
//    call before its handler runs with a status of their choosing, so a
//    refused health or reflection call is cancelled: the client sees
//    CANCELLED. The refusal is logged and counted
//    (l2tp_agent_authz_denied_total) like any other.
//
// 2. For every unary and server-streaming call it turns gRPC's reply to a
//    request body that does not parse, INTERNAL with an empty message, into
//    INVALID_ARGUMENT "request body is not a valid <method> request (protobuf
//    parse failed)": the caller sent bad bytes, the agent did not fail.
#pragma once

#include <memory>

#include "agent/api/call_gate.h"
#include "grpcpp/support/server_interceptor.h"

namespace l2tp {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGateInterceptorFactory(
    CallGate* gate);

}  // namespace l2tp
