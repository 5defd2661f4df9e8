#include "agent/api/gate_interceptor.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/server_context.h"

namespace l2tp {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

constexpr char kOwnService[] = "/l2tpagent.v1.L2tpAgent/";

class GateInterceptor final : public grpc::experimental::Interceptor {
 public:
  GateInterceptor(CallGate* gate, ServerRpcInfo* info) : gate_(gate), info_(info) {
    method_ = info->method();
    if (absl::StartsWith(method_, "/")) method_.erase(0, 1);
    gated_ = !absl::StartsWith(info->method(), kOwnService);
    // Calls whose one request is read before the handler runs: the only ones
    // where a failed read means the request did not parse.
    one_request_ = info->type() == ServerRpcInfo::Type::UNARY ||
                   info->type() == ServerRpcInfo::Type::SERVER_STREAMING;
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (gated_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      // The ticket lives as long as the call (this interceptor).
      if (!gate_->Admit(*info_->server_context(), method_, &ticket_).ok())
        info_->server_context()->TryCancel();
    }
    // gRPC hands the interceptor no message when the body failed to parse.
    if (one_request_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      request_unparsed_ = true;
    }
    if (request_unparsed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      ReplaceParseFailure(methods);
    }
    methods->Proceed();
  }

 private:
  // gRPC answers an unparsable body with INTERNAL and an empty message, a
  // missing one with INTERNAL and a reason of its own; the caller is at
  // fault either way, so say so.
  void ReplaceParseFailure(grpc::experimental::InterceptorBatchMethods* methods) const {
    const grpc::Status sent = methods->GetSendStatus();
    if (sent.error_code() != grpc::StatusCode::INTERNAL) return;
    const std::string why = sent.error_message().empty() ? "protobuf parse failed"
                                                         : absl::StrCat("gRPC: ", sent.error_message());
    methods->ModifySendStatus(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                     absl::StrCat("request body is not a valid ", method_, " request (", why, ")")));
  }

  CallGate* gate_;
  ServerRpcInfo* info_;
  std::string method_;  // "package.Service/Method"
  bool gated_ = false;
  bool one_request_ = false;
  bool request_unparsed_ = false;
  CallGate::Ticket ticket_;
};

class GateInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GateInterceptorFactory(CallGate* gate) : gate_(gate) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    if (info->method() == nullptr) return nullptr;  // unknown method: gRPC answers UNIMPLEMENTED
    return new GateInterceptor(gate_, info);
  }

 private:
  CallGate* gate_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGateInterceptorFactory(
    CallGate* gate) {
  return std::make_unique<GateInterceptorFactory>(gate);
}

}  // namespace l2tp
