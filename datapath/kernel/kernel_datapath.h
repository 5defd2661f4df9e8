// The Linux kernel's own L2TP datapath: unmanaged (kernel-socket) L2TPv3
// tunnels, managed L2TPv3 and L2TPv2 tunnels on the control plane's sockets
// (L2TP_ATTR_FD) and Ethernet pseudowire sessions through the `l2tp` generic
// netlink family, their l2tpeth interfaces through rtnetlink; PPP sessions
// through their PPPoL2TP sockets (OpenPppChannel). Needs CAP_NET_ADMIN.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "datapath/datapath.h"
#include "datapath/kernel/genl_l2tp_socket.h"
#include "datapath/kernel/l2tp_event_watcher.h"
#include "datapath/kernel/link_control.h"
#include "datapath/kernel/pppol2tp_socket.h"
#include "datapath/kernel/sccrq_listener.h"

namespace l2tp::kernel {

class KernelDatapath : public Datapath {
 public:
  // Loads the L2TP modules where modprobe can, then opens the sockets. Fails
  // when the kernel has no `l2tp` netlink family or the process may not use
  // it (no CAP_NET_ADMIN: PERMISSION_DENIED).
  static absl::StatusOr<std::unique_ptr<KernelDatapath>> Create();

  std::string_view Name() const override { return "kernel"; }
  // "pseudowire/ppp" only when PppSupport() is OK.
  std::vector<std::string> Capabilities() const override;
  // Whether PPP pseudowires can work here (ProbePppoL2tp, ppp_probe.h), as
  // found when the datapath was made: OK, or FAILED_PRECONDITION naming
  // what is missing (module l2tp_ppp, /dev/ppp).
  absl::Status PppSupport() const override { return ppp_support_; }
  // Ethernet sessions with the MTU of their interface; PPP sessions (of
  // OpenPppChannel, or anyone's) with `ppp` set, as far as netlink reports them.
  absl::StatusOr<Observation> Observe() override;
  absl::Status CreateTunnel(const TunnelConfig& config) override;
  absl::Status DeleteTunnel(uint32_t tunnel_id) override;
  absl::Status CreateSession(const SessionConfig& config) override;
  absl::Status ModifySession(const SessionConfig& config) override;
  absl::Status DeleteSession(uint32_t tunnel_id, uint32_t session_id) override;

  // Managed tunnels (DYNAMIC). The kernel reads a managed tunnel's socket
  // itself once the tunnel exists and leaves control frames on it for their
  // owner, so ReadsManagedSockets() stays false. UDP: the common underlay
  // socket with the checksum options of the tunnel's config; IP: an L2TP/IP
  // socket (managed_socket.h), registered with the SCCRQ listener, which
  // hands control frames to connection id 0 to the sink (sccrq_listener.h).
  absl::StatusOr<ManagedSocket> OpenManagedSocket(const TunnelConfig& config) override;
  void SetControlFrameSink(ControlFrameSink* sink) override;
  // For tests.
  const SccrqListener& sccrq_listener() const { return *sccrq_; }

  // PPP pseudowires (pppol2tp_socket.h): opens the PPP channel of `session`
  // in the managed tunnel `tunnel` (L2TPv2: connect creates the session;
  // L2TPv3: SESSION_CREATE with PW type PPP, then connect) on this
  // datapath's netlink socket, counted as one write. The PPPoL2TP socket is
  // made in the calling thread's network namespace, which must be the
  // datapath's. Closing it deletes the session.
  absl::StatusOr<PppoL2tpSocket> OpenPppSession(const TunnelConfig& tunnel, const SessionConfig& session);
  // Datapath::OpenPppChannel: OpenPppSession after the contract's checks
  // (CheckPppSessionConfig); the channel owns the PPPoL2TP socket, so
  // destroying it deletes the session. It needs nothing of the datapath
  // after that and may outlive it.
  absl::StatusOr<std::unique_ptr<PppChannel>> OpenPppChannel(const TunnelConfig& tunnel,
                                                             const SessionConfig& session) override;

  // Changing requests sent to the kernel so far (netlink and rtnetlink), for
  // tests and to show that adoption writes nothing. Each is also logged at
  // debug level as "kernel: write N: <what>".
  uint64_t writes() const;

  // Datapath::WatchExternalChanges: `on_change` runs (on a thread of its
  // own) soon after another program changes a kernel L2TP tunnel or session
  // through netlink. This datapath's own requests are not reported.
  absl::StatusOr<std::unique_ptr<ExternalChangeWatch>> WatchExternalChanges(
      std::function<void()> on_change) override;
  // The same, returning the watcher itself (its notification count, for tests).
  absl::StatusOr<std::unique_ptr<L2tpEventWatcher>> WatchL2tpEvents(std::function<void()> on_change);

 private:
  KernelDatapath(std::unique_ptr<GenlL2tpSocket> genl, std::unique_ptr<LinkControl> links)
      : genl_(std::move(genl)), links_(std::move(links)), sccrq_(std::make_unique<SccrqListener>()) {}
  void CountWrite(const std::string& what);
  absl::Status WaitTunnelGone(uint32_t tunnel_id);
  // The session as the kernel holds it (mu_ held): what ModifySession checks
  // the contract against. MTU and L2SPEC_TYPE are not reported.
  absl::StatusOr<SessionConfig> GetSession(uint32_t tunnel_id, uint32_t session_id);
  // Fills each Ethernet session's underlay_mtu: its tunnel's route MTU.
  static void AddUnderlayMtus(Observation* obs);
  // The MTU for `config` when its mtu is 0 (mu_ held): RightSizedMtu of its
  // tunnel's route, as the userspace datapath sizes it; 0 (leave the
  // kernel's) when the tunnel cannot be read.
  uint32_t RightSizedSessionMtu(const SessionConfig& config);

  mutable std::mutex mu_;  // the sockets are not thread-safe
  std::unique_ptr<GenlL2tpSocket> genl_;
  std::unique_ptr<LinkControl> links_;
  std::unique_ptr<SccrqListener> sccrq_;  // thread-safe on its own
  uint64_t writes_ = 0;
  absl::Status ppp_support_;  // set once in Create()
};

}  // namespace l2tp::kernel
