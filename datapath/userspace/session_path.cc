// A session's path: construction, start and stop, changes, counters. The
// two directions live in session_tx.cc (TAP to tunnel) and session_rx.cc
// (tunnel to TAP); session_path.h declares all of it.
#include "datapath/userspace/session_path.h"

#include <sys/epoll.h>

#include <algorithm>

#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {
namespace {

constexpr size_t kVlanTagLength = 4;

Sequencer::Config SequencerConfig(const SessionConfig& c) {
  return {c.send_sequence, c.require_sequence, c.lns_mode, c.reorder_timeout_ms};
}

}  // namespace

size_t MaxReceivedFrame(uint32_t mtu) {
  return size_t{mtu} + SessionPath::kEthernetHeaderLength + kVlanTagLength;
}

SessionPath::SessionPath(const SessionConfig& config, TapDevice tap, TunnelPath* tunnel, LoopContext* ctx)
    : config_(config),
      tap_(std::move(tap)),
      tunnel_(tunnel),
      ctx_(ctx),
      sequencer_(SequencerConfig(config), ctx->clock),
      rx_header_length_(HeaderLength(tunnel->config().encap, config.peer_cookie.size(), config.l2spec)),
      coalescer_([this](std::span<const iovec> iov) { WriteTap(iov); }),
      udp_coalescer_([this](std::span<const iovec> iov) { WriteTap(iov); }),
      udp_gso_(tap_.accepts_uso()),
      max_rx_frame_(MaxReceivedFrame(tap_.mtu())) {}

SessionPath::~SessionPath() { ctx_->timer.Untrack(this); }

absl::Status SessionPath::Start() {
  uring_ = ctx_->loop.uring();
  if (uring_) {
    uring_token_ = uring_->Register(this);
    tap_watched_ = true;
    ArmTapRead();
    return absl::OkStatus();
  }
  if (auto st = ctx_->loop.Watch(tap_.fd(), EPOLLIN, this); !st.ok()) return st;
  tap_watched_ = true;
  return absl::OkStatus();
}

void SessionPath::Stop(bool remove_tap) {
  StopTapRead();
  sequencer_.Purge();
  ctx_->timer.Untrack(this);
  std::erase(ctx_->touched, this);
  rx_pending_ = false;
  if (remove_tap) tap_.Remove();
}

absl::Status SessionPath::Modify(const SessionConfig& config, uint32_t mtu) {
  if (mtu != tap_.mtu()) {
    if (auto st = tap_.Configure(mtu); !st.ok()) return st;
  }
  config_ = config;
  max_rx_frame_ = MaxReceivedFrame(mtu);
  sequencer_.Reconfigure(SequencerConfig(config));
  return absl::OkStatus();
}

Counters SessionPath::counters() const {
  Counters c = counters_;
  const auto& s = sequencer_.stats();
  c.rx_seq_discards += s.rx_seq_discards;
  c.rx_oos_packets += s.rx_oos_packets;
  c.rx_errors += s.rx_errors;
  return c;
}

}  // namespace l2tp::userspace
