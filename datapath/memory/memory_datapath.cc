#include "datapath/memory/memory_datapath.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "datapath/contract.h"

namespace l2tp::memory {

struct MemoryDatapath::State {
  struct Session {
    ObservedSession observed;
    uint64_t channel = 0;  // the PPP channel's serial; 0: made by CreateSession
  };

  // A write that may fail on demand (FailNextWrites); mu held.
  absl::Status MaybeFail() {
    if (fail_count > 0) {
      --fail_count;
      return fail_status;
    }
    ++writes;
    return absl::OkStatus();
  }

  mutable std::mutex mu;
  std::map<uint32_t, ObservedTunnel> tunnels;
  std::map<std::pair<uint32_t, uint32_t>, Session> sessions;
  int fail_count = 0;
  absl::Status fail_status;
  int writes = 0;
  std::set<std::string> strays;
  bool offer_ppp = false;
  uint64_t next_channel = 1;
};

MemoryDatapath::MemoryDatapath() : state_(std::make_shared<State>()) {}

std::vector<std::string> MemoryDatapath::Capabilities() const {
  std::vector<std::string> caps = {"encap/udp",      "encap/ip", "ipv4",       "ipv6",
                                   "pseudowire/eth", "cookies",  "sequencing", "udp/shared-local-port"};
  std::lock_guard lock(state_->mu);
  if (state_->offer_ppp) caps.emplace_back("pseudowire/ppp");
  return caps;
}

absl::Status MemoryDatapath::PppSupport() const {
  std::lock_guard lock(state_->mu);
  if (state_->offer_ppp) return absl::OkStatus();
  return absl::FailedPreconditionError("the memory datapath carries Ethernet pseudowires only");
}

void MemoryDatapath::OfferPpp(bool offer) {
  std::lock_guard lock(state_->mu);
  state_->offer_ppp = offer;
}

absl::StatusOr<Observation> MemoryDatapath::Observe() {
  State& d = *state_;
  std::lock_guard lock(d.mu);
  Observation obs;
  obs.tunnels.reserve(d.tunnels.size());
  obs.sessions.reserve(d.sessions.size());
  for (const auto& [id, t] : d.tunnels) obs.tunnels.push_back(t);
  for (const auto& [key, s] : d.sessions) obs.sessions.push_back(s.observed);
  obs.stray_interfaces.assign(d.strays.begin(), d.strays.end());
  return obs;
}

absl::Status MemoryDatapath::RemoveStrayInterface(const std::string& name) {
  std::lock_guard lock(state_->mu);
  if (state_->strays.erase(name) == 0) return absl::NotFoundError(absl::StrCat("no stray interface ", name));
  return absl::OkStatus();
}

void MemoryDatapath::AddStrayInterface(const std::string& name) {
  std::lock_guard lock(state_->mu);
  state_->strays.insert(name);
}

absl::Status MemoryDatapath::CreateTunnel(const TunnelConfig& config) {
  if (auto st = CheckTunnelConfig(config); !st.ok()) return st;
  State& d = *state_;
  std::lock_guard lock(d.mu);
  if (config.version == 2 && !d.offer_ppp) {
    return absl::InvalidArgumentError(
        absl::StrCat("tunnel ", config.tunnel_id,
                     ": version 2; the memory datapath carries L2TPv3 Ethernet pseudowires only"));
  }
  if (d.tunnels.count(config.tunnel_id)) {
    return absl::AlreadyExistsError(absl::StrCat("tunnel ", config.tunnel_id, " exists"));
  }
  if (auto st = d.MaybeFail(); !st.ok()) return st;
  d.tunnels[config.tunnel_id] = ObservedTunnel{config, {}};
  return absl::OkStatus();
}

absl::Status MemoryDatapath::DeleteTunnel(uint32_t tunnel_id) {
  State& d = *state_;
  std::lock_guard lock(d.mu);
  if (!d.tunnels.count(tunnel_id)) {
    return absl::NotFoundError(absl::StrCat("tunnel ", tunnel_id, " not found"));
  }
  if (auto st = d.MaybeFail(); !st.ok()) return st;
  d.tunnels.erase(tunnel_id);
  std::erase_if(d.sessions, [&](const auto& kv) { return kv.first.first == tunnel_id; });
  return absl::OkStatus();
}

absl::Status MemoryDatapath::CreateSession(const SessionConfig& config) {
  if (auto st = CheckSessionConfig(config); !st.ok()) return st;
  State& d = *state_;
  std::lock_guard lock(d.mu);
  if (!d.tunnels.count(config.tunnel_id)) {
    return absl::NotFoundError(absl::StrCat("tunnel ", config.tunnel_id, " not found"));
  }
  if (d.sessions.count({config.tunnel_id, config.session_id})) {
    return absl::AlreadyExistsError(absl::StrCat("session ", config.session_id, " exists"));
  }
  for (const auto& [key, s] : d.sessions) {
    if (!s.observed.ppp && s.observed.config.interface_name == config.interface_name) {
      return absl::AlreadyExistsError(absl::StrCat("interface ", config.interface_name, " exists"));
    }
  }
  if (auto st = d.MaybeFail(); !st.ok()) return st;
  d.sessions[{config.tunnel_id, config.session_id}] = State::Session{ObservedSession{config, {}}, 0};
  return absl::OkStatus();
}

absl::Status MemoryDatapath::ModifySession(const SessionConfig& config) {
  State& d = *state_;
  std::lock_guard lock(d.mu);
  auto it = d.sessions.find({config.tunnel_id, config.session_id});
  if (it == d.sessions.end()) {
    return absl::NotFoundError(absl::StrCat("session ", config.session_id, " not found"));
  }
  if (it->second.observed.ppp) {
    return absl::NotFoundError(absl::StrCat("modify session ", config.tunnel_id, "/", config.session_id,
                                            ": not an Ethernet pseudowire session"));
  }
  if (auto st = CheckSessionModify(it->second.observed.config, config); !st.ok()) return st;
  if (auto st = d.MaybeFail(); !st.ok()) return st;
  it->second.observed.config = config;
  return absl::OkStatus();
}

absl::Status MemoryDatapath::DeleteSession(uint32_t tunnel_id, uint32_t session_id) {
  State& d = *state_;
  std::lock_guard lock(d.mu);
  auto it = d.sessions.find({tunnel_id, session_id});
  if (it == d.sessions.end()) {
    return absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
  }
  if (auto st = d.MaybeFail(); !st.ok()) return st;
  d.sessions.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PppChannel>> MemoryDatapath::OpenPppChannel(const TunnelConfig& tunnel,
                                                                           const SessionConfig& session) {
  if (auto st = PppSupport(); !st.ok()) return st;
  if (auto st = CheckPppSessionConfig(tunnel, session); !st.ok()) return st;
  const std::string what = absl::StrCat("open PPP session ", session.tunnel_id, "/", session.session_id);
  State& d = *state_;
  std::lock_guard lock(d.mu);
  if (!d.tunnels.count(session.tunnel_id)) {
    return absl::NotFoundError(absl::StrCat(what, ": tunnel ", session.tunnel_id, " not found"));
  }
  if (d.sessions.count({session.tunnel_id, session.session_id})) {
    return absl::AlreadyExistsError(absl::StrCat(what, ": the session exists"));
  }
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(what, ": socketpair"));
  }
  if (auto st = d.MaybeFail(); !st.ok()) {
    close(fds[0]);
    close(fds[1]);
    return st;
  }
  // As the kernel reports a PPP session: no interface of its own (pppd
  // makes the pppN one), so no name or MTU.
  ObservedSession s{session, {}};
  s.config.interface_name.clear();
  s.config.mtu = 0;
  s.mtu_known = false;
  s.ppp = true;
  const uint64_t serial = d.next_channel++;
  d.sessions[{session.tunnel_id, session.session_id}] = State::Session{std::move(s), serial};
  return std::unique_ptr<PppChannel>(std::make_unique<MemoryPppChannel>(state_, session.tunnel_id,
                                                                        session.session_id, serial, fds[0],
                                                                        fds[1]));
}

void MemoryDatapath::FailNextWrites(int count, absl::Status status) {
  std::lock_guard lock(state_->mu);
  state_->fail_count = count;
  state_->fail_status = std::move(status);
}

int MemoryDatapath::writes() const {
  std::lock_guard lock(state_->mu);
  return state_->writes;
}

void MemoryDatapath::SetSessionCounters(uint32_t tunnel_id, uint32_t session_id, const Counters& c) {
  std::lock_guard lock(state_->mu);
  auto it = state_->sessions.find({tunnel_id, session_id});
  if (it != state_->sessions.end()) it->second.observed.counters = c;
}

MemoryPppChannel::MemoryPppChannel(std::shared_ptr<MemoryDatapath::State> state, uint32_t tunnel_id,
                                   uint32_t session_id, uint64_t serial, int fd, int peer_fd)
    : state_(std::move(state)),
      tunnel_id_(tunnel_id),
      session_id_(session_id),
      serial_(serial),
      fd_(fd),
      peer_fd_(peer_fd) {}

MemoryPppChannel::~MemoryPppChannel() {
  close(fd_);
  close(peer_fd_);
  // Like closing a PPPoL2TP socket: the session goes, unless it was deleted
  // already and the ids now belong to another.
  std::lock_guard lock(state_->mu);
  auto it = state_->sessions.find({tunnel_id_, session_id_});
  if (it != state_->sessions.end() && it->second.channel == serial_) state_->sessions.erase(it);
}

absl::StatusOr<Counters> MemoryPppChannel::ReadCounters() const {
  std::lock_guard lock(state_->mu);
  auto it = state_->sessions.find({tunnel_id_, session_id_});
  if (it == state_->sessions.end() || it->second.channel != serial_) {
    return absl::NotFoundError(
        absl::StrCat("PPP session ", tunnel_id_, "/", session_id_, ": deleted while its channel is open"));
  }
  return it->second.observed.counters;
}

}  // namespace l2tp::memory
