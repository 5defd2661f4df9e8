// A datapath that keeps objects in memory and moves no packets. Used by unit
// tests and by `--datapath=memory` (integration tests, dry runs of configs);
// it enforces the datapath contract (contract.h) and the id rules the
// kernel does, so plans are exercised.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "datapath/datapath.h"

namespace l2tp::memory {

class MemoryDatapath : public Datapath {
 public:
  MemoryDatapath();
  MemoryDatapath(const MemoryDatapath&) = delete;
  MemoryDatapath& operator=(const MemoryDatapath&) = delete;

  std::string_view Name() const override { return "memory"; }
  std::vector<std::string> Capabilities() const override;
  // Ethernet only, unless a test calls OfferPpp: then "pseudowire/ppp" too.
  absl::Status PppSupport() const override;
  absl::StatusOr<Observation> Observe() override;
  // L2TPv2 (managed, as the contract allows) only while OfferPpp is on.
  absl::Status CreateTunnel(const TunnelConfig& config) override;
  absl::Status DeleteTunnel(uint32_t tunnel_id) override;
  absl::Status CreateSession(const SessionConfig& config) override;
  // NOT_FOUND for a PPP session, as the kernel's (it changes Ethernet ones).
  absl::Status ModifySession(const SessionConfig& config) override;
  absl::Status DeleteSession(uint32_t tunnel_id, uint32_t session_id) override;
  absl::Status RemoveStrayInterface(const std::string& name) override;
  // While OfferPpp is on: the session, listed by Observe with `ppp` set,
  // and a MemoryPppChannel. Counted as a write (FailNextWrites applies).
  absl::StatusOr<std::unique_ptr<PppChannel>> OpenPppChannel(const TunnelConfig& tunnel,
                                                             const SessionConfig& session) override;

  // Test hooks.
  void FailNextWrites(int count, absl::Status status);  // next `count` writes fail
  int writes() const;                                   // successful writes so far
  // Ethernet and PPP sessions alike (a PPP channel's ReadCounters says these).
  void SetSessionCounters(uint32_t tunnel_id, uint32_t session_id, const Counters& c);
  // A device left behind with this agent's mark (as by a crash).
  void AddStrayInterface(const std::string& name);
  // Says it can carry PPP pseudowires: L2TPv2 tunnels and OpenPppChannel,
  // for tests of what runs above the datapath (no frames move).
  void OfferPpp(bool offer);

  struct State;  // shared with the PPP channels, which may outlive the datapath

 private:
  std::shared_ptr<State> state_;
};

// A PPP channel of the memory datapath. fd() is one end of an AF_UNIX
// SOCK_SEQPACKET pair, peer_fd() the other (a test's stand-in for the PPP
// peer: what is written to one end is read from the other). Destroying the
// channel deletes its session if it is still the one the channel opened.
class MemoryPppChannel : public PppChannel {
 public:
  MemoryPppChannel(std::shared_ptr<MemoryDatapath::State> state, uint32_t tunnel_id, uint32_t session_id,
                   uint64_t serial, int fd, int peer_fd);
  MemoryPppChannel(const MemoryPppChannel&) = delete;
  MemoryPppChannel& operator=(const MemoryPppChannel&) = delete;
  ~MemoryPppChannel() override;

  int fd() const override { return fd_; }
  int peer_fd() const { return peer_fd_; }
  // The session's counters (SetSessionCounters); NOT_FOUND once the session
  // was deleted (DeleteSession, DeleteTunnel).
  absl::StatusOr<Counters> ReadCounters() const override;

 private:
  std::shared_ptr<MemoryDatapath::State> state_;
  uint32_t tunnel_id_, session_id_;
  uint64_t serial_;  // which opening of (tunnel_id_, session_id_) this is
  int fd_, peer_fd_;
};

}  // namespace l2tp::memory
