// A datapath that keeps objects in memory and moves no packets. Used by unit
// tests and by `--datapath=memory` (integration tests, dry runs of configs);
// it enforces the datapath contract (contract.h) and the id rules the
// kernel does, so plans are exercised.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "datapath/datapath.h"

namespace l2tp::memory {

class MemoryDatapath : public Datapath {
 public:
  std::string_view Name() const override { return "memory"; }
  std::vector<std::string> Capabilities() const override;
  // Ethernet only, unless a test calls OfferPpp: then "pseudowire/ppp" too.
  absl::Status PppSupport() const override;
  absl::StatusOr<Observation> Observe() override;
  absl::Status CreateTunnel(const TunnelConfig& config) override;
  absl::Status DeleteTunnel(uint32_t tunnel_id) override;
  absl::Status CreateSession(const SessionConfig& config) override;
  absl::Status ModifySession(const SessionConfig& config) override;
  absl::Status DeleteSession(uint32_t tunnel_id, uint32_t session_id) override;
  absl::Status RemoveStrayInterface(const std::string& name) override;

  // Test hooks.
  void FailNextWrites(int count, absl::Status status);  // next `count` writes fail
  int writes() const;                                   // successful writes so far
  void SetSessionCounters(uint32_t tunnel_id, uint32_t session_id, const Counters& c);
  // A device left behind with this agent's mark (as by a crash).
  void AddStrayInterface(const std::string& name);
  // Says it can carry PPP pseudowires (it keeps no PPP state: for tests of
  // what is accepted above the datapath).
  void OfferPpp(bool offer);

 private:
  absl::Status MaybeFail();

  mutable std::mutex mu_;
  std::map<uint32_t, ObservedTunnel> tunnels_;
  std::map<std::pair<uint32_t, uint32_t>, ObservedSession> sessions_;
  int fail_count_ = 0;
  absl::Status fail_status_;
  int writes_ = 0;
  std::set<std::string> strays_;
  bool offer_ppp_ = false;
};

}  // namespace l2tp::memory
