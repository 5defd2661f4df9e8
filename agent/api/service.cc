#include "agent/api/service.h"

#include "absl/strings/str_cat.h"
#include "agent/state/validation.h"
#include "common/log.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;

std::string BoundedMessage(std::string_view message) {
  if (message.size() <= kMaxStatusMessageBytes) return std::string(message);
  return absl::StrCat(absl::string_view(message.data(), kMaxStatusMessageBytes), "... (", message.size(),
                      " bytes in all)");
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const absl::string_view m = status.message();
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), BoundedMessage({m.data(), m.size()}));
}

namespace {
// Runs `fn`, logs a rejected write with its reason, and converts the status.
template <typename Fn>
grpc::Status Handle(const char* method, Fn fn) {
  absl::Status st = fn();
  if (!st.ok()) {
    const absl::string_view m = st.message();
    L2TP_LOG(kInfo) << "rpc " << method << " rejected: " << absl::StatusCodeToString(st.code()) << ": "
                    << BoundedMessage({m.data(), m.size()});
  }
  return ToGrpc(st);
}
}  // namespace

template <typename Fn>
grpc::Status AgentService::Observed(const char* method, grpc::ServerContext* context, Fn fn) {
  const auto start = std::chrono::steady_clock::now();
  CallGate::Ticket ticket;  // held until the call (a Watch stream too) ends
  grpc::Status status = gate_ != nullptr ? gate_->Admit(*context, method, &ticket) : grpc::Status::OK;
  if (status.ok()) status = fn();
  if (observer_) {
    observer_(method, absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return status;
}

grpc::Status AgentService::Apply(grpc::ServerContext* context, const v1::ApplyRequest* request,
                                 v1::ApplyResponse* response) {
  return Observed("Apply", context, [&] {
    return Handle("Apply", [&] {
      if (const size_t n = request->tunnels_size() + request->sessions_size();
          max_apply_resources_ != 0 && n > max_apply_resources_) {
        return absl::ResourceExhaustedError(
            absl::StrCat("--max-apply-resources=", max_apply_resources_, ": the request holds ", n,
                         " tunnels and sessions; split it into smaller batches"));
      }
      // Secret files are checked on writes only, never when the state file
      // is reloaded at start (validation.h).
      if (auto st = ViolationsToStatus(absl::StatusCode::kFailedPrecondition, CheckSecretFiles(*request));
          !st.ok())
        return st;
      auto r = registry_->Apply(*request);
      if (r.ok()) *response = *std::move(r);
      return r.status();
    });
  });
}

grpc::Status AgentService::Delete(grpc::ServerContext* context, const v1::DeleteRequest* request,
                                  v1::DeleteResponse* response) {
  return Observed("Delete", context, [&] {
    return Handle("Delete", [&] {
      auto r = registry_->Delete(*request);
      if (r.ok()) *response = *std::move(r);
      return r.status();
    });
  });
}

grpc::Status AgentService::Get(grpc::ServerContext* context, const v1::GetRequest* request,
                               v1::GetResponse* response) {
  return Observed("Get", context, [&] {
    auto r = registry_->Get(*request);
    if (r.ok()) *response = *std::move(r);
    return ToGrpc(r.status());
  });
}

grpc::Status AgentService::List(grpc::ServerContext* context, const v1::ListRequest* request,
                                v1::ListResponse* response) {
  return Observed("List", context, [&] {
    auto r = registry_->List(*request);
    if (r.ok()) *response = *std::move(r);
    return ToGrpc(r.status());
  });
}

grpc::Status AgentService::Watch(grpc::ServerContext* context, const v1::WatchRequest*,
                                 grpc::ServerWriter<v1::WatchEvent>* writer) {
  return Observed("Watch", context, [&] { return WatchStream(context, writer); });
}

grpc::Status AgentService::WatchStream(grpc::ServerContext* context,
                                       grpc::ServerWriter<v1::WatchEvent>* writer) {
  std::vector<v1::WatchEvent> snapshot;
  auto sub = registry_->Watch(&snapshot);
  struct Unsubscribe {
    Registry* r;
    std::shared_ptr<WatchSubscription> s;
    ~Unsubscribe() { r->Unwatch(s); }
  } guard{registry_, sub};
  for (const auto& e : snapshot) {
    if (!writer->Write(e)) return grpc::Status::CANCELLED;
  }
  v1::WatchEvent event;
  while (!context->IsCancelled() && !shutting_down_) {
    if (sub->Next(&event, std::chrono::milliseconds(200))) {
      if (!writer->Write(event)) return grpc::Status::CANCELLED;
    } else if (sub->overflowed()) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "the watcher fell too far behind; watch again for a fresh snapshot");
    }
  }
  if (shutting_down_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the agent is shutting down");
  return grpc::Status::CANCELLED;
}

grpc::Status AgentService::GetInfo(grpc::ServerContext* context, const v1::GetInfoRequest*,
                                   v1::GetInfoResponse* response) {
  return Observed("GetInfo", context, [&] { return Info(response); });
}

grpc::Status AgentService::Info(v1::GetInfoResponse* response) {
  response->set_version(info_.version);
  response->set_datapath(info_.datapath);
  response->set_datapath_message(info_.datapath_message);
  response->set_kernel_l2tp_available(info_.kernel_l2tp_available);
  for (const auto& c : info_.capabilities) response->add_capabilities(c);
  response->set_tunnels(static_cast<uint32_t>(registry_->tunnel_count()));
  response->set_sessions(static_cast<uint32_t>(registry_->session_count()));
  return grpc::Status::OK;
}

grpc::Status AgentService::ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                                      v1::ListEventsResponse* response) {
  return Observed("ListEvents", context, [&] {
    if (events_ != nullptr) *response = events_->List(request->limit());
    return grpc::Status::OK;
  });
}

}  // namespace l2tp
