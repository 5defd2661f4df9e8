#include "agent/pppcalls/ppp_calls.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"
#include "agent/pppcalls/call_options.h"
#include "common/log.h"
#include "google/protobuf/util/time_util.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
using google::protobuf::util::TimeUtil;
using ppp::PppPhase;
using SteadyClock = std::chrono::steady_clock;

namespace {

// epoll_event.data of the eventfd; every other registration is a call id.
constexpr uint64_t kWakeKey = UINT64_MAX;
// pppd's exit statuses for failed authentication (pppd.h).
constexpr int kExitPeerAuthFailed = 11;    // EXIT_PEER_AUTH_FAILED: the LNS refused its peer
constexpr int kExitAuthToPeerFailed = 19;  // EXIT_AUTH_TOPEER_FAILED: the LAC was refused

std::string CallName(uint64_t call_id) { return absl::StrCat("call-", call_id); }

v1::PppPhase ToProto(PppPhase phase) {
  switch (phase) {
    case PppPhase::kEstablishing: return v1::PPP_PHASE_ESTABLISHING;
    case PppPhase::kAuthenticating: return v1::PPP_PHASE_AUTHENTICATING;
    case PppPhase::kNetwork: return v1::PPP_PHASE_NETWORK;
    case PppPhase::kDead: return v1::PPP_PHASE_DEAD;
  }
  return v1::PPP_PHASE_UNSPECIFIED;
}

// "we failed to authenticate to the peer (exit 19): we failed to
// authenticate to the peer with CHAP: \"Access denied\"".
std::string ExitWords(const ppp::PppdExit& exit, const ppp::PppLinkInfo& link) {
  std::string words = exit.words;
  if (WIFEXITED(exit.wait_status)) absl::StrAppend(&words, " (exit ", WEXITSTATUS(exit.wait_status), ")");
  if (!link.auth_failure.empty()) absl::StrAppend(&words, ": ", link.auth_failure);
  return words;
}

// ValidatePppOptions names PppOptions' fields: the secrets came from files
// the spec names.
absl::Status NameTheFile(const absl::Status& status) {
  for (auto [field, file] :
       {std::pair{"secrets: ", "ppp.secrets_file: "}, std::pair{"password: ", "ppp.password_file: "}}) {
    if (absl::StartsWith(status.message(), field)) {
      return absl::Status(status.code(),
                          absl::StrCat(file, status.message().substr(std::string_view(field).size())));
    }
  }
  return status;
}

// Removes the call directories a previous run left (a crash): they hold
// secrets, and nothing of this run uses them.
void RemoveLeftoverCallDirs(const std::string& run_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it(run_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with("call-") || !it->is_directory(ec) || it->is_symlink(ec)) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (rm) {
      L2TP_LOG(kWarning) << "ppp: cannot remove " << it->path().string()
                         << ", left by a previous run: " << rm.message();
    } else {
      L2TP_LOG(kInfo) << "ppp: removed " << it->path().string() << ", left by a previous run";
    }
  }
}

}  // namespace

// One live call. pppd's phase reports are collected by its callbacks into
// `reported` (shared with them, so a callback never touches PppCalls) and
// taken by the thread under the lock after ReadAvailable().
struct PppCalls::Call {
  uint64_t id = 0;
  std::string session;
  uint32_t slot = 0;
  bool lns = false;
  uint32_t session_id = 0;  // ours, for the words
  std::string interface;    // the ppp interface pppd is told to take
  std::string pool_key;     // the pool's name for the call
  std::string address;      // the LNS's pool address; "" for an LAC
  std::unique_ptr<PppChannel> channel;
  std::unique_ptr<ppp::PppdProcess> pppd;
  std::shared_ptr<std::vector<PppPhase>> reported;
  PppPhase phase = PppPhase::kEstablishing;  // as counted in stats_.calls_by_phase
  SteadyClock::time_point started;
};

// An ended call's pppd, until it is gone (the thread's).
struct PppCalls::Stopping {
  uint64_t call_id = 0;
  std::string interface;
  std::unique_ptr<ppp::PppdProcess> pppd;
  SteadyClock::time_point deadline;  // SIGKILL then
};

absl::StatusOr<std::unique_ptr<PppCalls>> PppCalls::Create(PppCallsOptions options) {
  if (options.datapath == nullptr) return absl::InvalidArgumentError("PppCalls: no datapath");
  if (options.run_dir.empty()) return absl::InvalidArgumentError("PppCalls: no run_dir");
  if (options.pppd_path.empty()) return absl::InvalidArgumentError("PppCalls: no pppd_path");
  if (options.stop_timeout.count() < 0) return absl::InvalidArgumentError("PppCalls: negative stop_timeout");
  std::unique_ptr<PppCalls> calls(new PppCalls(std::move(options)));
  if (absl::Status s = calls->Init(); !s.ok()) return s;
  return calls;
}

PppCalls::PppCalls(PppCallsOptions options) : options_(std::move(options)) {}

absl::Status PppCalls::Init() {
  RemoveLeftoverCallDirs(options_.run_dir);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return absl::ErrnoToStatus(errno, "PppCalls: epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return absl::ErrnoToStatus(errno, "PppCalls: eventfd");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeKey;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) {
    return absl::ErrnoToStatus(errno, "PppCalls: epoll_ctl");
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

PppCalls::~PppCalls() {
  Stop();
  for (int fd : {epoll_fd_, wake_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void PppCalls::Wake() {
  const uint64_t one = 1;
  // Only fails when the counter would overflow: then it is readable anyway.
  (void)!write(wake_fd_, &one, sizeof one);
}

absl::StatusOr<std::string> PppCalls::AllocateLocked(const PppCallStart& call, const std::string& key) {
  Session& s = sessions_[call.session];
  const std::string& cidr = call.ppp.remote_address_pool();
  const std::string& local = call.ppp.local_address();
  // Made on the session's first call; made again for a changed spec once
  // no call holds an address of the old one (until then the old one serves).
  if (!s.pool || ((s.pool_cidr != cidr || s.pool_local != local) && s.pool->in_use() == 0)) {
    absl::StatusOr<ppp::AddressPool> pool = ppp::AddressPool::Create(cidr, local, "ppp.remote_address_pool");
    if (!pool.ok()) return pool.status();
    s.pool = *std::move(pool);
    s.pool_cidr = cidr;
    s.pool_local = local;
  }
  absl::StatusOr<std::string> address = s.pool->Allocate(key);
  if (!address.ok()) {
    return absl::Status(address.status().code(),
                        absl::StrCat("session \"", call.session, "\": ", address.status().message()));
  }
  return address;
}

void PppCalls::ReleaseLocked(const Call& call) {
  if (call.address.empty()) return;
  auto it = sessions_.find(call.session);
  if (it != sessions_.end() && it->second.pool) it->second.pool->Release(call.pool_key);
}

// An ended call's pppd may still hold the interface a new call's pppd is to
// take (after SIGTERM it tries to end the link for up to stop_timeout): the
// new pppd would fail to rename its unit ("File exists"). The old one gets
// SIGKILL now and is waited for, up to a second: its peer is gone anyway.
void PppCalls::FreeInterface(const std::string& interface) {
  std::lock_guard lock(mu_);
  for (auto& s : stopping_calls_) {
    if (s->interface != interface || !s->pppd->running()) continue;
    kill(s->pppd->pid(), SIGKILL);
    const auto until = SteadyClock::now() + std::chrono::seconds(1);
    while (s->pppd->running() && SteadyClock::now() < until) {
      s->pppd->ReadAvailable();  // reaps it once it is gone
      if (s->pppd->running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

absl::Status PppCalls::StartCall(const PppCallStart& call) {
  const uint64_t id = call.call_id;
  const std::string name = CallName(id);
  std::string address;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return absl::FailedPreconditionError("the PPP call runner is stopped");
    if (calls_.count(id) || starting_.count(id)) {
      return absl::AlreadyExistsError(absl::StrCat("PPP call ", id, " exists"));
    }
    if (id == kWakeKey) return absl::InvalidArgumentError("call id out of range");
    Session& s = sessions_[call.session];
    if (auto live = s.live.find(call.slot); live != s.live.end()) {
      return absl::AlreadyExistsError(absl::StrCat("session \"", call.session, "\" slot ", call.slot,
                                                   " has a call already (call ", live->second, ")"));
    }
    if (call.lns) {
      absl::StatusOr<std::string> allocated = AllocateLocked(call, name);
      if (!allocated.ok()) return allocated.status();
      address = *std::move(allocated);
    }
    s.live[call.slot] = id;  // the slot is taken while the call starts
    starting_[id] = false;
  }
  // Undoes the reservation above (channel and pppd are the caller's).
  auto unreserve = [&]() {
    std::lock_guard lock(mu_);
    starting_.erase(id);
    auto it = sessions_.find(call.session);
    if (it == sessions_.end()) return;  // forgotten meanwhile: the pool went with it
    if (auto live = it->second.live.find(call.slot); live != it->second.live.end() && live->second == id) {
      it->second.live.erase(live);
    }
    if (!address.empty() && it->second.pool) it->second.pool->Release(name);
  };

  absl::StatusOr<ppp::PppOptions> ppp_options = BuildCallOptions(call, address);
  if (!ppp_options.ok()) {
    unreserve();
    return ppp_options.status();
  }
  // What pppd would refuse (PppdProcess::Start checks again) is refused
  // before the datapath opens anything.
  if (absl::Status valid = ppp::ValidatePppOptions(*ppp_options); !valid.ok()) {
    WipePppSecrets(*ppp_options);
    unreserve();
    return NameTheFile(valid);
  }
  FreeInterface(call.session_config.interface_name);
  absl::StatusOr<std::unique_ptr<PppChannel>> channel =
      options_.datapath->OpenPppChannel(call.tunnel, call.session_config);
  if (!channel.ok()) {
    WipePppSecrets(*ppp_options);
    unreserve();
    return channel.status();
  }
  ppp::PppdProcessOptions process_options;
  process_options.pppd_path = options_.pppd_path;
  process_options.run_dir = options_.run_dir;
  process_options.call = name;
  process_options.etc_dir = options_.etc_dir;
  process_options.stop_timeout = options_.stop_timeout;
  auto reported = std::make_shared<std::vector<PppPhase>>();
  ppp::PppdCallbacks callbacks;
  // Called by ReadAvailable() and Stop() on PppCalls' thread: only note the phase.
  callbacks.on_phase = [reported](PppPhase phase, const ppp::PppLinkInfo&) { reported->push_back(phase); };
  callbacks.on_line = [id](std::string_view line) {
    // pppd's packet dumps hold CHAP challenges and responses: debug only.
    L2TP_LOG(kDebug) << "ppp call " << id << ": " << line;
  };
  absl::StatusOr<std::unique_ptr<ppp::PppdProcess>> pppd =
      ppp::PppdProcess::Start(process_options, *ppp_options, (*channel)->fd(), std::move(callbacks));
  WipePppSecrets(*ppp_options);
  if (!pppd.ok()) {
    channel->reset();
    unreserve();
    return pppd.status();
  }

  auto c = std::make_unique<Call>();
  c->id = id;
  c->session = call.session;
  c->slot = call.slot;
  c->lns = call.lns;
  c->session_id = call.session_config.session_id;
  c->interface = call.session_config.interface_name;
  c->pool_key = name;
  c->address = address;
  c->channel = *std::move(channel);
  c->pppd = *std::move(pppd);
  c->reported = std::move(reported);
  c->started = SteadyClock::now();

  std::unique_ptr<Call> cancelled;
  absl::Status why_cancelled;
  {
    std::lock_guard lock(mu_);
    const bool ended = starting_[id];
    starting_.erase(id);
    auto session = sessions_.find(call.session);
    if (stopping_ || ended || session == sessions_.end()) {
      why_cancelled = stopping_ ? absl::FailedPreconditionError("the PPP call runner is stopped")
                                : absl::CancelledError(
                                      absl::StrCat("PPP call ", id, " was ended while it started"));
      if (session != sessions_.end()) {
        session->second.live.erase(call.slot);
        if (!address.empty() && session->second.pool) session->second.pool->Release(name);
      }
      cancelled = std::move(c);
    } else {
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u64 = id;
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->pppd->fd(), &event) != 0) {
        why_cancelled = absl::ErrnoToStatus(errno, "cannot poll pppd: epoll_ctl");
        session->second.live.erase(call.slot);
        if (!address.empty() && session->second.pool) session->second.pool->Release(name);
        cancelled = std::move(c);
      }
    }
    if (!cancelled) {
      v1::PppCallStatus& st = session->second.statuses[call.slot];
      st.Clear();
      st.set_session_id(call.session_config.session_id);
      st.set_peer_session_id(call.session_config.peer_session_id);
      st.set_phase(v1::PPP_PHASE_ESTABLISHING);
      st.set_interface_name(call.session_config.interface_name);
      if (!call.lns) st.set_user(call.ppp.user());  // the name we authenticate as
      *st.mutable_started_time() = TimeUtil::GetCurrentTime();
      *st.mutable_last_transition_time() = st.started_time();
      ++stats_.calls_started;
      ++stats_.calls_by_phase[static_cast<int>(PppPhase::kEstablishing)];
      outbox_.statuses.insert(call.session);
      outbox_.events.emplace_back(call.session,
                                  absl::StrCat("call ", id, " (session ", c->session_id,
                                               "): PPP ESTABLISHING, pppd ", c->pppd->pid(), " on ",
                                               call.session_config.interface_name,
                                               call.lns ? absl::StrCat(", peer address ", address) : ""));
      calls_[id] = std::move(c);
      Wake();
    }
  }
  if (cancelled) {
    // Stops pppd here (the thread never saw it), then closes the channel.
    cancelled->pppd.reset();
    cancelled->channel.reset();
    return why_cancelled;
  }
  return absl::OkStatus();
}

void PppCalls::FinishLocked(Call& call, const std::string& failure, const std::string& event) {
  auto session = sessions_.find(call.session);
  if (session != sessions_.end()) {
    Session& s = session->second;
    v1::PppCallStatus& st = s.statuses[call.slot];
    st.set_phase(v1::PPP_PHASE_DEAD);
    st.set_last_failure(failure);
    // The link is gone and the address back in the pool (maybe another call's already).
    st.clear_local_address();
    st.clear_peer_address();
    *st.mutable_last_transition_time() = TimeUtil::GetCurrentTime();
    if (auto live = s.live.find(call.slot); live != s.live.end() && live->second == call.id)
      s.live.erase(live);
    outbox_.statuses.insert(call.session);
  }
  ReleaseLocked(call);
  --stats_.calls_by_phase[static_cast<int>(call.phase)];
  ++stats_.calls_ended;
  stats_.ObserveDuration(std::chrono::duration<double>(SteadyClock::now() - call.started).count());
  outbox_.events.emplace_back(call.session, event);
}

std::unique_ptr<PppCalls::Call> PppCalls::EndLocked(uint64_t call_id, const std::string& why) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return nullptr;
  std::unique_ptr<Call> call = std::move(it->second);
  calls_.erase(it);
  // What pppd said last may be why the call ends (the peer refused our
  // CHAP response, then sent CDN): read it, and say it first.
  call->pppd->ReadAvailable();  // never blocks; the thread reads under mu_ too
  std::string failure = why;
  if (const std::string& auth = call->pppd->link().auth_failure; !auth.empty()) {
    failure = absl::StrCat(auth, "; then ", why);
    ++(call->lns ? stats_.auth_failures_lns : stats_.auth_failures_lac);
  }
  FinishLocked(*call, failure,
               absl::StrCat("call ", call_id, " (session ", call->session_id,
                            "): PPP DEAD, ended: ", failure));
  auto stopping = std::make_unique<Stopping>();
  stopping->call_id = call_id;
  stopping->deadline = SteadyClock::now() + options_.stop_timeout;
  // Not reaped yet (only the thread reaps, under the lock): the pid is pppd's.
  if (call->pppd->running()) kill(call->pppd->pid(), SIGTERM);
  stopping->interface = call->interface;
  stopping->pppd = std::move(call->pppd);
  stopping_calls_.push_back(std::move(stopping));
  Wake();
  return call;
}

void PppCalls::EndCall(uint64_t call_id, const std::string& why) {
  std::unique_ptr<Call> call;
  {
    std::lock_guard lock(mu_);
    if (auto starting = starting_.find(call_id); starting != starting_.end()) {
      starting->second = true;  // StartCall undoes it when it gets there
      return;
    }
    call = EndLocked(call_id, why);
  }
  // Closing the channel ends the datapath's session; pppd, which has its own
  // descriptor, is being stopped by the thread.
  if (call) call->channel.reset();
}

void PppCalls::ForgetSession(const std::string& session) {
  std::vector<std::unique_ptr<Call>> ended;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    const std::map<uint32_t, uint64_t> live = it->second.live;
    for (const auto& [slot, id] : live) {
      if (auto starting = starting_.find(id); starting != starting_.end()) {
        starting->second = true;
      } else if (auto call = EndLocked(id, "the session was deleted")) {
        ended.push_back(std::move(call));
      }
    }
    sessions_.erase(session);
    outbox_.statuses.erase(session);
  }
  for (auto& call : ended) call->channel.reset();
}

void PppCalls::Stop() {
  std::vector<std::unique_ptr<Call>> ended;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, ended_meanwhile] : starting_) ended_meanwhile = true;
    std::vector<uint64_t> ids;
    for (const auto& [id, call] : calls_) ids.push_back(id);
    for (uint64_t id : ids) {
      if (auto call = EndLocked(id, "the agent is stopping")) ended.push_back(std::move(call));
    }
    done_ = true;
    Wake();
  }
  for (auto& call : ended) call->channel.reset();
  // From a callback (the thread itself) it cannot wait for itself: the
  // thread ends on its own once the pppds are gone.
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::vector<v1::PppCallStatus> PppCalls::Statuses(const std::string& session) const {
  std::lock_guard lock(mu_);
  std::vector<v1::PppCallStatus> out;
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return out;
  out.reserve(it->second.statuses.size());
  for (const auto& [slot, st] : it->second.statuses) out.push_back(st);
  return out;
}

PppCallStats PppCalls::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void PppCalls::Run() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  for (;;) {
    int timeout_ms = -1;
    {
      std::lock_guard lock(mu_);
      const auto now = SteadyClock::now();
      for (const auto& s : stopping_calls_) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(s->deadline - now).count();
        const int ms = static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    if (n < 0 && errno != EINTR) {
      L2TP_LOG(kError) << "ppp: epoll_wait: " << strerror(errno);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    std::vector<std::unique_ptr<Call>> finished;           // pppd exited: destroyed below
    std::vector<std::unique_ptr<Stopping>> gone, overdue;  // ended calls' pppds
    std::vector<std::pair<std::string, std::vector<v1::PppCallStatus>>> statuses;
    Outbox out;
    bool exit_loop = false;
    {
      std::lock_guard lock(mu_);
      for (int i = 0; i < n; ++i) {
        const uint64_t key = events[i].data.u64;
        if (key == kWakeKey) {
          uint64_t count;
          (void)!read(wake_fd_, &count, sizeof count);
          continue;
        }
        auto it = calls_.find(key);
        if (it == calls_.end()) {
          // An ended call's pppd: read it (its reports go nowhere) until it is gone.
          for (auto& s : stopping_calls_) {
            if (s->call_id == key) s->pppd->ReadAvailable();
          }
          continue;
        }
        Call& call = *it->second;
        call.pppd->ReadAvailable();  // never blocks: pppd's pipe and a pidfd
        const ppp::PppLinkInfo& link = call.pppd->link();
        Session& session = sessions_[call.session];
        v1::PppCallStatus& st = session.statuses[call.slot];
        const std::string before = st.SerializeAsString();
        if (!link.interface.empty()) st.set_interface_name(link.interface);
        if (call.lns && !link.peer_user.empty()) st.set_user(link.peer_user);
        std::vector<PppPhase> reported = std::move(*call.reported);
        call.reported->clear();
        for (PppPhase phase : reported) {
          if (phase == PppPhase::kDead || phase == call.phase) continue;  // the exit is below
          --stats_.calls_by_phase[static_cast<int>(call.phase)];
          ++stats_.calls_by_phase[static_cast<int>(phase)];
          call.phase = phase;
          st.set_phase(ToProto(phase));
          *st.mutable_last_transition_time() = TimeUtil::GetCurrentTime();
          std::string words = absl::StrCat("call ", call.id, " (session ", call.session_id, "): PPP ",
                                           ppp::Av(ppp::PppPhaseName(phase)));
          if (phase == PppPhase::kNetwork) {
            st.set_local_address(link.local_address);
            st.set_peer_address(link.remote_address);
            absl::StrAppend(&words, ", ", link.local_address, " <-> ", link.remote_address);
            if (!st.user().empty()) absl::StrAppend(&words, ", user ", st.user());
          }
          outbox_.events.emplace_back(call.session, std::move(words));
        }
        if (st.SerializeAsString() != before) outbox_.statuses.insert(call.session);
        if (call.pppd->running()) continue;

        // pppd exited on its own: the call is over.
        std::unique_ptr<Call> done = std::move(it->second);
        calls_.erase(it);
        const ppp::PppdExit& exit = *done->pppd->exit();
        const std::string failure = ExitWords(exit, done->pppd->link());
        if (WIFEXITED(exit.wait_status)) {
          const int code = WEXITSTATUS(exit.wait_status);
          if (code == kExitPeerAuthFailed || code == kExitAuthToPeerFailed) {
            ++(done->lns ? stats_.auth_failures_lns : stats_.auth_failures_lac);
          }
        }
        FinishLocked(*done, failure,
                     absl::StrCat("call ", done->id, " (session ", done->session_id,
                                  "): PPP DEAD, pppd exited: ", failure));
        outbox_.ended.emplace_back(done->id, absl::StrCat("pppd exited: ", failure));
        finished.push_back(std::move(done));
      }

      const auto now = SteadyClock::now();
      for (auto& s : stopping_calls_) {
        if (!s->pppd->running()) {
          gone.push_back(std::move(s));
        } else if (now >= s->deadline) {
          overdue.push_back(std::move(s));
        }
      }
      std::erase(stopping_calls_, nullptr);

      out = std::move(outbox_);
      outbox_ = {};
      for (const std::string& name : out.statuses) {
        auto session = sessions_.find(name);
        if (session == sessions_.end()) continue;
        auto& list = statuses.emplace_back(name, std::vector<v1::PppCallStatus>{}).second;
        for (const auto& [slot, st] : session->second.statuses) list.push_back(st);
      }
      // Overdue pppds are killed and reaped below, before the loop would end.
      exit_loop = done_ && stopping_calls_.empty();
    }

    // Outside the lock: these are the thread's alone now.
    for (auto& s : overdue) {
      // The whole group (pppd leads its own), then Stop() reaps it at once.
      // Not reaped yet, so the pid is still pppd's.
      L2TP_LOG(kWarning) << "ppp call " << s->call_id << ": pppd " << s->pppd->pid()
                         << " did not exit after SIGTERM; killing it";
      kill(-s->pppd->pid(), SIGKILL);
      kill(s->pppd->pid(), SIGKILL);
      s->pppd->Stop();
    }
    finished.clear();  // pppd reaped: its directory removed; the channel closed
    gone.clear();
    overdue.clear();

    if (options_.on_status) {
      for (auto& [name, list] : statuses) options_.on_status(name, std::move(list));
    }
    if (options_.on_event) {
      for (const auto& [name, text] : out.events) options_.on_event(name, text);
    }
    if (options_.on_call_ended) {
      for (const auto& [id, why] : out.ended) options_.on_call_ended(id, why);
    }
    if (exit_loop) {
      std::lock_guard lock(mu_);
      // Anything queued while delivering (an EndCall of a call already gone
      // queues nothing): one more round if so.
      if (outbox_.empty() && stopping_calls_.empty()) return;
    }
  }
}

}  // namespace l2tp
