#include "agent/gate_interceptor.h"

#include <string>

#include "absl/strings/match.h"
#include "grpcpp/server_context.h"

namespace l2tp {
namespace {

constexpr char kOwnService[] = "/l2tpagent.v1.L2tpAgent/";

class GateInterceptor final : public grpc::experimental::Interceptor {
 public:
  GateInterceptor(CallGate* gate, grpc::experimental::ServerRpcInfo* info) : gate_(gate), info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      std::string method = info_->method();
      if (absl::StartsWith(method, "/")) method.erase(0, 1);
      // The ticket lives as long as the call (this interceptor).
      if (!gate_->Admit(*info_->server_context(), method, &ticket_).ok()) info_->server_context()->TryCancel();
    }
    methods->Proceed();
  }

 private:
  CallGate* gate_;
  grpc::experimental::ServerRpcInfo* info_;
  CallGate::Ticket ticket_;
};

class GateInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GateInterceptorFactory(CallGate* gate) : gate_(gate) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    if (info->method() == nullptr || absl::StartsWith(info->method(), kOwnService)) return nullptr;
    return new GateInterceptor(gate_, info);
  }

 private:
  CallGate* gate_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGateInterceptorFactory(CallGate* gate) {
  return std::make_unique<GateInterceptorFactory>(gate);
}

}  // namespace l2tp
