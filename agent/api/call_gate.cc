#include "agent/api/call_gate.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "grpcpp/server_context.h"

namespace l2tp {

CallGate::Ticket::~Ticket() {
  if (gate_ != nullptr) gate_->Release(key_);
}

CallGate::Ticket& CallGate::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (gate_ != nullptr) gate_->Release(key_);
    gate_ = other.gate_;
    key_ = std::move(other.key_);
    other.gate_ = nullptr;
  }
  return *this;
}

grpc::Status CallGate::Admit(const grpc::ServerContextBase& context, const std::string& method,
                             Ticket* ticket) {
  return Admit(IdentifyPeer(context, options_.unix_peers), method, ticket);
}

grpc::Status CallGate::Admit(const PeerIdentity& peer, const std::string& method, Ticket* ticket) {
  const Role needed = RequiredRole(method);
  const Role has = options_.policy.RoleOf(peer);
  if (has < needed) {
    std::string message = absl::StrCat(peer.Describe(), " may not call ", method, ": it needs the ",
                                       RoleName(needed), " role and has ",
                                       has == Role::kNone ? "none"
                                                          : absl::StrCat("the ", RoleName(has), " role"));
    L2TP_LOG(kWarning) << "authz: denied: " << message;
    if (options_.on_denied) options_.on_denied(method, RoleName(needed));
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, message);
  }
  if (options_.max_concurrent_per_client == 0) return grpc::Status::OK;
  std::string key = peer.Key();
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t& n = in_flight_[key];
    if (n >= options_.max_concurrent_per_client) {
      std::string message = absl::StrCat("--max-concurrent-rpcs-per-client=",
                                         options_.max_concurrent_per_client, ": ", peer.Describe(),
                                         " already has ", n, " calls in flight (open Watch streams count)");
      if (n == 0) in_flight_.erase(key);
      L2TP_LOG(kInfo) << "limits: refused " << method << ": " << message;
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, message);
    }
    ++n;
  }
  *ticket = Ticket(this, std::move(key));
  return grpc::Status::OK;
}

size_t CallGate::in_flight(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_flight_.find(key);
  return it == in_flight_.end() ? 0 : it->second;
}

void CallGate::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;
  if (--it->second == 0) in_flight_.erase(it);
}

}  // namespace l2tp
