#include "datapath/kernel/pppol2tp_socket.h"

// glibc's headers first (see pppol2tp_address.cc).
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
// The kernel's uapi headers, after glibc's.
#include <linux/if_pppol2tp.h>
#include <linux/if_pppox.h>
#include <linux/l2tp.h>
#include <linux/ppp-ioctl.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "datapath/kernel/kernel_errors.h"
#include "datapath/kernel/l2tp_messages.h"

#ifndef SOL_PPPOL2TP
#define SOL_PPPOL2TP 273
#endif

namespace l2tp::kernel {
namespace {

struct Option {
  int name;
  const char* label;
};
constexpr Option kSendSeq{PPPOL2TP_SO_SENDSEQ, "PPPOL2TP_SO_SENDSEQ"};
constexpr Option kRecvSeq{PPPOL2TP_SO_RECVSEQ, "PPPOL2TP_SO_RECVSEQ"};
constexpr Option kLnsMode{PPPOL2TP_SO_LNSMODE, "PPPOL2TP_SO_LNSMODE"};
constexpr Option kReorderTo{PPPOL2TP_SO_REORDERTO, "PPPOL2TP_SO_REORDERTO"};

}  // namespace

PppSessionOptions PppSessionOptionsOf(const SessionConfig& s) {
  PppSessionOptions o;
  o.send_sequence = s.send_sequence;
  o.require_sequence = s.require_sequence;
  o.lns_mode = s.lns_mode;
  o.reorder_timeout_ms = static_cast<uint32_t>(s.reorder_timeout_ms);
  return o;
}

Counters CountersFromIocStats(const pppol2tp_ioc_stats& st) {
  Counters c;
  c.tx_packets = st.tx_packets;
  c.tx_bytes = st.tx_bytes;
  c.tx_errors = st.tx_errors;
  c.rx_packets = st.rx_packets;
  c.rx_bytes = st.rx_bytes;
  c.rx_errors = st.rx_errors;
  c.rx_seq_discards = st.rx_seq_discards;
  c.rx_oos_packets = st.rx_oos_packets;
  return c;  // rx_cookie_discards, rx_invalid: not in the ioctl
}

absl::StatusOr<PppoL2tpSocket> PppoL2tpSocket::Connect(const PppoL2tpTarget& target) {
  auto address = BuildPppoL2tpAddress(target);
  if (!address.ok()) return address.status();
  const std::string what = absl::StrCat("PPPoL2TP socket for session ", target.tunnel_id, "/",
                                        target.session_id);
  const int fd = socket(AF_PPPOX, SOCK_DGRAM | SOCK_CLOEXEC, PX_PROTO_OL2TP);
  if (fd < 0) return KernelErrorStatus(KernelOp::kPppSocket, what, errno);
  PppoL2tpSocket s(fd, target.tunnel_id, target.session_id);
  if (connect(fd, address->get(), address->length) < 0) {
    return KernelErrorStatus(KernelOp::kPppConnect, absl::StrCat("connect ", what), errno);
  }
  return s;
}

PppoL2tpSocket::PppoL2tpSocket(PppoL2tpSocket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), tunnel_id_(o.tunnel_id_), session_id_(o.session_id_) {}

PppoL2tpSocket& PppoL2tpSocket::operator=(PppoL2tpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    tunnel_id_ = o.tunnel_id_;
    session_id_ = o.session_id_;
  }
  return *this;
}

PppoL2tpSocket::~PppoL2tpSocket() {
  if (fd_ >= 0) close(fd_);
}

int PppoL2tpSocket::Release() { return std::exchange(fd_, -1); }

std::string PppoL2tpSocket::Name() const {
  return absl::StrCat("PPPoL2TP session ", tunnel_id_, "/", session_id_);
}

absl::Status PppoL2tpSocket::SetOptions(const PppSessionOptions& o) {
  const std::pair<Option, int> values[] = {{kSendSeq, o.send_sequence ? 1 : 0},
                                           {kRecvSeq, o.require_sequence ? 1 : 0},
                                           {kLnsMode, o.lns_mode ? 1 : 0},
                                           {kReorderTo, static_cast<int>(o.reorder_timeout_ms)}};
  if (o.reorder_timeout_ms > 0x7fffffffu) {
    return absl::InvalidArgumentError(absl::StrCat(Name(), ": reorder_timeout ", o.reorder_timeout_ms,
                                                   " ms does not fit the socket option"));
  }
  for (const auto& [option, value] : values) {
    if (setsockopt(fd_, SOL_PPPOL2TP, option.name, &value, sizeof value) < 0) {
      return KernelErrorStatus(KernelOp::kPppOption,
                               absl::StrCat(Name(), ": setsockopt ", option.label, " = ", value), errno);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PppSessionOptions> PppoL2tpSocket::Options() const {
  int got[4] = {};
  const Option options[] = {kSendSeq, kRecvSeq, kLnsMode, kReorderTo};
  for (int i = 0; i < 4; ++i) {
    socklen_t len = sizeof got[i];
    if (getsockopt(fd_, SOL_PPPOL2TP, options[i].name, &got[i], &len) < 0) {
      return KernelErrorStatus(KernelOp::kPppOption, absl::StrCat(Name(), ": getsockopt ", options[i].label),
                               errno);
    }
  }
  PppSessionOptions o;
  o.send_sequence = got[0] != 0;
  o.require_sequence = got[1] != 0;
  o.lns_mode = got[2] != 0;
  o.reorder_timeout_ms = got[3] < 0 ? 0 : static_cast<uint32_t>(got[3]);
  return o;
}

absl::StatusOr<Counters> PppoL2tpSocket::ReadCounters() const {
  pppol2tp_ioc_stats st{};
  if (ioctl(fd_, PPPIOCGL2TPSTATS, &st) < 0) {
    return KernelErrorStatus(KernelOp::kPppStats, absl::StrCat(Name(), ": PPPIOCGL2TPSTATS"), errno);
  }
  return CountersFromIocStats(st);
}

absl::StatusOr<PppoL2tpSocket> OpenPppSession(GenlL2tpSocket& genl, const TunnelConfig& tunnel,
                                              const SessionConfig& session) {
  auto target = PppoL2tpTargetFor(tunnel, session);
  if (!target.ok()) return target.status();
  // Everything the kernel would refuse later, refused before it changes.
  if (auto address = BuildPppoL2tpAddress(*target); !address.ok()) return address.status();
  const std::string what = absl::StrCat("create session ", session.tunnel_id, "/", session.session_id);
  bool created = false;
  if (tunnel.version == 3) {
    // connect() would create a missing v3 session too, but without cookies
    // and with no sublayer; netlink says what the session is.
    auto msg = BuildPppSessionCreate(genl.family(), tunnel.version, session);
    if (!msg.ok()) return msg.status();
    if (auto st = genl.Execute(*std::move(msg), KernelOp::kCreateSession, what); !st.ok()) return st;
    created = true;
  }
  auto undo = [&] {
    if (!created) return;
    auto del = BuildSessionDelete(genl.family(), session.tunnel_id, session.session_id);
    if (del.ok()) (void)genl.Execute(*std::move(del), KernelOp::kDeleteSession, what);
  };
  auto socket = PppoL2tpSocket::Connect(*target);
  if (!socket.ok()) {
    undo();
    return socket.status();
  }
  // Closing the socket (on return) deletes the session too.
  if (auto st = socket->SetOptions(PppSessionOptionsOf(session)); !st.ok()) return st;
  return socket;
}

}  // namespace l2tp::kernel
