// The PPPoL2TP socket of a PPP pseudowire session (the kernel's l2tp_ppp):
// socket(AF_PPPOX, SOCK_DGRAM, PX_PROTO_OL2TP) connected to the session with
// the address of pppol2tp_address.h. It is the session's PPP channel: pppd
// takes it (`plugin pppol2tp.so pppol2tp <fd>`), and its socket options and
// PPPIOCGL2TPSTATS read and set the session's L2TP settings and counters.
//
// What the kernel does (docs/kernel-datapath.md, "PPP sessions"):
//  - connect() attaches the socket to the session (tunnel, session) if it
//    exists, or creates it (PW type PPP, no cookies, no sublayer) if not;
//  - closing the socket deletes the session; deleting the session or its
//    tunnel leaves the socket open but without a session;
//  - the socket lives in the network namespace it was made in, and finds the
//    tunnel there: make it in the tunnel's namespace.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datapath/datapath.h"
#include "datapath/kernel/genl_l2tp_socket.h"
#include "datapath/kernel/pppol2tp_address.h"

struct pppol2tp_ioc_stats;  // <linux/ppp-ioctl.h>

namespace l2tp::kernel {

// The session's L2TP settings a PPPoL2TP socket sets (SOL_PPPOL2TP options).
struct PppSessionOptions {
  bool send_sequence = false;       // PPPOL2TP_SO_SENDSEQ
  bool require_sequence = false;    // PPPOL2TP_SO_RECVSEQ: drop data without sequence numbers
  bool lns_mode = false;            // PPPOL2TP_SO_LNSMODE (else LAC: see docs/kernel-datapath.md)
  uint32_t reorder_timeout_ms = 0;  // PPPOL2TP_SO_REORDERTO; 0: no reordering. The kernel keeps
                                    // jiffies: read back rounded to its tick (4 ms at HZ=250)

  friend bool operator==(const PppSessionOptions&, const PppSessionOptions&) = default;
};

// The same fields of a SessionConfig.
PppSessionOptions PppSessionOptionsOf(const SessionConfig& session);

// The counters of PPPIOCGL2TPSTATS as the datapath's Counters, with the same
// meaning as an Ethernet pseudowire's (both are the kernel's session
// counters). The ioctl has no rx_cookie_discards or rx_invalid: those stay 0
// (SESSION_GET over netlink reports them). Pure.
Counters CountersFromIocStats(const pppol2tp_ioc_stats& stats);

// An owned PPPoL2TP socket, connected to a session. Close-on-exec: whoever
// hands it to pppd clears that on the descriptor pppd gets.
class PppoL2tpSocket {
 public:
  // socket() in the calling thread's network namespace, then connect() to
  // `target`. Errors name the session and the errno (kernel_errors.h):
  // FAILED_PRECONDITION without l2tp_ppp, NOT_FOUND without the tunnel,
  // ALREADY_EXISTS when the session has a socket already, FAILED_PRECONDITION
  // when it is not a PPP session.
  static absl::StatusOr<PppoL2tpSocket> Connect(const PppoL2tpTarget& target);

  PppoL2tpSocket(PppoL2tpSocket&& other) noexcept;
  PppoL2tpSocket& operator=(PppoL2tpSocket&& other) noexcept;
  PppoL2tpSocket(const PppoL2tpSocket&) = delete;
  PppoL2tpSocket& operator=(const PppoL2tpSocket&) = delete;
  ~PppoL2tpSocket();  // closes the socket, which deletes the session

  int fd() const { return fd_; }
  // Gives the descriptor away (to pppd, say): no longer closed here.
  int Release();
  // The session's ids, as "T/S" in messages.
  uint32_t tunnel_id() const { return tunnel_id_; }
  uint32_t session_id() const { return session_id_; }

  // All four options, in the order SENDSEQ, RECVSEQ, LNSMODE, REORDERTO.
  absl::Status SetOptions(const PppSessionOptions& options);
  // The four, read back with getsockopt.
  absl::StatusOr<PppSessionOptions> Options() const;
  // The session's counters (PPPIOCGL2TPSTATS).
  absl::StatusOr<Counters> ReadCounters() const;

 private:
  PppoL2tpSocket(int fd, uint32_t tunnel_id, uint32_t session_id)
      : fd_(fd), tunnel_id_(tunnel_id), session_id_(session_id) {}
  std::string Name() const;

  int fd_ = -1;
  uint32_t tunnel_id_ = 0, session_id_ = 0;
};

// Opens the PPP channel of `session` in the managed tunnel `tunnel`
// (tunnel.socket_fd, tunnel.version), on `genl` (same network namespace as
// the calling thread):
//  - L2TPv2: connect, which creates the session in the kernel (one step:
//    no session is left behind if anything fails);
//  - L2TPv3: SESSION_CREATE with PW type PPP (cookies, sublayer, options:
//    BuildPppSessionCreate), then connect, which attaches to it; if connect
//    fails the session is deleted again;
// then the options of `session` as socket options (PppSessionOptionsOf).
// The session goes when the returned socket is closed.
absl::StatusOr<PppoL2tpSocket> OpenPppSession(GenlL2tpSocket& genl, const TunnelConfig& tunnel,
                                              const SessionConfig& session);

}  // namespace l2tp::kernel
