// Sync (the reconciler's pass): open connections for new DYNAMIC tunnels,
// retire those gone or changed, add and remove sessions, report what is up.
// Loop (the control plane's thread): epoll on the sockets it reads -> the
// tunnel's ReadSocket -> its connection; due timers -> OnTimer; retired
// tunnels done lingering -> closed. Every path ends in Publish.
#include "agent/control/control_plane.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "agent/control/id_picker.h"
#include "agent/control/status_proto.h"
#include "agent/reconcile/datapath_config.h"
#include "common/log.h"
#include "common/secret_file.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
using control::Clock;
using control::TimePoint;

namespace {

constexpr int kReadBudget = 64;  // frames per socket per wake-up: one busy peer cannot starve the rest
constexpr int kMaxWaitMs = 1000;

std::string NodeHostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "l2tp-agent";
  return name;
}

void Add(ControlCounters& to, const ControlCounters& c) {
  for (int i = 0; i < ControlCounters::kMessageTypes; ++i) {
    to.sent[i] += c.sent[i];
    to.received[i] += c.received[i];
  }
  to.retransmissions += c.retransmissions;
  to.auth_failures += c.auth_failures;
  to.malformed += c.malformed;
  to.illegal += c.illegal;
  to.out_of_window += c.out_of_window;
  to.unexpected_peer += c.unexpected_peer;
}

// Whether the report may say something else after these updates: every
// session change and state transition counts, and so does any news of a
// tunnel not up (its message). What an ESTABLISHED tunnel's HELLOs bring
// (round trip, retransmissions) does not.
bool ChangesReport(const ControlUpdates& u) {
  if (u.up_or_down || !u.sessions.empty()) return true;
  return std::any_of(u.tunnels.begin(), u.tunnels.end(),
                     [](const auto& t) { return t.second.state() != v1::CONTROL_STATE_ESTABLISHED; });
}

}  // namespace

struct ControlPlane::PassIds {
  IdsInUse tunnels;
  IdsInUse sessions;
};

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Create(Datapath* datapath,
                                                                   ControlPlaneOptions options) {
  if (options.host_name.empty()) options.host_name = NodeHostName();
  std::unique_ptr<ControlPlane> p(new ControlPlane(datapath, std::move(options)));
  p->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (p->epoll_fd_ < 0) return absl::ErrnoToStatus(errno, "control plane: epoll_create1");
  p->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (p->wake_fd_ < 0) return absl::ErrnoToStatus(errno, "control plane: eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // tunnel ids are never 0
  if (epoll_ctl(p->epoll_fd_, EPOLL_CTL_ADD, p->wake_fd_, &ev) < 0) {
    return absl::ErrnoToStatus(errno, "control plane: epoll_ctl");
  }
  // Taken even when handing over is off: an older run's file must not be
  // resumed by a later one.
  if (!p->options_.handover_path.empty()) {
    p->handed_over_ = TakeHandover(p->options_.handover_path, p->options_.handover_max_age);
  }
  datapath->SetControlFrameSink(p.get());
  p->thread_ = std::thread([raw = p.get()] { raw->Loop(); });
  return p;
}

ControlPlane::ControlPlane(Datapath* datapath, ControlPlaneOptions options)
    : datapath_(datapath),
      options_(std::move(options)),
      random_(std::random_device{}()),
      ppp_capable_(datapath->PppSupport().ok()) {}

ControlPlane::~ControlPlane() {
  Stop();
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ControlPlane::Stop() {
  if (stopping_.exchange(true)) return;
  Wake();
  if (thread_.joinable()) thread_.join();
  { std::lock_guard wait_for_publishers(publish_mu_); }
  // The calls' pppd first: their CDNs go out with the tunnels' below.
  if (options_.ppp_calls != nullptr) {
    std::map<uint64_t, RunningCall> calls;
    {
      std::lock_guard lock(mu_);
      calls.swap(calls_);
    }
    for (const auto& [id, call] : calls) options_.ppp_calls->EndCall(id, "the agent is stopping");
  }
  std::lock_guard lock(mu_);
  // Connections the next run can carry on are handed over; the others get
  // one StopCCN each, not waited for: the peer learns at once rather than
  // after its retries, and our sockets close right after.
  const TimePoint now = Clock::now();
  const bool handover = !options_.handover_path.empty() && options_.handover_max_age.count() > 0;
  l2tpagent::store::v1::ControlHandover file;
  for (auto& [name, t] : tunnels_) {
    std::optional<control::ConnectionSnapshot> snapshot = handover ? t->Snapshot() : std::nullopt;
    if (!snapshot) {
      t->Close(now, "the agent is stopping");
      continue;
    }
    HandedOver h{t->generation(), *snapshot, {}};
    for (const auto& [session, generation] : t->SessionGenerations()) h.sessions[session] = {generation, 0};
    *file.add_connections() = ToProto(name, h, t->SessionNames());
  }
  if (handover) {
    if (auto st = WriteHandover(options_.handover_path, file); !st.ok()) {
      L2TP_LOG(kError) << st.message() << "; the peers will see the connections time out";
    } else if (file.connections_size() > 0) {
      L2TP_LOG(kInfo) << "control handover: " << file.connections_size()
                      << " connections left for the next run in " << options_.handover_path;
    }
  }
  tunnels_.clear();
  closing_.clear();
  by_id_.clear();
  RescheduleAll();  // none left
}

void ControlPlane::set_on_change(std::function<void()> fn) {
  std::lock_guard publishing(publish_mu_);
  options_.on_change = std::move(fn);
}

void ControlPlane::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

// ---- the reconciler's side

std::shared_ptr<const DynamicObjects> ControlPlane::Sync(std::shared_ptr<const DesiredState> desired) {
  const TimePoint now = Clock::now();
  const bool changed = desired != synced_;
  std::set<std::string> ppp_sessions;
  if (changed) {  // outside the lock: the control thread waits for no one
    sessions_of_.clear();
    for (const auto& [name, s] : desired->sessions) {
      sessions_of_[s.spec().tunnel()].push_back(&s);
      if (s.spec().pseudowire() == v1::PSEUDOWIRE_PPP) ppp_sessions.insert(name);
    }
    synced_ = std::move(desired);
  }
  std::shared_ptr<const DynamicObjects> report;
  ControlUpdates updates;
  {
    std::lock_guard lock(mu_);
    // The same desired state with every tunnel open: nothing to open or close.
    if (changed) {
      for (const std::string& name : ppp_sessions_) {
        if (!ppp_sessions.count(name)) ppp_forget_.push_back(name);
      }
      ppp_sessions_ = std::move(ppp_sessions);
      ppp_dirty_ = true;
    }
    if (changed || !open_failures_.empty()) {
      SyncAll(now, *synced_);
      RescheduleAll();
      report_stale_ = true;
    }
    if (RenewSpentSockets()) report_stale_ = true;
    NoteUpdatesLocked();
    if (report_stale_) {
      report_ = std::make_shared<const DynamicObjects>(Report(*synced_));
      report_stale_ = false;
    }
    report = report_;
  }
  Wake();  // deadlines may have moved
  Publish();
  return report;
}

void ControlPlane::SyncAll(TimePoint now, const DesiredState& desired) {
  for (auto it = tunnels_.begin(); it != tunnels_.end();) {
    auto want = desired.tunnels.find(it->first);
    if (want == desired.tunnels.end() || !IsDynamic(want->second.spec())) {
      Retire(now, std::move(it->second), "the tunnel was deleted");
      it = tunnels_.erase(it);
    } else {
      ++it;
    }
  }
  PassIds ids{IdsInUse([&] { return UsedTunnelIds(desired); }),
              IdsInUse([&] { return UsedSessionIds(desired); })};
  static const std::vector<const v1::Session*> kNone;
  for (const auto& [name, t] : desired.tunnels) {
    if (!IsDynamic(t.spec())) continue;
    auto sessions = sessions_of_.find(name);
    SyncTunnel(now, t, sessions != sessions_of_.end() ? sessions->second : kNone, desired, ids);
  }
  std::erase_if(open_failures_, [&](const auto& kv) { return !desired.tunnels.count(kv.first); });
  handed_over_.clear();  // what this pass did not resume is not wanted any more
}

void ControlPlane::SyncTunnel(TimePoint now, const v1::Tunnel& tunnel,
                              const std::vector<const v1::Session*>& sessions, const DesiredState& desired,
                              PassIds& ids) {
  const std::string& name = tunnel.name();
  if (auto it = tunnels_.find(name);
      it != tunnels_.end() && it->second->generation() != tunnel.generation()) {
    Retire(now, std::move(it->second), "the tunnel's spec changed");
    tunnels_.erase(it);
  }
  if (!tunnels_.count(name)) {
    DynamicTunnel::Params p;
    p.name = name;
    p.tunnel = tunnel;
    const bool v2 = tunnel.spec().version() == 2;
    std::optional<HandedOver> resume;
    if (auto h = handed_over_.extract(name); h && h.mapped().generation == tunnel.generation()) {
      resume = std::move(h.mapped());
    }
    p.resume = resume.has_value();
    p.offer_ppp = ppp_capable_;
    p.pick_session_id = [this](uint32_t max) { return PickFreeId(random_, max, UsedSessionIds(*synced_)); };
    p.local_tunnel_id = resume ? resume->snapshot.local_tunnel_id
                        : tunnel.spec().tunnel_id() != 0
                            ? tunnel.spec().tunnel_id()
                            : ids.tunnels.Pick(random_, v2 ? 0xffff : 0xffffffff);
    p.host_name = tunnel.spec().control().host_name().empty() ? options_.host_name
                                                              : tunnel.spec().control().host_name();
    if (!tunnel.spec().control().secret_file().empty()) {
      auto secret = ReadSecretFile(tunnel.spec().control().secret_file());
      if (!secret.ok()) {
        open_failures_[name] = absl::StrCat("control.secret_file: ", secret.status().message());
        return;
      }
      p.secret = *std::move(secret);
    }
    if (p.local_tunnel_id == 0) {
      open_failures_[name] = "no free tunnel id to pick";
      return;
    }
    DropClosing(p.local_tunnel_id);  // its StopCCN is out; the id is wanted again
    auto t = DynamicTunnel::Open(std::move(p), datapath_, now, &updates_);
    if (!t.ok()) {
      open_failures_[name] = absl::StrCat("cannot open the tunnel's socket: ", t.status().message());
      return;
    }
    open_failures_.erase(name);
    DynamicTunnel& added = **t;
    // A retired connection on the same addresses and ports gives way: its
    // socket would get the new connection's frames (the kernel picks one of
    // two connected sockets alike, always the same).
    std::vector<uint32_t> same;
    for (const auto& c : closing_) {
      if (c->SameSocketAs(added)) same.push_back(c->local_tunnel_id());
    }
    for (uint32_t id : same) DropClosing(id);
    by_id_[added.local_tunnel_id()] = &added;
    tunnels_[name] = *std::move(t);
    Watch(added, true);
    L2TP_LOG(kInfo) << "control: tunnel/" << name << ": control connection "
                    << (resume ? "resumed" : "opened") << " (tunnel id " << added.local_tunnel_id() << ")";
    if (resume) {
      SyncSessions(now, added, sessions, desired, &resume->sessions, ids);
      added.Resume(now, resume->snapshot);
      return;
    }
  }
  SyncSessions(now, *tunnels_.at(name), sessions, desired, nullptr, ids);
}

void ControlPlane::SyncSessions(TimePoint now, DynamicTunnel& t,
                                const std::vector<const v1::Session*>& sessions, const DesiredState& desired,
                                const HandedOverSessions* resumed, PassIds& ids) {
  const std::map<std::string, uint64_t> held = t.SessionGenerations();
  std::set<std::string> wanted;
  for (const v1::Session* s : sessions) wanted.insert(s->name());
  for (const auto& [name, generation] : held) {
    if (!wanted.count(name)) t.RemoveSession(now, name, "the session was deleted");
  }
  for (const v1::Session* s : sessions) {
    auto h = held.find(s->name());
    if (h != held.end() && h->second == s->generation()) continue;
    if (h != held.end()) t.RemoveSession(now, s->name(), "the session's spec changed");
    uint32_t id = s->spec().session_id();
    const bool ppp = s->spec().pseudowire() == v1::PSEUDOWIRE_PPP;
    if (resumed != nullptr && !ppp) {  // the ids the previous run used, if the spec is the same
      auto r = resumed->find(s->name());
      if (r != resumed->end() && r->second.first == s->generation()) id = r->second.second;
    }
    const v1::Tunnel& tunnel = desired.tunnels.at(t.name());
    const uint32_t max_id = tunnel.spec().version() == 2 ? 0xffff : 0xffffffff;
    // One id per call slot: an LNS template's calls each have their own.
    std::vector<uint32_t> slot_ids(DynamicTunnel::CallSlots(tunnel, *s));
    for (uint32_t& slot_id : slot_ids) {
      slot_id = id != 0 ? id : ids.sessions.Pick(random_, max_id);
      id = 0;
    }
    if (std::find(slot_ids.begin(), slot_ids.end(), 0u) != slot_ids.end()) {
      L2TP_LOG(kError) << "control: session/" << s->name() << ": no free session id to pick";
      continue;
    }
    t.AddSession(now, *s, slot_ids);
  }
}

// A tunnel no longer wanted as it is: StopCCN, then linger until done.
void ControlPlane::Retire(TimePoint now, std::unique_ptr<DynamicTunnel> t, const std::string& why) {
  L2TP_LOG(kInfo) << "control: tunnel/" << t->name() << ": closing the control connection (" << why << ")";
  t->Close(now, why);
  closing_.push_back(std::move(t));
}

void ControlPlane::DropClosing(uint32_t tunnel_id) {
  std::erase_if(closing_, [&](std::unique_ptr<DynamicTunnel>& t) {
    if (t->local_tunnel_id() != tunnel_id) return false;
    Add(retired_, t->counters());
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, t->fd(), nullptr);
    by_id_.erase(tunnel_id);
    Unschedule(tunnel_id);
    return true;
  });
}

std::set<uint32_t> ControlPlane::UsedTunnelIds(const DesiredState& desired) const {
  std::set<uint32_t> used;
  for (const auto& [name, t] : desired.tunnels) used.insert(t.spec().tunnel_id());
  for (const auto& [id, t] : by_id_) used.insert(id);
  return used;
}

std::set<uint32_t> ControlPlane::UsedSessionIds(const DesiredState& desired) const {
  std::set<uint32_t> used;
  for (const auto& [name, s] : desired.sessions) used.insert(s.spec().session_id());
  for (const auto& [id, t] : by_id_) {
    for (uint32_t sid : t->SessionIds()) used.insert(sid);
  }
  return used;
}

DynamicObjects ControlPlane::Report(const DesiredState& desired) const {
  DynamicObjects r;
  for (const auto& [name, t] : desired.tunnels) {
    if (!IsDynamic(t.spec())) continue;
    auto it = tunnels_.find(name);
    if (it == tunnels_.end()) {
      auto f = open_failures_.find(name);
      r.tunnels_not_up[name] = {f != open_failures_.end() ? f->second : "not started", true};
      continue;
    }
    const DynamicTunnel& dt = *it->second;
    if (auto c = dt.DatapathTunnel(); c && c->version == 2 && !ppp_capable_) {
      r.tunnels_up_without_datapath[name] =
          "control connection ESTABLISHED; the datapath carries no PPP, so no L2TPv2 tunnel enters it";
    } else if (c) {
      r.tunnels[name] = *c;
    } else {
      // CLOSING: ended by a StopCCN either way, lingering for the last acks.
      const control::TunnelState state = dt.status().state;
      r.tunnels_not_up[name] = {DescribeTunnel(dt.status()), state == control::TunnelState::kDown ||
                                                                 state == control::TunnelState::kClosing};
    }
  }
  for (const auto& [name, s] : desired.sessions) {
    const v1::Tunnel& tunnel = desired.tunnels.at(s.spec().tunnel());
    if (!IsDynamic(tunnel.spec())) continue;
    auto it = tunnels_.find(tunnel.name());
    if (it == tunnels_.end()) {
      r.sessions_not_up[name] = {"waiting for the tunnel's control connection", false};
    } else if (auto c = it->second->DatapathSession(name)) {
      r.sessions[name] = *c;
    } else if (auto up = it->second->PppSessionUp(name)) {
      r.sessions_up_without_datapath[name] = *up;
    } else {
      r.sessions_not_up[name] = {it->second->SessionWaiting(name), false};
    }
  }
  return r;
}

void ControlPlane::DatapathTunnelCreated(uint32_t tunnel_id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(tunnel_id);
  if (it == by_id_.end()) return;
  it->second->SocketHanded();
  if (datapath_->ReadsManagedSockets()) Watch(*it->second, false);
  ppp_dirty_ = true;  // its PPP calls may start
  report_stale_ = true;
  Wake();
}

void ControlPlane::DatapathTunnelDeleted(uint32_t tunnel_id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(tunnel_id);
  if (it == by_id_.end()) return;
  it->second->SocketSpent();
  Watch(*it->second, true);
  ppp_dirty_ = true;  // its PPP calls went with it
  report_stale_ = true;
  Wake();
}

void ControlPlane::DatapathTunnelCreateFailed(uint32_t tunnel_id) {
  std::lock_guard lock(mu_);
  if (auto it = by_id_.find(tunnel_id); it != by_id_.end()) it->second->SocketSpent();
}

// A socket that carried a kernel tunnel cannot carry another one, and one
// whose connection now has another peer id is about to be replaced in the
// datapath: give the tunnel a fresh socket before the reconciler asks.
bool ControlPlane::RenewSpentSockets() {
  bool replaced = false;
  for (auto& [name, t] : tunnels_) {
    if (!t->NeedsNewSocket()) continue;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, t->fd(), nullptr);
    replaced = true;  // closed even when the new one fails
    if (auto st = t->ReplaceSocket(datapath_); !st.ok()) {
      L2TP_LOG(kError) << "control: tunnel/" << name << ": cannot open a new socket: " << st.message();
      continue;
    }
    Watch(*t, true);
  }
  return replaced;
}

// Whether this thread reads the tunnel's socket (else the datapath does).
void ControlPlane::Watch(DynamicTunnel& t, bool read) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = t.local_tunnel_id();
  if (read) {
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, t.fd(), &ev) < 0 && errno != EEXIST) {
      L2TP_LOG(kError) << "control: tunnel/" << t.name() << ": epoll_ctl: " << std::strerror(errno);
    }
  } else {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, t.fd(), nullptr);
  }
  t.SetDatapathReads(!read);
}

// ---- the datapath's side

void ControlPlane::ControlFrame(uint32_t tunnel_id, std::span<const uint8_t> frame) {
  if (stopping_) return;
  {
    std::lock_guard lock(mu_);
    auto it = by_id_.find(tunnel_id);
    if (it == by_id_.end()) {
      ++retired_.unexpected_peer;
      return;
    }
    it->second->Receive(Clock::now(), frame);
    Reschedule(tunnel_id);
  }
  Wake();  // a reply may have moved the deadlines
  Publish();
}

// ---- the control plane's thread

void ControlPlane::Loop() {
  epoll_event events[64];
  while (!stopping_) {
    int wait_ms = kMaxWaitMs;
    {
      std::lock_guard lock(mu_);
      if (!deadlines_.empty()) {
        const auto ms =
            std::chrono::ceil<std::chrono::milliseconds>(deadlines_.begin()->first - Clock::now()).count();
        wait_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, wait_ms));
      }
    }
    const int n = epoll_wait(epoll_fd_, events, 64, wait_ms);
    if (stopping_) break;
    {
      std::lock_guard lock(mu_);
      const TimePoint now = Clock::now();
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == 0) {
          uint64_t drain;
          [[maybe_unused]] ssize_t r = read(wake_fd_, &drain, sizeof drain);
          continue;
        }
        auto it = by_id_.find(static_cast<uint32_t>(events[i].data.u64));
        if (it == by_id_.end() || it->second->datapath_reads()) continue;
        it->second->ReadSocket(now, kReadBudget);
        Reschedule(it->first);
      }
      RunTimers(Clock::now());
    }
    Publish();
    RunPppCalls();
  }
}

// Runs the connections due, each once: one still due after its OnTimer
// waits for the next wake-up, which comes at once.
void ControlPlane::RunTimers(TimePoint now) {
  std::vector<uint32_t> due;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it)
    due.push_back(it->second);
  for (uint32_t id : due) {
    if (auto it = by_id_.find(id); it != by_id_.end()) it->second->OnTimer(now);
    Reschedule(id);
  }
  // Retired connections done lingering go, with their sockets.
  std::vector<uint32_t> done;
  for (const auto& t : closing_) {
    if (t->Done()) done.push_back(t->local_tunnel_id());
  }
  for (uint32_t id : done) DropClosing(id);
}

void ControlPlane::Reschedule(uint32_t tunnel_id) {
  auto it = by_id_.find(tunnel_id);
  const std::optional<TimePoint> d = it != by_id_.end() ? it->second->NextDeadline() : std::nullopt;
  auto was = deadline_of_.find(tunnel_id);
  if (was != deadline_of_.end() && d == was->second) return;
  Unschedule(tunnel_id);
  if (!d) return;
  deadline_of_[tunnel_id] = *d;
  deadlines_.insert({*d, tunnel_id});
}

void ControlPlane::RescheduleAll() {
  deadline_of_.clear();
  deadlines_.clear();
  for (const auto& [id, t] : by_id_) Reschedule(id);
}

void ControlPlane::Unschedule(uint32_t tunnel_id) {
  auto it = deadline_of_.find(tunnel_id);
  if (it == deadline_of_.end()) return;
  deadlines_.erase({it->second, tunnel_id});
  deadline_of_.erase(it);
}

void ControlPlane::NoteUpdatesLocked() {
  if (!ChangesReport(updates_)) return;
  report_stale_ = true;
  if (!updates_.sessions.empty() || updates_.up_or_down) {
    ppp_dirty_ = true;
    Wake();  // the control thread runs the PPP calls
  }
}

// Taken and published under publish_mu_: two threads publishing at once
// must not put an older status over a newer one.
void ControlPlane::Publish() {
  std::lock_guard publishing(publish_mu_);
  ControlUpdates u;
  {
    std::lock_guard lock(mu_);
    NoteUpdatesLocked();
    u = std::exchange(updates_, {});
  }
  if (u.empty() && !u.up_or_down) return;
  if (stopping_) return;  // the registry and the reconciler may be going away
  if (options_.registry != nullptr) {
    for (const auto& [name, st] : u.tunnels) options_.registry->SetTunnelControlStatus(name, st);
    for (const auto& [name, st] : u.sessions) options_.registry->SetSessionControlStatus(name, st);
  }
  for (const auto& e : u.events) {
    L2TP_LOG(kInfo) << "control: " << (e.kind == v1::RESOURCE_KIND_TUNNEL ? "tunnel/" : "session/") << e.name
                    << ": " << e.message;
    if (options_.events != nullptr)
      options_.events->Record(e.kind, e.name, v1::Event::REASON_CONTROL, e.message);
  }
  if (options_.on_hello_round_trip) {
    for (double rtt : u.hello_round_trips) options_.on_hello_round_trip(rtt);
  }
  if (u.up_or_down && options_.on_change) options_.on_change();
}

// ---- PPP calls

namespace {

// The CDN of a call whose PPP side failed: no resources (the pool is used
// up) or a general error with the reason (RFC 2661 section 4.4.2).
control::ResultCode CallFailure(const absl::Status& st) {
  return st.code() == absl::StatusCode::kResourceExhausted
             ? control::ResultCode{control::kCdnNoResources, std::nullopt, std::string(st.message())}
             : control::ResultCode{control::kCdnGeneralError, control::kErrorGeneric,
                                   std::string(st.message())};
}

}  // namespace

void ControlPlane::RunPppCalls() {
  if (options_.ppp_calls == nullptr) return;
  struct Start {
    RunningCall where;
    PppCallStart call;
  };
  std::vector<Start> starts;
  std::vector<std::pair<uint64_t, std::string>> ends;
  std::vector<std::string> forget;
  {
    std::lock_guard lock(mu_);
    if (!ppp_dirty_ || stopping_) return;
    ppp_dirty_ = false;
    forget.swap(ppp_forget_);
    std::map<std::tuple<uint32_t, uint32_t, uint64_t>, PppCallStart> up;
    for (const auto& [name, t] : tunnels_) {
      if (!t->HasPpp()) continue;
      for (DynamicTunnel::PppCallUp& c : t->PppCallsUp()) {
        up[{c.start.tunnel.tunnel_id, c.start.session_config.session_id, c.epoch}] = std::move(c.start);
      }
    }
    for (auto it = calls_.begin(); it != calls_.end();) {
      const RunningCall& c = it->second;
      if (up.erase({c.tunnel_id, c.session_id, c.epoch}) == 0) {
        auto t = by_id_.find(c.tunnel_id);
        std::string why = t != by_id_.end() ? t->second->TakeEndedWhy(c.session_id) : "";
        ends.emplace_back(it->first, why.empty() ? "the L2TP call is over" : "L2TP: " + why);
        it = calls_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [key, call] : up) {
      call.call_id = next_call_id_++;
      RunningCall where{std::get<0>(key), std::get<1>(key), std::get<2>(key)};
      calls_[call.call_id] = where;
      starts.push_back({where, std::move(call)});
    }
  }
  for (const auto& [id, why] : ends) options_.ppp_calls->EndCall(id, why);
  for (const std::string& name : forget) options_.ppp_calls->ForgetSession(name);
  for (const Start& s : starts) {
    const absl::Status st = options_.ppp_calls->StartCall(s.call);
    if (st.ok()) continue;
    L2TP_LOG(kWarning) << "control: session/" << s.call.session << ": call " << s.call.call_id
                       << " cannot start its PPP side: " << st.message();
    std::lock_guard lock(mu_);
    if (calls_.erase(s.call.call_id) == 0) continue;
    auto t = by_id_.find(s.where.tunnel_id);
    if (t == by_id_.end()) continue;
    t->second->HangUpCall(Clock::now(), s.where.session_id, s.where.epoch, CallFailure(st));
    Reschedule(s.where.tunnel_id);
  }
  if (!starts.empty()) Publish();
}

void ControlPlane::PppCallEnded(uint64_t call_id, const std::string& why) {
  {
    std::lock_guard lock(mu_);
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return;  // ended here already
    const RunningCall c = it->second;
    calls_.erase(it);
    if (auto t = by_id_.find(c.tunnel_id); t != by_id_.end()) {
      t->second->HangUpCall(Clock::now(), c.session_id, c.epoch,
                            control::ResultCode{control::kCdnGeneralError, control::kErrorGeneric, why});
      Reschedule(c.tunnel_id);
    }
  }
  Wake();
  Publish();
}

ControlCounters ControlPlane::counters() const {
  std::lock_guard lock(mu_);
  ControlCounters c = retired_;
  for (const auto& [id, t] : by_id_) Add(c, t->counters());
  return c;
}

}  // namespace l2tp
