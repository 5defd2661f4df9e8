// The interface every datapath backend implements (kernel, userspace, memory).
//
// Objects are keyed the way the kernel keys them: tunnels by tunnel id,
// sessions by (tunnel id, session id). The agent maps its named resources onto
// these; a backend never sees names.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "datapath/ip_address.h"

namespace l2tp {

enum class Encap { kUdp, kIp };
enum class L2Spec { kNone, kDefault };

struct TunnelConfig {
  uint32_t tunnel_id = 0;
  uint32_t peer_tunnel_id = 0;
  uint32_t version = 3;
  Encap encap = Encap::kUdp;
  IpAddress local;
  IpAddress remote;
  uint16_t udp_source_port = 0;  // host order; UDP only
  uint16_t udp_destination_port = 0;
  bool udp_checksum = false;  // IPv4 UDP
  bool udp6_zero_checksum_tx = false;
  bool udp6_zero_checksum_rx = false;
  // A managed tunnel (DYNAMIC, run by the agent's control plane): the bound,
  // connected socket the control plane made with OpenManagedSocket. The
  // backend keeps its own duplicate; the caller still owns this one. -1: the
  // backend makes its own socket (STATIC tunnels). Not part of equality: it
  // is a handle, not configuration.
  int socket_fd = -1;

  friend bool operator==(const TunnelConfig& a, const TunnelConfig& b);
};

// An Ethernet pseudowire (the only kind so far).
struct SessionConfig {
  uint32_t tunnel_id = 0;
  uint32_t session_id = 0;
  uint32_t peer_session_id = 0;
  std::string interface_name;
  std::vector<uint8_t> cookie;       // sent; 0, 4 or 8 bytes
  std::vector<uint8_t> peer_cookie;  // required on receive
  L2Spec l2spec = L2Spec::kDefault;
  bool send_sequence = false;
  bool require_sequence = false;
  bool lns_mode = false;
  uint64_t reorder_timeout_ms = 0;
  // The interface MTU; 0: right-sized, the underlay's MTU towards the
  // tunnel's remote less the encapsulation overhead (encap_overhead.h).
  uint32_t mtu = 0;

  friend bool operator==(const SessionConfig&, const SessionConfig&) = default;
};

// The kernel's L2TP_ATTR_STATS set.
struct Counters {
  uint64_t tx_packets = 0, tx_bytes = 0, tx_errors = 0;
  uint64_t rx_packets = 0, rx_bytes = 0, rx_errors = 0;
  uint64_t rx_seq_discards = 0, rx_oos_packets = 0;
  uint64_t rx_cookie_discards = 0, rx_invalid = 0;

  Counters& operator+=(const Counters& o);
  friend bool operator==(const Counters&, const Counters&) = default;
};

struct ObservedTunnel {
  TunnelConfig config;
  Counters counters;
};

struct ObservedSession {
  SessionConfig config;
  Counters counters;
  // The kernel does not report the sublayer type, and a backend may not know
  // the MTU: fields it cannot observe are not compared.
  bool l2spec_known = true;
  bool mtu_known = true;
  // The underlay's MTU towards the tunnel's remote (underlay_mtu.h): what a
  // config.mtu of 0 is sized from (RightSizedMtu, encap_overhead.h), and
  // what a set one must fit. 0: the backend cannot tell.
  uint32_t underlay_mtu = 0;
  // By how many bytes each full-size frame of the session's interface,
  // encapsulated, exceeds underlay_mtu (FragmentingBytes): the underlay
  // fragments every such frame. 0 when they fit or it is unknown, and from
  // backends that cannot see the whole header (the kernel does not report
  // the sublayer): the agent works it out from underlay_mtu and the spec.
  uint32_t fragmenting_bytes = 0;
  // A PPP pseudowire session (its PPP channel's, OpenPppChannel): the
  // reconciler leaves it to the PPP call runner that owns the channel.
  bool ppp = false;
};

struct Observation {
  std::vector<ObservedTunnel> tunnels;
  std::vector<ObservedSession> sessions;
  // Devices that carry this agent's ownership mark but belong to no session
  // the datapath holds: left behind by a session removed while the agent was
  // down or before a crash. The agent removes those no session wants.
  std::vector<std::string> stray_interfaces;
};

// A socket made for a managed tunnel (Datapath::OpenManagedSocket).
struct ManagedSocket {
  int fd = -1;  // owned by the caller
  // Raw IPv4 sockets deliver the IP header in front of the L2TP frame.
  bool receives_ipv4_header = false;
  // An L2TP/IP datagram socket (IPPROTO_L2TP, the kernel's): control frames
  // are read and written without their zero session id, which the kernel
  // strips and adds.
  bool kernel_l2tp_ip = false;
};

// Where a backend that reads managed tunnels' sockets itself hands the
// control frames it finds (T bit over UDP, session id 0 over IP), on its
// own threads. `frame` starts at the L2TP header (over IP: the zero
// session id) and is valid only during the call.
class ControlFrameSink {
 public:
  virtual ~ControlFrameSink() = default;
  virtual void ControlFrame(uint32_t tunnel_id, std::span<const uint8_t> frame) = 0;
};

// The PPP channel of a PPP pseudowire session (docs/ppp.md): the descriptor
// pppd takes as its PPPoL2TP socket (`plugin pppol2tp.so pppol2tp <fd>`).
// The session lives as long as its channel: destroying the channel ends it.
class PppChannel {
 public:
  virtual ~PppChannel() = default;
  // Owned by the channel, close-on-exec: whoever hands it to pppd gives pppd
  // its own copy (dup2 in the child).
  virtual int fd() const = 0;
  // The session's counters, with the meaning of an Ethernet session's.
  virtual absl::StatusOr<Counters> ReadCounters() const = 0;
};

// Notifications of changes made by others (see Datapath::WatchExternalChanges)
// flow while this handle lives; destroying it stops them.
class ExternalChangeWatch {
 public:
  virtual ~ExternalChangeWatch() = default;
};

// Every backend enforces the rules of datapath/contract.h (ids, cookie
// lengths, what ModifySession may change) with the messages defined there;
// tests/unit/datapath/datapath_contract.* checks each backend against them.
class Datapath {
 public:
  virtual ~Datapath() = default;

  virtual std::string_view Name() const = 0;
  // Short capability tags shown by GetInfo, e.g. "encap/udp", "ipv6".
  virtual std::vector<std::string> Capabilities() const = 0;
  // Whether PPP pseudowires (docs/ppp.md) can be set up here: OK, or
  // FAILED_PRECONDITION saying what is missing, which the API refuses PPP
  // sessions with. The default goes by Capabilities() ("pseudowire/ppp");
  // backends override it to say why not.
  virtual absl::Status PppSupport() const {
    for (const std::string& c : Capabilities()) {
      if (c == "pseudowire/ppp") return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        absl::StrCat("the ", std::string(Name()), " datapath cannot carry PPP pseudowires"));
  }

  // What the datapath holds now, with counters.
  virtual absl::StatusOr<Observation> Observe() = 0;

  // ALREADY_EXISTS when the tunnel id is taken; INVALID_ARGUMENT for what
  // CheckTunnelConfig refuses.
  virtual absl::Status CreateTunnel(const TunnelConfig& config) = 0;
  // Deletes the tunnel and every session in it. NOT_FOUND when there is none.
  virtual absl::Status DeleteTunnel(uint32_t tunnel_id) = 0;

  // NOT_FOUND when the tunnel does not exist; ALREADY_EXISTS when the session
  // does; INVALID_ARGUMENT for what CheckSessionConfig refuses.
  virtual absl::Status CreateSession(const SessionConfig& config) = 0;
  // Changes an existing session in place. Only the fields of
  // kModifiableSessionFields (contract.h) may differ from the session as
  // created: INVALID_ARGUMENT with InPlaceChangeMessage() otherwise (the
  // agent replaces the session for anything else). NOT_FOUND when missing.
  virtual absl::Status ModifySession(const SessionConfig& config) = 0;
  virtual absl::Status DeleteSession(uint32_t tunnel_id, uint32_t session_id) = 0;

  // ---- Managed tunnels (TunnelConfig::socket_fd), for the control plane.
  // A socket for `config` bound to its local end and connected to its
  // remote: UDP, or IP protocol 115. The default suits every backend that
  // reads plain sockets; the kernel's makes L2TP/IP sockets for IP encap.
  virtual absl::StatusOr<ManagedSocket> OpenManagedSocket(const TunnelConfig& config);
  // Whether the backend reads a managed tunnel's socket itself once the
  // tunnel exists (userspace), passing control frames to the sink. If not
  // (kernel, memory), control frames stay on the socket for its owner.
  virtual bool ReadsManagedSockets() const { return false; }
  // Set once, before the first managed tunnel; must outlive the backend's use.
  virtual void SetControlFrameSink(ControlFrameSink* sink) { (void)sink; }

  // ---- PPP pseudowires (docs/ppp.md), for the PPP call runner.
  // Opens the PPP session `session` (ids, sequencing, LNS mode, reorder
  // timeout, cookies for L2TPv3) in managed tunnel `tunnel`, which the
  // datapath holds (CreateTunnel; L2TPv2 tunnels too), and returns its
  // channel. The session belongs to the channel: it is not one
  // CreateSession made, Observe() lists it while the channel lives, and
  // destroying the channel deletes it. NOT_FOUND without the tunnel,
  // ALREADY_EXISTS when the session exists. The default refuses with
  // PppSupport()'s reason (FAILED_PRECONDITION).
  virtual absl::StatusOr<std::unique_ptr<PppChannel>> OpenPppChannel(const TunnelConfig& tunnel,
                                                                     const SessionConfig& session) {
    (void)tunnel;
    (void)session;
    if (absl::Status st = PppSupport(); !st.ok()) return st;
    return absl::UnimplementedError(
        absl::StrCat("the ", std::string(Name()), " datapath opens no PPP channels"));
  }

  // Removes a device Observe() listed in stray_interfaces, after checking
  // again that it carries this agent's mark and no session holds it.
  virtual absl::Status RemoveStrayInterface(const std::string& name) {
    return absl::UnimplementedError(
        absl::StrCat("the ", std::string(Name()), " datapath leaves no stray interfaces (", name, ")"));
  }

  // Calls `on_change` (on a thread of the backend's) soon after another
  // program changes the datapath's objects, so the agent can reconcile early
  // rather than at the next periodic resync. The backend's own changes are
  // not reported. The calls stop when the returned handle is destroyed.
  // UNIMPLEMENTED (the default) when the backend cannot tell.
  virtual absl::StatusOr<std::unique_ptr<ExternalChangeWatch>> WatchExternalChanges(
      std::function<void()> on_change) {
    (void)on_change;
    return absl::UnimplementedError(
        absl::StrCat("the ", std::string(Name()), " datapath does not report external changes"));
  }
};

// The fields ModifySession may change (kModifiableSessionFields); defined
// with the rest of the contract in contract.cc.
bool SessionDiffersOnlyInModifiable(const SessionConfig& a, const SessionConfig& b);

}  // namespace l2tp
