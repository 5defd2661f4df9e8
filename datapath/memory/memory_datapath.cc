#include "datapath/memory/memory_datapath.h"

#include "absl/strings/str_cat.h"
#include "datapath/contract.h"

namespace l2tp::memory {

std::vector<std::string> MemoryDatapath::Capabilities() const {
  std::vector<std::string> caps = {"encap/udp",      "encap/ip", "ipv4",       "ipv6",
                                   "pseudowire/eth", "cookies",  "sequencing", "udp/shared-local-port"};
  std::lock_guard lock(mu_);
  if (offer_ppp_) caps.emplace_back("pseudowire/ppp");
  return caps;
}

absl::Status MemoryDatapath::PppSupport() const {
  std::lock_guard lock(mu_);
  if (offer_ppp_) return absl::OkStatus();
  return absl::FailedPreconditionError("the memory datapath carries Ethernet pseudowires only");
}

void MemoryDatapath::OfferPpp(bool offer) {
  std::lock_guard lock(mu_);
  offer_ppp_ = offer;
}

absl::Status MemoryDatapath::MaybeFail() {
  if (fail_count_ > 0) {
    --fail_count_;
    return fail_status_;
  }
  ++writes_;
  return absl::OkStatus();
}

absl::StatusOr<Observation> MemoryDatapath::Observe() {
  std::lock_guard lock(mu_);
  Observation obs;
  obs.tunnels.reserve(tunnels_.size());
  obs.sessions.reserve(sessions_.size());
  for (const auto& [id, t] : tunnels_) obs.tunnels.push_back(t);
  for (const auto& [key, s] : sessions_) obs.sessions.push_back(s);
  obs.stray_interfaces.assign(strays_.begin(), strays_.end());
  return obs;
}

absl::Status MemoryDatapath::RemoveStrayInterface(const std::string& name) {
  std::lock_guard lock(mu_);
  if (strays_.erase(name) == 0) return absl::NotFoundError(absl::StrCat("no stray interface ", name));
  return absl::OkStatus();
}

void MemoryDatapath::AddStrayInterface(const std::string& name) {
  std::lock_guard lock(mu_);
  strays_.insert(name);
}

absl::Status MemoryDatapath::CreateTunnel(const TunnelConfig& config) {
  if (auto st = CheckTunnelConfig(config); !st.ok()) return st;
  std::lock_guard lock(mu_);
  if (tunnels_.count(config.tunnel_id)) {
    return absl::AlreadyExistsError(absl::StrCat("tunnel ", config.tunnel_id, " exists"));
  }
  if (auto st = MaybeFail(); !st.ok()) return st;
  tunnels_[config.tunnel_id] = ObservedTunnel{config, {}};
  return absl::OkStatus();
}

absl::Status MemoryDatapath::DeleteTunnel(uint32_t tunnel_id) {
  std::lock_guard lock(mu_);
  if (!tunnels_.count(tunnel_id)) {
    return absl::NotFoundError(absl::StrCat("tunnel ", tunnel_id, " not found"));
  }
  if (auto st = MaybeFail(); !st.ok()) return st;
  tunnels_.erase(tunnel_id);
  std::erase_if(sessions_, [&](const auto& kv) { return kv.first.first == tunnel_id; });
  return absl::OkStatus();
}

absl::Status MemoryDatapath::CreateSession(const SessionConfig& config) {
  if (auto st = CheckSessionConfig(config); !st.ok()) return st;
  std::lock_guard lock(mu_);
  if (!tunnels_.count(config.tunnel_id)) {
    return absl::NotFoundError(absl::StrCat("tunnel ", config.tunnel_id, " not found"));
  }
  if (sessions_.count({config.tunnel_id, config.session_id})) {
    return absl::AlreadyExistsError(absl::StrCat("session ", config.session_id, " exists"));
  }
  for (const auto& [key, s] : sessions_) {
    if (s.config.interface_name == config.interface_name) {
      return absl::AlreadyExistsError(absl::StrCat("interface ", config.interface_name, " exists"));
    }
  }
  if (auto st = MaybeFail(); !st.ok()) return st;
  sessions_[{config.tunnel_id, config.session_id}] = ObservedSession{config, {}};
  return absl::OkStatus();
}

absl::Status MemoryDatapath::ModifySession(const SessionConfig& config) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find({config.tunnel_id, config.session_id});
  if (it == sessions_.end()) {
    return absl::NotFoundError(absl::StrCat("session ", config.session_id, " not found"));
  }
  if (auto st = CheckSessionModify(it->second.config, config); !st.ok()) return st;
  if (auto st = MaybeFail(); !st.ok()) return st;
  it->second.config = config;
  return absl::OkStatus();
}

absl::Status MemoryDatapath::DeleteSession(uint32_t tunnel_id, uint32_t session_id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find({tunnel_id, session_id});
  if (it == sessions_.end()) {
    return absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
  }
  if (auto st = MaybeFail(); !st.ok()) return st;
  sessions_.erase(it);
  return absl::OkStatus();
}

void MemoryDatapath::FailNextWrites(int count, absl::Status status) {
  std::lock_guard lock(mu_);
  fail_count_ = count;
  fail_status_ = std::move(status);
}

int MemoryDatapath::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

void MemoryDatapath::SetSessionCounters(uint32_t tunnel_id, uint32_t session_id, const Counters& c) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find({tunnel_id, session_id});
  if (it != sessions_.end()) it->second.counters = c;
}

}  // namespace l2tp::memory
