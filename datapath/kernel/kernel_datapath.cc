#include "datapath/kernel/kernel_datapath.h"

#include <linux/l2tp.h>
#include <netlink/genl/genl.h>

#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "datapath/contract.h"
#include "datapath/encap_overhead.h"
#include "datapath/kernel/l2tp_replies.h"
#include "datapath/kernel/managed_socket.h"
#include "datapath/kernel/module_loader.h"
#include "datapath/kernel/ppp_probe.h"
#include "datapath/underlay_mtu.h"

namespace l2tp::kernel {

absl::StatusOr<std::unique_ptr<KernelDatapath>> KernelDatapath::Create() {
  if (auto failed = LoadL2tpModules(); !failed.empty()) {
    L2TP_LOG(kDebug) << "kernel: modprobe could not load " << absl::StrJoin(failed, ", ")
                     << " (fine when built in or autoloaded)";
  }
  auto genl = GenlL2tpSocket::Open();
  if (!genl.ok()) return genl.status();
  auto links = LinkControl::Open();
  if (!links.ok()) return links.status();
  // Resolving the family needs no privilege, every L2TP request does: try a
  // dump now so that a process without CAP_NET_ADMIN fails here (and `auto`
  // can fall back) instead of at every reconcile pass.
  auto dump = BuildDump((*genl)->family(), L2TP_CMD_TUNNEL_GET);
  if (!dump.ok()) return dump.status();
  if (auto st = (*genl)->Query(*std::move(dump), KernelOp::kDump, "list tunnels",
                               [](nlmsghdr*) { return absl::OkStatus(); });
      !st.ok()) {
    return st;
  }
  std::unique_ptr<KernelDatapath> dp(new KernelDatapath(*std::move(genl), *std::move(links)));
  dp->ppp_support_ = ProbePppoL2tp();
  if (!dp->ppp_support_.ok()) {
    L2TP_LOG(kDebug) << "kernel: " << dp->ppp_support_.message();
  }
  return dp;
}

std::vector<std::string> KernelDatapath::Capabilities() const {
  std::vector<std::string> caps = {"encap/udp",      "encap/ip", "ipv4",       "ipv6",
                                   "pseudowire/eth", "cookies",  "sequencing", "linux-kernel"};
  if (ppp_support_.ok()) caps.emplace_back("pseudowire/ppp");  // PppSupport()
  return caps;
}

uint64_t KernelDatapath::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

void KernelDatapath::CountWrite(const std::string& what) {
  ++writes_;
  L2TP_LOG(kDebug) << "kernel: write " << writes_ << ": " << what;
}

absl::StatusOr<std::unique_ptr<L2tpEventWatcher>> KernelDatapath::WatchL2tpEvents(
    std::function<void()> on_change) {
  std::lock_guard lock(mu_);
  return L2tpEventWatcher::Start(genl_->port(), std::move(on_change));
}

absl::StatusOr<std::unique_ptr<ExternalChangeWatch>> KernelDatapath::WatchExternalChanges(
    std::function<void()> on_change) {
  auto watcher = WatchL2tpEvents(std::move(on_change));
  if (!watcher.ok()) return watcher.status();
  return std::unique_ptr<ExternalChangeWatch>(*std::move(watcher));
}

absl::StatusOr<Observation> KernelDatapath::Observe() {
  std::lock_guard lock(mu_);
  Observation obs;
  auto tunnels = BuildDump(genl_->family(), L2TP_CMD_TUNNEL_GET);
  if (!tunnels.ok()) return tunnels.status();
  absl::Status st = genl_->Query(*std::move(tunnels), KernelOp::kDump, "list tunnels", [&](nlmsghdr* h) {
    auto t = ParseTunnelReply(h);
    if (!t.ok()) return t.status();
    obs.tunnels.push_back(*std::move(t));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  auto sessions = BuildDump(genl_->family(), L2TP_CMD_SESSION_GET);
  if (!sessions.ok()) return sessions.status();
  st = genl_->Query(*std::move(sessions), KernelOp::kDump, "list sessions", [&](nlmsghdr* h) {
    auto s = ParseObservedSessionReply(h);  // PPP ones too, marked `ppp`
    if (!s.ok()) return s.status();
    if (s->has_value()) obs.sessions.push_back(**std::move(s));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (obs.sessions.empty()) return obs;
  // The MTU lives on the interface, not in the L2TP session.
  auto mtus = links_->Mtus();
  if (!mtus.ok()) return mtus.status();
  for (auto& s : obs.sessions) {
    if (s.ppp) continue;  // no interface of its own (pppd's pppN is not the session's)
    auto it = mtus->find(s.config.interface_name);
    if (it == mtus->end()) continue;
    s.config.mtu = it->second;
    s.mtu_known = true;
  }
  AddUnderlayMtus(&obs);
  return obs;
}

// The kernel's tunnel sockets are out of reach (and managed ones are the
// control plane's): each tunnel's route is looked up with a probe socket,
// once per tunnel with Ethernet sessions. The sublayer, part of the header,
// is not reported, so fragmenting_bytes is left to the agent.
void KernelDatapath::AddUnderlayMtus(Observation* obs) {
  std::map<uint32_t, const TunnelConfig*> tunnels;
  for (const ObservedTunnel& t : obs->tunnels) tunnels[t.config.tunnel_id] = &t.config;
  std::map<uint32_t, uint32_t> underlay;  // by tunnel id
  for (ObservedSession& s : obs->sessions) {
    auto t = tunnels.find(s.config.tunnel_id);
    if (s.ppp || t == tunnels.end()) continue;
    auto [it, fresh] = underlay.try_emplace(t->first, 0);
    if (fresh) it->second = RouteMtu(*t->second);
    s.underlay_mtu = it->second;
  }
}

uint32_t KernelDatapath::RightSizedSessionMtu(const SessionConfig& config) {
  auto msg = BuildTunnelGet(genl_->family(), config.tunnel_id);
  if (!msg.ok()) return 0;
  std::optional<TunnelConfig> tunnel;
  absl::Status st = genl_->Query(*std::move(msg), KernelOp::kGetTunnel,
                                 absl::StrCat("get tunnel ", config.tunnel_id), [&](nlmsghdr* h) {
                                   auto t = ParseTunnelReply(h);
                                   if (!t.ok()) return t.status();
                                   tunnel = t->config;
                                   return absl::OkStatus();
                                 });
  if (!st.ok() || !tunnel) {
    L2TP_LOG(kWarning) << "kernel: session " << config.tunnel_id << "/" << config.session_id
                       << ": no tunnel to size its MTU from (" << st.message() << "); the kernel's MTU stays";
    return 0;
  }
  return RightSizedMtu(RouteMtu(*tunnel), EncapOverhead(*tunnel, config));
}

absl::Status KernelDatapath::CreateTunnel(const TunnelConfig& config) {
  if (auto st = CheckTunnelConfig(config); !st.ok()) return st;
  // Managed: the kernel reports the tunnel's addresses, ports and checksum
  // settings from the socket, so it must say what the config says.
  if (config.socket_fd >= 0) {
    if (auto st = PrepareManagedSocket(config); !st.ok()) return st;
  }
  std::lock_guard lock(mu_);
  const std::string what = absl::StrCat("create tunnel ", config.tunnel_id);
  // The contract lets L2TPv2 through only as a managed UDP tunnel, which is
  // what BuildL2tpV2TunnelCreate sends.
  auto msg = config.version == 2 ? BuildL2tpV2TunnelCreate(genl_->family(), config)
                                 : BuildTunnelCreate(genl_->family(), config);
  if (!msg.ok()) return msg.status();
  CountWrite(what);
  return genl_->Execute(*std::move(msg), KernelOp::kCreateTunnel, what);
}

absl::StatusOr<ManagedSocket> KernelDatapath::OpenManagedSocket(const TunnelConfig& config) {
  auto socket = OpenKernelManagedSocket(config);
  if (!socket.ok()) return socket.status();
  if (config.encap == Encap::kIp) {
    if (auto st = sccrq_->Register(config, socket->fd); !st.ok()) {
      L2TP_LOG(kWarning) << "kernel: tunnel " << config.tunnel_id << ": SCCRQs from "
                         << config.remote.ToString()
                         << " over IP cannot be received (a RESPONDER will not hear its peer): "
                         << st.message();
    }
  }
  return socket;
}

void KernelDatapath::SetControlFrameSink(ControlFrameSink* sink) { sccrq_->SetSink(sink); }

absl::StatusOr<PppoL2tpSocket> KernelDatapath::OpenPppSession(const TunnelConfig& tunnel,
                                                              const SessionConfig& session) {
  std::lock_guard lock(mu_);
  CountWrite(absl::StrCat("open PPP session ", session.tunnel_id, "/", session.session_id, " (L2TPv",
                          tunnel.version, ")"));
  return kernel::OpenPppSession(*genl_, tunnel, session);
}

namespace {

// The session goes with the socket: the kernel deletes it when the
// PPPoL2TP socket closes.
class KernelPppChannel : public PppChannel {
 public:
  explicit KernelPppChannel(PppoL2tpSocket socket) : socket_(std::move(socket)) {}
  int fd() const override { return socket_.fd(); }
  absl::StatusOr<Counters> ReadCounters() const override { return socket_.ReadCounters(); }

 private:
  PppoL2tpSocket socket_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PppChannel>> KernelDatapath::OpenPppChannel(const TunnelConfig& tunnel,
                                                                           const SessionConfig& session) {
  if (auto st = CheckPppSessionConfig(tunnel, session); !st.ok()) return st;
  auto socket = OpenPppSession(tunnel, session);
  if (!socket.ok()) return socket.status();
  return std::unique_ptr<PppChannel>(std::make_unique<KernelPppChannel>(*std::move(socket)));
}

absl::Status KernelDatapath::DeleteTunnel(uint32_t tunnel_id) {
  std::lock_guard lock(mu_);
  const std::string what = absl::StrCat("delete tunnel ", tunnel_id);
  auto msg = BuildTunnelDelete(genl_->family(), tunnel_id);
  if (!msg.ok()) return msg.status();
  CountWrite(what);
  if (auto st = genl_->Execute(*std::move(msg), KernelOp::kDeleteTunnel, what); !st.ok()) return st;
  return WaitTunnelGone(tunnel_id);
}

// The kernel tears a tunnel down on a workqueue after acking the delete; a
// re-create of the same id (or of its sessions' interface names) right away
// would fail with EEXIST, so wait until it is really gone.
absl::Status KernelDatapath::WaitTunnelGone(uint32_t tunnel_id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  const std::string what = absl::StrCat("get tunnel ", tunnel_id);
  while (true) {
    auto msg = BuildTunnelGet(genl_->family(), tunnel_id);
    if (!msg.ok()) return msg.status();
    absl::Status st = genl_->Query(*std::move(msg), KernelOp::kGetTunnel, what,
                                   [](nlmsghdr*) { return absl::OkStatus(); });
    if (absl::IsNotFound(st)) return absl::OkStatus();
    if (!st.ok()) return st;
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("delete tunnel ", tunnel_id, ": still present after 5 s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

absl::Status KernelDatapath::CreateSession(const SessionConfig& config) {
  if (auto st = CheckSessionConfig(config); !st.ok()) return st;
  std::lock_guard lock(mu_);
  const std::string what = absl::StrCat("create session ", config.tunnel_id, "/", config.session_id);
  auto msg = BuildSessionCreate(genl_->family(), config);
  if (!msg.ok()) return msg.status();
  CountWrite(what);
  if (auto st = genl_->Execute(*std::move(msg), KernelOp::kCreateSession, what); !st.ok()) return st;
  // l2tp_eth sizes an unset MTU itself, but from its socket's route and
  // without our cap (encap_overhead.h): set the size Observe will judge by.
  const uint32_t mtu = config.mtu != 0 ? config.mtu : RightSizedSessionMtu(config);
  CountWrite(absl::StrCat("set up ", config.interface_name));
  absl::Status link = links_->SetUp(config.interface_name, mtu);
  if (link.ok()) return link;
  // A session whose interface is down would look healthy to Observe; undo it
  // so the agent retries the whole create.
  auto undo = BuildSessionDelete(genl_->family(), config.tunnel_id, config.session_id);
  if (undo.ok()) {
    CountWrite(absl::StrCat("delete session ", config.tunnel_id, "/", config.session_id, " (undo)"));
    (void)genl_->Execute(*std::move(undo), KernelOp::kDeleteSession, what);
  }
  return absl::Status(link.code(), absl::StrCat(what, ": ", link.message(), "; session removed again"));
}

namespace {

// SESSION_GET for one session. (l2tp_messages.cc builds the other requests.)
absl::StatusOr<NlMsgPtr> BuildSessionGet(int family, uint32_t tunnel_id, uint32_t session_id) {
  NlMsgPtr msg(nlmsg_alloc());
  if (!msg) return absl::ResourceExhaustedError("cannot allocate a netlink message");
  if (genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, L2TP_CMD_SESSION_GET,
                  L2TP_GENL_VERSION) == nullptr ||
      nla_put_u32(msg.get(), L2TP_ATTR_CONN_ID, tunnel_id) != 0 ||
      nla_put_u32(msg.get(), L2TP_ATTR_SESSION_ID, session_id) != 0) {
    return absl::InternalError("netlink message too small for its attributes");
  }
  return msg;
}

}  // namespace

absl::StatusOr<SessionConfig> KernelDatapath::GetSession(uint32_t tunnel_id, uint32_t session_id) {
  const std::string what = absl::StrCat("get session ", tunnel_id, "/", session_id);
  auto msg = BuildSessionGet(genl_->family(), tunnel_id, session_id);
  if (!msg.ok()) return msg.status();
  std::optional<SessionConfig> found;
  absl::Status st = genl_->Query(*std::move(msg), KernelOp::kGetSession, what, [&](nlmsghdr* h) {
    auto s = ParseSessionReply(h);
    if (!s.ok()) return s.status();
    if (s->has_value()) found = (*s)->config;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (!found) {
    return absl::NotFoundError(absl::StrCat(what, ": not an Ethernet pseudowire session"));
  }
  return *found;
}

absl::Status KernelDatapath::ModifySession(const SessionConfig& config) {
  std::lock_guard lock(mu_);
  const std::string what = absl::StrCat("modify session ", config.tunnel_id, "/", config.session_id);
  // The kernel's SESSION_MODIFY ignores what it cannot change; refuse such a
  // request the way every backend does instead of half-applying it.
  auto current = GetSession(config.tunnel_id, config.session_id);
  if (!current.ok()) return current.status();
  current->l2spec = config.l2spec;  // not reported by the kernel
  if (auto st = CheckSessionModify(*current, config); !st.ok()) return st;
  auto msg = BuildSessionModify(genl_->family(), config);
  if (!msg.ok()) return msg.status();
  CountWrite(what);
  if (auto st = genl_->Execute(*std::move(msg), KernelOp::kModifySession, what); !st.ok()) return st;
  // Unset: sized for the underlay as it is now (the agent modifies a
  // session whose interface no longer has that size).
  const uint32_t mtu = config.mtu != 0 ? config.mtu : RightSizedSessionMtu(config);
  CountWrite(absl::StrCat("set up ", config.interface_name));
  if (auto st = links_->SetUp(config.interface_name, mtu); !st.ok()) {
    return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
  }
  return absl::OkStatus();
}

absl::Status KernelDatapath::DeleteSession(uint32_t tunnel_id, uint32_t session_id) {
  std::lock_guard lock(mu_);
  const std::string what = absl::StrCat("delete session ", tunnel_id, "/", session_id);
  auto msg = BuildSessionDelete(genl_->family(), tunnel_id, session_id);
  if (!msg.ok()) return msg.status();
  CountWrite(what);
  return genl_->Execute(*std::move(msg), KernelOp::kDeleteSession, what);
}

}  // namespace l2tp::kernel
