// The one place every API call is admitted or refused: who is calling
// (peer_identity.h), whether their role allows the method (authz_policy.h),
// and whether they are within --max-concurrent-rpcs-per-client.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "agent/api/authz_policy.h"
#include "agent/api/peer_identity.h"
#include "grpcpp/support/status.h"

namespace grpc {
class ServerContextBase;
}

namespace l2tp {

class CallGate {
 public:
  struct Options {
    AuthzPolicy policy = AuthzPolicy::Default(Role::kNone);
    size_t max_concurrent_per_client = 0;  // 0: unlimited
    UnixPeerLookup unix_peers;
    // Called for every denied call with the method and the role it needs.
    std::function<void(const std::string& method, const char* role)> on_denied;
  };

  explicit CallGate(Options options) : options_(std::move(options)) {}

  // Holds the caller's concurrency slot until destroyed.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept : gate_(other.gate_), key_(std::move(other.key_)) {
      other.gate_ = nullptr;
    }
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket();

   private:
    friend class CallGate;
    Ticket(CallGate* gate, std::string key) : gate_(gate), key_(std::move(key)) {}
    CallGate* gate_ = nullptr;
    std::string key_;
  };

  // OK and a ticket, or PERMISSION_DENIED naming the identity and the role
  // needed, or RESOURCE_EXHAUSTED naming the limit.
  grpc::Status Admit(const grpc::ServerContextBase& context, const std::string& method, Ticket* ticket);
  // The same decision for an identity already known (unit tests).
  grpc::Status Admit(const PeerIdentity& peer, const std::string& method, Ticket* ticket);

  size_t in_flight(const std::string& key) const;

 private:
  void Release(const std::string& key);

  const Options options_;
  mutable std::mutex mu_;
  std::map<std::string, size_t> in_flight_;  // by PeerIdentity::Key()
};

}  // namespace l2tp
