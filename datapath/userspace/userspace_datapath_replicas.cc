// Transmit and receive spreading (userspace_datapath.h): replicas of a
// session on the other I/O threads, each reading its own queue of the
// session's multi-queue TAP and writing the flows the tunnel's thread hands
// over. Everything here runs on the control thread under mu_; the
// replicas themselves live on their threads and are touched through RunSync.
#include <unistd.h>

#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/session_path.h"
#include "datapath/userspace/tap_steering.h"
#include "datapath/userspace/tunnel_path.h"
#include "datapath/userspace/userspace_datapath.h"

namespace l2tp::userspace {
namespace {

// The replica's socket: the tunnel's, set up with checksums on (the tunnel's
// own is switched to keep them first, so the shared socket never flips back).
absl::StatusOr<TunnelSocket> ReplicaSocket(const TunnelConfig& tunnel, int fd) {
  TunnelConfig c = tunnel;
  c.socket_fd = fd;
  c.udp_checksum = true;
  c.udp6_zero_checksum_tx = false;
  return TunnelSocket::Adopt(c);
}

}  // namespace

bool UserspaceDatapath::Replicable(const SessionConfig& config, const TapDevice& tap) const {
  // Sequence numbers are one series per session: frames sent from two
  // threads would leave out of order.
  return steering_program_ >= 0 && loops_.size() > 1 && tap.multi_queue() && !config.send_sequence;
}

void UserspaceDatapath::AddSessionReplicas(TunnelEntry& t, const SessionConfig& config,
                                           const TapDevice& tap) {
  if (!Replicable(config, tap)) return;
  auto unspread = [&](const absl::Status& why) {
    L2TP_LOG(kWarning) << "userspace datapath: session " << config.tunnel_id << "/" << config.session_id
                       << " sends from one thread only: " << why.message();
    RemoveSessionReplicas(t, config.session_id);
  };
  if (auto st = AttachSteeringProgram(tap.fd(), steering_program_); !st.ok()) return unspread(st);
  if (t.replicas.empty()) {
    t.ctx->loop
        .RunSync([&t] {
          t.path->KeepChecksums();
          return absl::OkStatus();
        })
        .IgnoreError();
    for (const auto& ctx : loops_) {
      if (ctx.get() == t.ctx) continue;
      auto socket = ReplicaSocket(t.path->config(), t.socket_fd);
      if (!socket.ok()) return unspread(socket.status());
      t.replicas.push_back(
          Replica{ctx.get(), std::make_unique<TunnelPath>(t.path->config(), std::move(*socket), ctx.get(),
                                                          /*control=*/nullptr)});
    }
    if (spread_rx_) {
      std::vector<TunnelPath::HandoffTarget> targets;
      for (Replica& r : t.replicas) {
        r.ctx->loop
            .RunSync([&r] {
              r.path->AcceptHandoffs();
              return absl::OkStatus();
            })
            .IgnoreError();
        targets.push_back({r.ctx, r.path->serial()});
      }
      t.ctx->loop
          .RunSync([&] {
            t.path->SetHandoffTargets(std::move(targets));
            return absl::OkStatus();
          })
          .IgnoreError();
    }
  }
  for (Replica& r : t.replicas) {
    auto queue = tap.OpenQueue();
    if (!queue.ok()) return unspread(queue.status());
    auto session = std::make_unique<SessionPath>(config, std::move(*queue), r.path.get(), r.ctx);
    absl::Status added = r.ctx->loop.RunSync([&]() -> absl::Status {
      absl::Status st = r.path->AddSession(std::move(session));
      session.reset();  // a failed one goes on its thread
      return st;
    });
    if (!added.ok()) return unspread(added);
  }
  t.replicated.insert(config.session_id);
  SetRxSpread(t, config.session_id, RxSpreadable(config));
}

void UserspaceDatapath::RemoveSessionReplicas(TunnelEntry& t, uint32_t session_id) {
  SetRxSpread(t, session_id, false);  // what was handed over arrives first
  t.replicated.erase(session_id);
  for (Replica& r : t.replicas) {
    r.ctx->loop
        .RunSync([&] {
          if (const SessionPath* s = r.path->FindSession(session_id)) t.retired[session_id] += s->counters();
          r.path->RemoveSession(session_id, /*remove_tap=*/false);  // closes the queue
          return absl::OkStatus();
        })
        .IgnoreError();
  }
}

void UserspaceDatapath::ForgetSessionReplicas(TunnelEntry& t, uint32_t session_id) {
  RemoveSessionReplicas(t, session_id);
  t.retired.erase(session_id);
  t.following.erase(session_id);
}

void UserspaceDatapath::FollowPeerSequencing() {
  std::vector<std::pair<TunnelEntry*, uint32_t>> stop;
  std::vector<std::tuple<TunnelEntry*, SessionConfig, const TapDevice*>> resume;
  ForEachOwnSession([&](uint32_t, TunnelEntry& t, const SessionPath& s) {
    const uint32_t sid = s.config().session_id;
    if (t.replicated.count(sid) && s.sends_sequence()) stop.emplace_back(&t, sid);
    if (t.following.count(sid) && !s.sends_sequence()) resume.emplace_back(&t, s.config(), &s.tap());
  });
  for (const auto& [t, sid] : stop) {
    L2TP_LOG(kInfo) << "userspace datapath: session " << t->path->config().tunnel_id << "/" << sid
                    << " sends sequence numbers as its peer does: sending from one thread";
    RemoveSessionReplicas(*t, sid);
    t->following.insert(sid);
  }
  for (const auto& [t, config, tap] : resume) {
    t->following.erase(config.session_id);
    AddSessionReplicas(*t, config, *tap);
  }
}

void UserspaceDatapath::ModifySessionReplicas(TunnelEntry& t, const SessionConfig& config, uint32_t mtu) {
  for (Replica& r : t.replicas) {
    r.ctx->loop
        .RunSync([&] {
          // The TAP is the session's: its MTU is already what `mtu` says.
          if (SessionPath* s = r.path->FindSession(config.session_id)) return s->Modify(config, mtu);
          return absl::OkStatus();
        })
        .IgnoreError();
  }
}

void UserspaceDatapath::SetRxSpread(TunnelEntry& t, uint32_t session_id, bool on) {
  on = on && t.replicated.count(session_id) > 0;
  t.ctx->loop
      .RunSync([&] {
        if (SessionPath* s = t.path->FindSession(session_id)) s->set_rx_spread(on);
        // Posted now, what was set aside reaches the replicas before any
        // change the caller makes to them next.
        if (!on) t.path->PostHandoffs();
        return absl::OkStatus();
      })
      .IgnoreError();
}

void UserspaceDatapath::StopReplicas(TunnelEntry& t) {
  t.ctx->loop
      .RunSync([&t] {
        t.path->SetHandoffTargets({});
        return absl::OkStatus();
      })
      .IgnoreError();
  t.replicated.clear();
  for (Replica& r : t.replicas) {
    r.ctx->loop
        .RunSync([&r] {
          r.path->Stop(/*remove_taps=*/false);
          r.path.reset();
          return absl::OkStatus();
        })
        .IgnoreError();
  }
  t.replicas.clear();
}

std::map<uint32_t, UserspaceDatapath::ReplicaCounters> UserspaceDatapath::CountReplicas() const {
  std::map<uint32_t, ReplicaCounters> sums;
  for (const auto& ctx : loops_) {  // one RunSync per thread for every tunnel
    ctx->loop
        .RunSync([&] {
          for (const auto& [tid, t] : tunnels_) {
            for (const Replica& r : t.replicas) {
              if (r.ctx != ctx.get()) continue;
              ReplicaCounters& sum = sums[tid];
              sum.tunnel += r.path->counters();
              for (const auto& [sid, s] : r.path->sessions()) sum.sessions[sid] += s->counters();
            }
          }
          return absl::OkStatus();
        })
        .IgnoreError();
  }
  return sums;
}

absl::StatusOr<std::vector<Counters>> UserspaceDatapath::SessionCountersByThread(uint32_t tunnel_id,
                                                                                 uint32_t session_id) {
  std::lock_guard lock(mu_);
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end()) return absl::NotFoundError(absl::StrCat("tunnel ", tunnel_id, " not found"));
  std::vector<Counters> out;
  auto collect = [&](LoopContext* ctx, TunnelPath* path) {
    ctx->loop
        .RunSync([&] {
          if (const SessionPath* s = path->FindSession(session_id)) out.push_back(s->counters());
          return absl::OkStatus();
        })
        .IgnoreError();
  };
  collect(it->second.ctx, it->second.path.get());
  if (out.empty()) return absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
  for (Replica& r : it->second.replicas) collect(r.ctx, r.path.get());
  return out;
}

}  // namespace l2tp::userspace
