#include "datapath/userspace/session_path.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.h"
#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {
namespace {

constexpr size_t kEthernetHeaderLength = 14;
constexpr int kTapBatchesPerWakeup = 4;  // fairness between sessions of a thread

Sequencer::Config SequencerConfig(const SessionConfig& c) {
  return {c.send_sequence, c.require_sequence, c.lns_mode, c.reorder_timeout_ms};
}

}  // namespace

uint32_t DefaultSessionMtu(const TunnelConfig& tunnel, const SessionConfig& session) {
  uint32_t overhead = (tunnel.local.is_v6() ? 40 : 20) + (tunnel.encap == Encap::kUdp ? 8 : 0) +
                      HeaderLength(tunnel.encap, session.cookie.size(), session.l2spec) +
                      kEthernetHeaderLength;
  return 1500 - overhead;
}

SessionPath::SessionPath(const SessionConfig& config, TapDevice tap, TunnelPath* tunnel,
                         LoopContext* ctx)
    : config_(config),
      tap_(std::move(tap)),
      tunnel_(tunnel),
      ctx_(ctx),
      sequencer_(SequencerConfig(config), ctx->clock),
      rx_header_length_(
          HeaderLength(tunnel->config().encap, config.peer_cookie.size(), config.l2spec)) {}

SessionPath::~SessionPath() { ctx_->timer.Untrack(this); }

absl::Status SessionPath::Start() {
  if (auto st = ctx_->loop.Watch(tap_.fd(), EPOLLIN, this); !st.ok()) return st;
  tap_watched_ = true;
  return absl::OkStatus();
}

void SessionPath::Stop(bool remove_tap) {
  if (tap_watched_) ctx_->loop.Unwatch(tap_.fd());
  tap_watched_ = false;
  sequencer_.Purge();
  ctx_->timer.Untrack(this);
  if (remove_tap) tap_.Remove();
}

absl::Status SessionPath::Modify(const SessionConfig& config) {
  uint32_t mtu = config.mtu ? config.mtu : DefaultSessionMtu(tunnel_->config(), config);
  if (config.mtu != config_.mtu) {
    if (auto st = tap_.Configure(mtu); !st.ok()) return st;
  }
  config_ = config;
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

void SessionPath::TapFailed() {
  // Level-triggered epoll would spin on a dead fd: stop watching it. Observe()
  // then reports the session gone and the agent re-creates it.
  L2TP_LOG(kWarning) << "userspace datapath: TAP " << tap_.name() << " failed, errno " << errno;
  if (tap_watched_) ctx_->loop.Unwatch(tap_.fd());
  tap_watched_ = false;
}

void SessionPath::OnEvent(uint32_t epoll_events) {
  if (epoll_events & (EPOLLERR | EPOLLHUP)) {
    TapFailed();
    return;
  }
  TxHeaderSpec spec{tunnel_->config().encap, config_.peer_session_id, config_.cookie,
                    config_.l2spec};
  PacketBatch& batch = ctx_->tx;
  size_t lengths[PacketBatch::kSlots];
  for (int round = 0; round < kTapBatchesPerWakeup; ++round) {
    size_t count = 0;
    bool drained = false;
    while (count < PacketBatch::kSlots) {
      uint8_t* frame = batch.slot(count) + PacketBatch::kHeadroom;
      ssize_t n = read(tap_.fd(), frame, PacketBatch::kSlotSize - PacketBatch::kHeadroom);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) TapFailed();
        drained = true;
        break;
      }
      std::optional<uint32_t> seq;
      if (config_.l2spec == L2Spec::kDefault) seq = sequencer_.NextTxSequence();
      size_t hlen = HeaderLength(spec.encap, spec.cookie.size(), spec.l2spec);
      uint8_t* header = frame - hlen;
      EncodeHeader(spec, seq, std::span<uint8_t>(header, hlen));
      lengths[count] = hlen + static_cast<size_t>(n);
      batch.SetSend(count, header, lengths[count]);
      ++count;
    }
    if (count) tunnel_->SendBatch(count, lengths, &counters_);
    if (drained || !tap_watched_) return;
  }
}

void SessionPath::Receive(std::span<const uint8_t> packet, size_t offset) {
  RxSessionSpec spec{config_.peer_cookie, config_.l2spec};
  DataHeaderDecode d = DecodeDataHeader(spec, packet, offset);
  if (d.result == DataHeaderResult::kTruncated) {
    ++tunnel_->counters().rx_invalid;
    return;
  }
  if (d.result == DataHeaderResult::kCookieMismatch) {
    ++counters_.rx_cookie_discards;
    ++counters_.rx_errors;
    return;
  }
  auto frame = packet.subspan(d.payload_offset);
  if (frame.size() < kEthernetHeaderLength) {
    ++tunnel_->counters().rx_invalid;
    return;
  }
  switch (sequencer_.OnReceive(d.has_sequence, d.sequence, frame)) {
    case Sequencer::Verdict::kDeliver:
      Deliver(frame);
      break;
    case Sequencer::Verdict::kQueued:
      DrainQueue();
      break;
    case Sequencer::Verdict::kDrop:
      break;
  }
}

void SessionPath::DrainQueue() {
  sequencer_.Drain([this](std::span<const uint8_t> frame) { Deliver(frame); });
  if (sequencer_.queued()) {
    ctx_->timer.Track(this);
  } else {
    ctx_->timer.Untrack(this);
  }
}

void SessionPath::Deliver(std::span<const uint8_t> frame) {
  if (!tap_watched_ || write(tap_.fd(), frame.data(), frame.size()) < 0) {
    // TAP gone or its queue full: the frame is lost on our side.
    ++counters_.rx_errors;
    return;
  }
  uint64_t bytes = frame.size() + rx_header_length_;
  ++counters_.rx_packets;
  counters_.rx_bytes += bytes;
  ++tunnel_->counters().rx_packets;
  tunnel_->counters().rx_bytes += bytes;
}

}  // namespace l2tp::userspace
