#include "datapath/userspace/userspace_datapath.h"

#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "datapath/contract.h"
#include "datapath/encap_overhead.h"
#include "datapath/underlay_mtu.h"
#include "datapath/userspace/device_mark.h"
#include "datapath/userspace/link_control.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/session_path.h"
#include "datapath/userspace/tap_steering.h"
#include "datapath/userspace/tunnel_path.h"
#include "datapath/userspace/virtio_net_hdr.h"

namespace l2tp::userspace {
namespace {

// Where the TAP is read through io_uring: each frame lands in a buffer of
// the thread's ring with room in front for the L2TP header (the virtio-net
// header, read first, is overwritten by it). 128 buffers of 64 KiB: enough
// for a TSO super-frame each; pages are touched only as frames need them.
Uring::Buffers TapReadBuffers() {
  static_assert(PacketBatch::kHeadroom >= VirtioNetHdr::kSize);
  return {.count = 128,
          .size = PacketBatch::kSlotSize,
          .headroom = PacketBatch::kHeadroom - VirtioNetHdr::kSize};
}

}  // namespace

absl::StatusOr<std::unique_ptr<UserspaceDatapath>> UserspaceDatapath::Create(int io_threads, IoMode io_mode,
                                                                             std::string owner,
                                                                             bool spread_tx, bool spread_rx) {
  if (owner.empty() || owner.find_first_of(" \t\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("the TAP owner tag must be one word, got \"", owner, "\""));
  }
  int n = io_threads > 0 ? io_threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::unique_ptr<UserspaceDatapath> dp(new UserspaceDatapath());
  dp->owner_ = std::move(owner);
  for (int i = 0; i < n; ++i) {
    auto ctx = std::make_unique<LoopContext>();
    if (auto st = ctx->timer.Attach(&ctx->loop); !st.ok()) return st;
    LoopContext* raw = ctx.get();
    ctx->loop.SetAfterBatchHook([raw] {
      // Packets set aside for other threads (receive spreading): hand over.
      if (!raw->handoff_pending.empty()) {
        std::vector<TunnelPath*> pending;
        pending.swap(raw->handoff_pending);
        for (TunnelPath* t : pending) t->PostHandoffs();
      }
      // Frames read from TAPs (io_uring mode) wait to be sent: send them.
      for (SessionPath* s : raw->tx_pending) s->FlushTx();
      raw->tx_pending.clear();
      // Frames the reorder timer released wait in coalescers: write them.
      for (SessionPath* s : raw->touched) s->FlushReceived();
      raw->touched.clear();
      raw->timer.Rearm();
    });
    if (auto st = ctx->loop.Start(io_mode, TapReadBuffers()); !st.ok()) {
      return st;
    }
    dp->loops_.push_back(std::move(ctx));
  }
  if (spread_tx && n > 1) {
    auto program = LoadFlowSteeringProgram();
    if (program.ok()) {
      dp->steering_program_ = *program;
      dp->spread_rx_ = spread_rx && dp->io() == "io_uring";
    } else {
      L2TP_LOG(kInfo) << "userspace datapath: each session transmits from one thread ("
                      << program.status().message() << ")";
    }
  }
  for (const auto& ctx : dp->loops_) {
    if (const absl::Status& ring = ctx->loop.uring_status(); !ring.ok()) {
      L2TP_LOG(kInfo) << "userspace datapath: io_uring unusable (" << ring.message()
                      << "); reading TAPs and sockets with epoll";
      break;
    }
  }
  return dp;
}

std::string_view UserspaceDatapath::io() const {
  for (const auto& ctx : loops_) {
    if (!ctx->loop.uses_uring()) return "epoll";
  }
  return "io_uring";
}

UserspaceDatapath::~UserspaceDatapath() {
  std::lock_guard lock(mu_);
  for (auto& [id, t] : tunnels_) {
    StopReplicas(t);
    t.ctx->loop
        .RunSync([&t] {
          t.path->Stop(/*remove_taps=*/false);  // persistent TAPs outlive us
          t.path.reset();
          return absl::OkStatus();
        })
        .IgnoreError();
  }
  tunnels_.clear();
  // Threads first: their after-batch hooks use the rest of the context.
  for (auto& ctx : loops_) ctx->loop.Stop();
  loops_.clear();
  if (steering_program_ >= 0) close(steering_program_);
}

std::vector<std::string> UserspaceDatapath::Capabilities() const {
  std::vector<std::string> caps = {"encap/udp",
                                   "encap/ip",
                                   "ipv4",
                                   "ipv6",
                                   "pseudowire/eth",
                                   "cookies",
                                   "sequencing",
                                   "reordering",
                                   "udp/shared-local-port",
                                   "io/" + std::string(io())};
  if (spreads_tx()) caps.push_back("tx/spread");
  if (spreads_rx()) caps.push_back("rx/spread");
  return caps;
}

void UserspaceDatapath::ForEachOwnSession(
    absl::FunctionRef<void(uint32_t, TunnelEntry&, const SessionPath&)> fn) {
  for (const auto& ctx : loops_) {
    ctx->loop
        .RunSync([&] {
          for (auto& [tid, t] : tunnels_) {
            if (t.ctx != ctx.get()) continue;
            for (const auto& [sid, s] : t.path->sessions()) fn(tid, t, *s);
          }
          return absl::OkStatus();
        })
        .IgnoreError();
  }
}

void UserspaceDatapath::ReapDeadSessions() {
  std::vector<std::pair<uint32_t, uint32_t>> dead;  // tunnel, session
  ForEachOwnSession([&](uint32_t tid, TunnelEntry&, const SessionPath& s) {
    if (!s.TapAlive()) dead.emplace_back(tid, s.config().session_id);
  });
  for (const auto& [tid, sid] : dead) {
    L2TP_LOG(kWarning) << "userspace datapath: TAP of session " << tid << "/" << sid
                       << " vanished; dropping the session";
    TunnelEntry& t = tunnels_.at(tid);
    ForgetSessionReplicas(t, sid);
    t.ctx->loop
        .RunSync([&] {
          t.path->RemoveSession(sid, /*remove_tap=*/true);
          return absl::OkStatus();
        })
        .IgnoreError();
  }
}

absl::StatusOr<Observation> UserspaceDatapath::Observe() {
  std::lock_guard lock(mu_);
  ReapDeadSessions();
  FollowPeerSequencing();
  // One RunSync per thread, whatever the number of tunnels: first what the
  // replicas counted, then each thread's own tunnels.
  const std::map<uint32_t, ReplicaCounters> replicas = CountReplicas();
  const ReplicaCounters none;
  Observation obs;
  for (const auto& ctx : loops_) {
    ctx->loop
        .RunSync([&] {
          for (const auto& [tid, t] : tunnels_) {
            if (t.ctx != ctx.get()) continue;
            auto r = replicas.find(tid);
            const ReplicaCounters& counted = r == replicas.end() ? none : r->second;
            obs.tunnels.push_back(ObservedTunnel{t.path->config(), t.path->counters()});
            obs.tunnels.back().counters += counted.tunnel;
            ObserveSessions(t, counted, &obs);
          }
          return absl::OkStatus();
        })
        .IgnoreError();
  }
  std::sort(obs.tunnels.begin(), obs.tunnels.end(),
            [](const auto& a, const auto& b) { return a.config.tunnel_id < b.config.tunnel_id; });
  std::sort(obs.sessions.begin(), obs.sessions.end(), [](const auto& a, const auto& b) {
    return std::pair(a.config.tunnel_id, a.config.session_id) <
           std::pair(b.config.tunnel_id, b.config.session_id);
  });
  if (auto st = ListStrays(&obs); !st.ok()) return st;
  return obs;
}

void UserspaceDatapath::ObserveSessions(const TunnelEntry& t, const ReplicaCounters& replicas,
                                        Observation* obs) {
  if (t.path->sessions().empty()) return;
  const TunnelConfig& tunnel = t.path->config();
  const uint32_t underlay = UnderlayMtu(t.socket_fd, tunnel);  // one getsockopt per tunnel
  for (const auto& [sid, s] : t.path->sessions()) {
    const uint32_t overhead = EncapOverhead(tunnel, s->config());
    ObservedSession o{s->config(), s->counters()};
    if (auto r = replicas.sessions.find(sid); r != replicas.sessions.end()) o.counters += r->second;
    if (auto r = t.retired.find(sid); r != t.retired.end()) o.counters += r->second;
    // A TAP right-sized for an underlay that has changed since is not what
    // mtu 0 asks for any more: say what it has, and the agent resizes it.
    if (o.config.mtu == 0 && s->interface_mtu() != RightSizedMtu(underlay, overhead)) {
      o.config.mtu = s->interface_mtu();
    }
    o.underlay_mtu = underlay;
    o.fragmenting_bytes = FragmentingBytes(s->interface_mtu(), overhead, underlay);
    obs->sessions.push_back(std::move(o));
  }
}

uint32_t UserspaceDatapath::SessionMtu(const TunnelEntry& t, const SessionConfig& config) {
  if (config.mtu != 0) return config.mtu;
  const TunnelConfig& tunnel = t.path->config();
  return RightSizedMtu(UnderlayMtu(t.socket_fd, tunnel), EncapOverhead(tunnel, config));
}

bool UserspaceDatapath::HoldsInterface(const std::string& name) const {
  for (const auto& [tid, t] : tunnels_) {
    for (const auto& [sid, s] : t.path->sessions()) {
      if (s->config().interface_name == name) return true;
    }
  }
  return false;
}

absl::Status UserspaceDatapath::ListStrays(Observation* obs) const {
  auto links = ListLinks();
  if (!links.ok()) return links.status();
  // The sessions just observed are every session held: one set, not a walk
  // over all sessions per device.
  std::set<std::string> held;
  for (const ObservedSession& s : obs->sessions) held.insert(s.config.interface_name);
  for (const LinkInfo& link : *links) {
    if (link.kind == "tun" && IsMarkedBy(link.alias, owner_) && !held.count(link.name)) {
      obs->stray_interfaces.push_back(link.name);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> UserspaceDatapath::ExistsAndIsOurs(const std::string& name) const {
  auto link = FindLink(name);
  if (!link.ok()) return link.status();
  if (!link->has_value()) return false;
  if (IsMarkedBy((*link)->alias, owner_)) return true;
  return absl::FailedPreconditionError(absl::StrCat(
      "interface ", name, " exists and is not this agent's (",
      (*link)->alias.empty() ? "it has no alias" : absl::StrCat("its alias is \"", (*link)->alias, "\""),
      ", not an l2tp-agent mark); it is left untouched: choose another interface_name or remove the device"));
}

absl::Status UserspaceDatapath::RemoveStrayInterface(const std::string& name) {
  std::lock_guard lock(mu_);
  if (HoldsInterface(name)) {
    return absl::FailedPreconditionError(absl::StrCat("interface ", name, " belongs to a session"));
  }
  auto link = FindLink(name);
  if (!link.ok()) return link.status();
  if (!link->has_value()) return absl::OkStatus();  // gone already
  if ((*link)->kind != "tun" || !IsMarkedBy((*link)->alias, owner_)) {
    return absl::FailedPreconditionError(
        absl::StrCat("interface ", name, " is not this agent's; left untouched"));
  }
  return DeleteLink((*link)->ifindex);
}

absl::Status UserspaceDatapath::CreateTunnel(const TunnelConfig& config) {
  if (auto st = CheckTunnelConfig(config); !st.ok()) return st;
  if (config.version != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("tunnel ", config.tunnel_id, ": version ", config.version,
                     "; the userspace datapath carries L2TPv3 Ethernet pseudowires only"));
  }
  std::lock_guard lock(mu_);
  if (tunnels_.count(config.tunnel_id)) {
    return absl::AlreadyExistsError(absl::StrCat("tunnel ", config.tunnel_id, " exists"));
  }
  const bool managed = config.socket_fd >= 0;
  if (managed && control_sink_ == nullptr) {
    return absl::FailedPreconditionError("a managed tunnel needs a control frame sink; none is set");
  }
  auto socket = managed ? TunnelSocket::Adopt(config) : TunnelSocket::Open(config);
  if (!socket.ok()) return socket.status();
  LoopContext* ctx = std::min_element(loops_.begin(), loops_.end(), [](const auto& a, const auto& b) {
                       return a->tunnel_count < b->tunnel_count;
                     })->get();
  const int socket_fd = socket->fd();
  auto path = std::make_unique<TunnelPath>(config, std::move(*socket), ctx,
                                           managed ? control_sink_ : nullptr);
  if (auto st = ctx->loop.RunSync([&] { return path->Start(); }); !st.ok()) return st;
  ++ctx->tunnel_count;
  TunnelEntry& entry = tunnels_[config.tunnel_id];
  entry.ctx = ctx;
  entry.path = std::move(path);
  entry.socket_fd = socket_fd;
  L2TP_LOG(kInfo) << "userspace datapath: tunnel " << config.tunnel_id << " up"
                  << (managed ? " (managed)" : "");
  return absl::OkStatus();
}

absl::Status UserspaceDatapath::DeleteTunnel(uint32_t tunnel_id) {
  std::lock_guard lock(mu_);
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end()) {
    return absl::NotFoundError(absl::StrCat("tunnel ", tunnel_id, " not found"));
  }
  TunnelEntry& t = it->second;
  StopReplicas(t);  // their TAP queues first: the TAPs go once every queue is closed
  t.ctx->loop
      .RunSync([&t] {
        t.path->Stop(/*remove_taps=*/true);
        t.path.reset();
        return absl::OkStatus();
      })
      .IgnoreError();
  --t.ctx->tunnel_count;
  tunnels_.erase(it);
  return absl::OkStatus();
}

absl::Status UserspaceDatapath::CheckSessionIds(const SessionConfig& config) const {
  const TunnelEntry& own = tunnels_.at(config.tunnel_id);
  for (const auto& [tid, t] : tunnels_) {
    // Session ids must be unique netns-wide when IP encapsulation is involved:
    // there is no tunnel id on the wire (kernel l2tp_session_register).
    bool ip_involved = own.path->config().encap == Encap::kIp || t.path->config().encap == Encap::kIp;
    for (const auto& [sid, s] : t.path->sessions()) {
      if (tid == config.tunnel_id && sid == config.session_id) {
        return absl::AlreadyExistsError(absl::StrCat("session ", sid, " exists"));
      }
      if (tid != config.tunnel_id && sid == config.session_id && ip_involved) {
        return absl::AlreadyExistsError(
            absl::StrCat("session id ", sid, " is in use by IP-encapsulated tunnel ", tid));
      }
      if (s->config().interface_name == config.interface_name) {
        return absl::AlreadyExistsError(absl::StrCat("interface ", config.interface_name, " exists"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status UserspaceDatapath::CreateSession(const SessionConfig& config) {
  if (auto st = CheckSessionConfig(config); !st.ok()) return st;
  std::lock_guard lock(mu_);
  auto it = tunnels_.find(config.tunnel_id);
  if (it == tunnels_.end()) {
    return absl::NotFoundError(absl::StrCat("tunnel ", config.tunnel_id, " not found"));
  }
  TunnelEntry& t = it->second;
  // Session maps and configs are read here from the control thread: they only
  // change in RunSync closures issued under mu_, which we hold.
  absl::Status ids = CheckSessionIds(config);
  if (absl::IsAlreadyExists(ids)) {
    // A session whose TAP vanished is not a real conflict: drop it first.
    ReapDeadSessions();
    ids = CheckSessionIds(config);
  }
  if (!ids.ok()) return ids;

  // Only a device that is ours may be attached to (after a restart); anyone
  // else's is never touched. A TAP we create and then fail to use is
  // removed; one that was there already is left as it was.
  auto ours = ExistsAndIsOurs(config.interface_name);
  if (!ours.ok()) return ours.status();
  const bool existed = *ours;
  auto tap = TapDevice::Open(config.interface_name, /*tso=*/true,
                             FormatDeviceMark(owner_, config.tunnel_id, config.session_id),
                             /*multi_queue=*/steering_program_ >= 0);
  if (!tap.ok()) return tap.status();
  if (auto st = tap->Configure(SessionMtu(t, config)); !st.ok()) {
    if (!existed) tap->Remove();
    return st;
  }
  auto session = std::make_unique<SessionPath>(config, std::move(*tap), t.path.get(), t.ctx);
  const TapDevice& session_tap = session->tap();
  if (auto st = t.ctx->loop.RunSync([&]() -> absl::Status {
        auto added = t.path->AddSession(std::move(session));
        if (!added.ok()) {
          session->Stop(/*remove_tap=*/!existed);
          session.reset();  // on this thread: it unregisters from the loop
        }
        return added;
      });
      !st.ok()) {
    return st;
  }
  // The session is in place (its TAP stays put while mu_ is held).
  AddSessionReplicas(t, config, session_tap);
  L2TP_LOG(kInfo) << "userspace datapath: session " << config.tunnel_id << "/" << config.session_id << " on "
                  << config.interface_name;
  return absl::OkStatus();
}

absl::Status UserspaceDatapath::ModifySession(const SessionConfig& config) {
  std::lock_guard lock(mu_);
  auto it = tunnels_.find(config.tunnel_id);
  if (it == tunnels_.end()) {
    return absl::NotFoundError(absl::StrCat("tunnel ", config.tunnel_id, " not found"));
  }
  TunnelEntry& t = it->second;
  SessionConfig before;
  const TapDevice* tap = nullptr;
  if (auto st = t.ctx->loop.RunSync([&]() -> absl::Status {
        const SessionPath* s = t.path->FindSession(config.session_id);
        if (!s) return absl::NotFoundError(absl::StrCat("session ", config.session_id, " not found"));
        before = s->config();
        tap = &s->tap();
        return CheckSessionModify(before, config);
      });
      !st.ok()) {
    return st;
  }
  // Replicas send without sequence numbers: they go before the session's
  // first sequenced frame, and come (back) once it sends none. Required
  // sequence numbers are checked in one place: the session's flows are no
  // longer spread on receive before the first frame that must be checked.
  const bool sequencing_on = config.send_sequence && !before.send_sequence;
  if (sequencing_on) {
    RemoveSessionReplicas(t, config.session_id);
  } else if (!RxSpreadable(config)) {
    SetRxSpread(t, config.session_id, false);
  }
  const uint32_t mtu = SessionMtu(t, config);
  absl::Status st = t.ctx->loop.RunSync(
      [&] { return t.path->FindSession(config.session_id)->Modify(config, mtu); });
  const SessionConfig& now = st.ok() ? config : before;
  if (st.ok()) ModifySessionReplicas(t, config, mtu);
  // Replicas were removed above, or the session had none: off now, or back
  // as it was.
  if (!now.send_sequence && (sequencing_on || before.send_sequence)) {
    AddSessionReplicas(t, now, *tap);
  } else {
    SetRxSpread(t, config.session_id, RxSpreadable(now));
  }
  return st;
}

absl::Status UserspaceDatapath::DeleteSession(uint32_t tunnel_id, uint32_t session_id) {
  std::lock_guard lock(mu_);
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end()) {
    return absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
  }
  TunnelEntry& t = it->second;
  ForgetSessionReplicas(t, session_id);  // their TAP queues first
  return t.ctx->loop.RunSync([&]() -> absl::Status {
    if (!t.path->RemoveSession(session_id, /*remove_tap=*/true)) {
      return absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
    }
    return absl::OkStatus();
  });
}

}  // namespace l2tp::userspace
