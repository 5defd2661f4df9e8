// The gRPC L2tpAgent service: a thin adapter from RPCs to the Registry.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "agent/api/call_gate.h"
#include "agent/state/event_log.h"
#include "agent/state/registry.h"
#include "l2tpagent/v1/l2tpagent.grpc.pb.h"

namespace l2tp {

struct AgentInfo {
  std::string version;
  std::string datapath;  // kernel, userspace, memory, none
  std::string datapath_message;
  bool kernel_l2tp_available = false;
  std::vector<std::string> capabilities;
};

class AgentService final : public l2tpagent::v1::L2tpAgent::Service {
 public:
  AgentService(Registry* registry, AgentInfo info) : registry_(registry), info_(std::move(info)) {}

  // Ends open Watch streams (on shutdown).
  void Shutdown() { shutting_down_ = true; }

  // Called after every call with its method, status code name and duration.
  using RpcObserver = std::function<void(const std::string& method, const std::string& code, double seconds)>;
  void set_rpc_observer(RpcObserver fn) { observer_ = std::move(fn); }

  grpc::Status Apply(grpc::ServerContext*, const l2tpagent::v1::ApplyRequest*,
                     l2tpagent::v1::ApplyResponse*) override;
  grpc::Status Delete(grpc::ServerContext*, const l2tpagent::v1::DeleteRequest*,
                      l2tpagent::v1::DeleteResponse*) override;
  grpc::Status Get(grpc::ServerContext*, const l2tpagent::v1::GetRequest*,
                   l2tpagent::v1::GetResponse*) override;
  grpc::Status List(grpc::ServerContext*, const l2tpagent::v1::ListRequest*,
                    l2tpagent::v1::ListResponse*) override;
  grpc::Status Watch(grpc::ServerContext*, const l2tpagent::v1::WatchRequest*,
                     grpc::ServerWriter<l2tpagent::v1::WatchEvent>*) override;
  grpc::Status GetInfo(grpc::ServerContext*, const l2tpagent::v1::GetInfoRequest*,
                       l2tpagent::v1::GetInfoResponse*) override;
  grpc::Status ListEvents(grpc::ServerContext*, const l2tpagent::v1::ListEventsRequest*,
                          l2tpagent::v1::ListEventsResponse*) override;
  void set_event_log(const EventLog* events) { events_ = events; }
  // Every call is first admitted by `gate` (authorization, per-client
  // concurrency); null admits everything.
  void set_call_gate(CallGate* gate) { gate_ = gate; }
  // At most this many tunnels plus sessions in one Apply (0: unlimited).
  void set_max_apply_resources(size_t n) { max_apply_resources_ = n; }

 private:
  Registry* registry_;
  AgentInfo info_;
  // Admits the call through the gate, runs `fn`, reports it to the observer.
  template <typename Fn>
  grpc::Status Observed(const char* method, grpc::ServerContext* context, Fn fn);
  grpc::Status WatchStream(grpc::ServerContext* context,
                           grpc::ServerWriter<l2tpagent::v1::WatchEvent>* writer);
  grpc::Status Info(l2tpagent::v1::GetInfoResponse* response);

  std::atomic<bool> shutting_down_{false};
  RpcObserver observer_;
  const EventLog* events_ = nullptr;
  CallGate* gate_ = nullptr;
  size_t max_apply_resources_ = 0;
};

// A backstop on what one error sends and logs: validation already cuts quoted
// values and lists at most 20 problems (validation.h); this bounds the rest,
// such as a NOT_FOUND that names a huge unknown name.
inline constexpr size_t kMaxStatusMessageBytes = 16 * 1024;
// `message`, cut to kMaxStatusMessageBytes and marked when longer.
std::string BoundedMessage(std::string_view message);

// absl::Status -> grpc::Status with the same code and message (bounded).
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace l2tp
