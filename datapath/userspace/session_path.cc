#include "datapath/userspace/session_path.h"

#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/tcp_segmenter.h"
#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {
namespace {

constexpr size_t kEthernetHeaderLength = 14;
constexpr size_t kVlanTagLength = 4;
constexpr int kTapBatchesPerWakeup = 4;  // fairness between sessions of a thread
constexpr size_t kMaxGsoSegments = 64;   // UDP_MAX_SEGMENTS
constexpr size_t kMaxGsoBytes = 65000;   // stays under the 64 KiB datagram limit
// Shorter runs of equal frames go with sendmmsg: with UDP checksums off, a
// GSO send among plain ones costs two more syscalls (checksums on, then off).
constexpr size_t kMinGsoRun = 4;

Sequencer::Config SequencerConfig(const SessionConfig& c) {
  return {c.send_sequence, c.require_sequence, c.lns_mode, c.reorder_timeout_ms};
}

}  // namespace

size_t MaxReceivedFrame(uint32_t mtu) { return size_t{mtu} + kEthernetHeaderLength + kVlanTagLength; }

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
          HeaderLength(tunnel->config().encap, config.peer_cookie.size(), config.l2spec)),
      coalescer_([this](std::span<const uint8_t> h, std::span<const uint8_t> f) { WriteTap(h, f); }),
      udp_coalescer_([this](std::span<const uint8_t> h, std::span<const uint8_t> f) { WriteTap(h, f); }),
      udp_gso_(tap_.accepts_uso()),
      max_rx_frame_(MaxReceivedFrame(config.mtu ? config.mtu : DefaultSessionMtu(tunnel->config(), config))) {}

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

void SessionPath::ArmTapRead() { uring_->ReadMultishot(tap_.fd(), uring_token_); }

// Stops reading the TAP; frames read but not yet sent are dropped.
void SessionPath::StopTapRead() {
  if (!tap_watched_) return;
  tap_watched_ = false;
  if (uring_) {
    // The read holds the TAP's file: end it before the fd is closed, so that
    // removing the TAP really removes it.
    uring_->Cancel(uring_token_);
  } else {
    ctx_->loop.Unwatch(tap_.fd());
  }
  for (size_t i = 0; i < tx_.count; ++i) ReleaseBuffer(tx_.buffer[i]);
  tx_.count = 0;
  std::erase(ctx_->tx_pending, this);
  tx_pending_ = false;
}

void SessionPath::Stop(bool remove_tap) {
  StopTapRead();
  sequencer_.Purge();
  ctx_->timer.Untrack(this);
  std::erase(ctx_->touched, this);
  rx_pending_ = false;
  if (remove_tap) tap_.Remove();
}

absl::Status SessionPath::Modify(const SessionConfig& config) {
  uint32_t mtu = config.mtu ? config.mtu : DefaultSessionMtu(tunnel_->config(), config);
  if (config.mtu != config_.mtu) {
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

void SessionPath::TapFailed(const char* why) {
  // Level-triggered epoll would spin on a dead fd (and a multishot read
  // would end): stop reading it. Observe()
  // then reports the session gone and the agent re-creates it.
  L2TP_LOG(kWarning) << "userspace datapath: TAP " << tap_.name() << ": " << why
                     << "; the session stops until re-created";
  StopTapRead();
}

// Writes the L2TP header in front of `frame` (headroom is guaranteed by the
// caller) and returns the L2TP packet length.
size_t SessionPath::EncapsulateInPlace(uint8_t* frame, size_t length) {
  TxHeaderSpec spec{tunnel_->config().encap, config_.peer_session_id, config_.cookie,
                    config_.l2spec};
  std::optional<uint32_t> seq;
  if (config_.l2spec == L2Spec::kDefault) seq = sequencer_.NextTxSequence();
  size_t hlen = HeaderLength(spec.encap, spec.cookie.size(), spec.l2spec);
  EncodeHeader(spec, seq, std::span<uint8_t>(frame - hlen, hlen));
  return hlen + length;
}

void SessionPath::SendSegmented(const VirtioNetHdr& h, std::span<const uint8_t> frame) {
  size_t segment_length = 0;
  size_t count = TcpSegmentCount(h, frame, &segment_length);
  if (count == 0) {
    ++counters_.tx_errors;  // malformed offload request: drop
    ++tunnel_->counters().tx_errors;
    return;
  }
  const size_t hlen = HeaderLength(tunnel_->config().encap, config_.cookie.size(), config_.l2spec);
  if (tunnel_->CanGso() && count > 1) {
    // Back to back into one buffer; each GSO send holds equal-sized datagrams.
    if (ctx_->gso.size() < kMaxGsoBytes + PacketBatch::kHeadroom) {
      ctx_->gso.resize(kMaxGsoBytes + PacketBatch::kHeadroom);
    }
    size_t used = 0, in_group = 0;
    const size_t wire_segment = hlen + segment_length;
    auto flush = [&] {
      if (in_group) tunnel_->SendGso(ctx_->gso.data(), used, wire_segment, in_group, &counters_);
      used = in_group = 0;
    };
    SegmentTcp(h, frame, [&](size_t len) {
      if (in_group == kMaxGsoSegments || used + hlen + len > kMaxGsoBytes) flush();
      uint8_t* at = ctx_->gso.data() + used + hlen;
      used += EncapsulateInPlace(at, len);
      ++in_group;
      return at;
    });
    flush();
    return;
  }
  // One message per segment.
  PacketBatch& batch = ctx_->segments;
  size_t lengths[PacketBatch::kSlots];
  size_t k = 0;
  SegmentTcp(h, frame, [&](size_t len) {
    if (k == PacketBatch::kSlots) {
      tunnel_->SendBatch(batch, k, lengths, &counters_);
      k = 0;
    }
    uint8_t* at = batch.slot(k) + PacketBatch::kHeadroom;
    lengths[k] = EncapsulateInPlace(at, len);
    batch.SetSend(k, at - hlen, lengths[k]);
    ++k;
    return at;
  });
  if (k) tunnel_->SendBatch(batch, k, lengths, &counters_);
}

void SessionPath::SendFrames(PacketBatch& batch, size_t count, const size_t* lengths) {
  if (count < kMinGsoRun || !tunnel_->CanGso()) {
    if (count) tunnel_->SendBatch(batch, count, lengths, &counters_);
    return;
  }
  if (ctx_->gso.size() < kMaxGsoBytes + PacketBatch::kHeadroom) {
    ctx_->gso.resize(kMaxGsoBytes + PacketBatch::kHeadroom);
  }
  size_t singles = 0;  // messages [i - singles, i) wait for one sendmmsg
  size_t i = 0;
  while (i < count) {
    const size_t segment = lengths[i];
    size_t j = i + 1, bytes = segment;
    while (j < count && j - i < kMaxGsoSegments && lengths[j] <= segment &&
           bytes + lengths[j] <= kMaxGsoBytes) {
      bytes += lengths[j];
      if (lengths[j++] < segment) break;  // a shorter one ends the run
    }
    if (j - i < kMinGsoRun) {
      singles += j - i;
      i = j;
      continue;
    }
    if (singles) tunnel_->SendBatch(batch, singles, lengths, &counters_, i - singles);
    singles = 0;
    uint8_t* out = ctx_->gso.data();
    for (size_t k = i; k < j; ++k) {
      std::memcpy(out, batch.iov(k).iov_base, lengths[k]);
      out += lengths[k];
    }
    tunnel_->SendGso(ctx_->gso.data(), bytes, segment, j - i, &counters_);
    i = j;
  }
  if (singles) tunnel_->SendBatch(batch, singles, lengths, &counters_, count - singles);
}

void SessionPath::ReleaseBuffer(int buffer) {
  if (buffer >= 0) uring_->Recycle(buffer);
}

void SessionPath::TakeTapFrame(uint8_t* frame, size_t read_length, int buffer) {
  constexpr size_t kVnet = VirtioNetHdr::kSize;
  if (read_length < kVnet + kEthernetHeaderLength) {
    ++counters_.tx_errors;  // runt from the TAP: nothing to send
    ++tunnel_->counters().tx_errors;
    ReleaseBuffer(buffer);
    return;
  }
  VirtioNetHdr h = VirtioNetHdr::Read({frame - kVnet, kVnet});
  std::span<uint8_t> f(frame, read_length - kVnet);
  if ((h.gso_type & ~VirtioNetHdr::kGsoEcn) != VirtioNetHdr::kGsoNone) {
    SendQueued();  // keep frame order: what is queued goes first
    SendSegmented(h, f);
    ReleaseBuffer(buffer);
    return;
  }
  if (!CompletePartialChecksum(h, f)) {
    ++counters_.tx_errors;
    ++tunnel_->counters().tx_errors;
    ReleaseBuffer(buffer);
    return;
  }
  // The virtio-net header sat in the headroom; the L2TP header overwrites it.
  size_t length = EncapsulateInPlace(frame, f.size());
  size_t i = tx_.count++;
  tx_.packet[i] = frame + f.size() - length;
  tx_.length[i] = length;
  tx_.buffer[i] = buffer;
  if (tx_.count == PacketBatch::kSlots) SendQueued();
}

void SessionPath::SendQueued() {
  if (tx_.count == 0) return;
  PacketBatch& batch = ctx_->tx;
  for (size_t i = 0; i < tx_.count; ++i) batch.SetSend(i, tx_.packet[i], tx_.length[i]);
  SendFrames(batch, tx_.count, tx_.length);
  for (size_t i = 0; i < tx_.count; ++i) ReleaseBuffer(tx_.buffer[i]);
  tx_.count = 0;
}

void SessionPath::FlushTx() {
  SendQueued();
  tx_pending_ = false;  // the caller, at the end of the batch, empties ctx_->tx_pending
}

void SessionPath::OnCompletion(const Completion& c) {
  if (c.buffer >= 0) {
    if (c.result > 0) {
      TakeTapFrame(uring_->Buffer(c.buffer) + PacketBatch::kHeadroom, static_cast<size_t>(c.result),
                   c.buffer);
      if (tx_.count && !tx_pending_) {
        tx_pending_ = true;
        ctx_->tx_pending.push_back(this);
      }
    } else {
      uring_->Recycle(c.buffer);
    }
  }
  if (c.more || !tap_watched_) return;
  // The read ended. Out of buffers (the batch's sends return them before the
  // new request is submitted) or the completion queue full: read on. An end
  // of file or an error: the TAP is unusable.
  if (c.result > 0 || c.result == -ENOBUFS) {
    ArmTapRead();
  } else {
    TapFailed(c.result == 0 ? "end of file" : strerror(-c.result));
  }
}

void SessionPath::OnEvent(uint32_t epoll_events) {
  if (epoll_events & (EPOLLERR | EPOLLHUP)) {
    TapFailed("device closed or deleted");
    return;
  }
  constexpr size_t kVnet = VirtioNetHdr::kSize;
  PacketBatch& batch = ctx_->tx;
  for (int round = 0; round < kTapBatchesPerWakeup; ++round) {
    // Frames are read into the thread's batch slots; a slot stays taken while
    // its frame waits in tx_.
    for (size_t reads = 0; reads < PacketBatch::kSlots; ++reads) {
      uint8_t* frame = batch.slot(tx_.count) + PacketBatch::kHeadroom;
      ssize_t n = read(tap_.fd(), frame - kVnet, PacketBatch::kSlotSize - PacketBatch::kHeadroom + kVnet);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) TapFailed(strerror(errno));
        SendQueued();
        return;
      }
      TakeTapFrame(frame, static_cast<size_t>(n), -1);
    }
    SendQueued();
    if (!tap_watched_) return;
  }
  ctx_->loop.NotDrained();
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
  if (frame.size() > max_rx_frame_) {
    // Linux's l2tp_eth drops these too (dev_forward_skb: longer than the
    // device's MTU plus its header and a VLAN tag) and counts an error.
    ++counters_.rx_errors;
    ++tunnel_->counters().rx_errors;
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
  // Counted on delivery, as the kernel counts before handing to l2tp_eth.
  uint64_t bytes = frame.size() + rx_header_length_;
  ++counters_.rx_packets;
  counters_.rx_bytes += bytes;
  ++tunnel_->counters().rx_packets;
  tunnel_->counters().rx_bytes += bytes;
  if (udp_gso_ && UdpCoalescer::IsUdp(frame)) {
    coalescer_.Flush();
    udp_coalescer_.Add(frame);
  } else {
    udp_coalescer_.Flush();
    coalescer_.Add(frame);
  }
  if (!rx_pending_) {
    rx_pending_ = true;
    ctx_->touched.push_back(this);
  }
}

void SessionPath::FlushReceived() {
  coalescer_.Flush();
  udp_coalescer_.Flush();
  rx_pending_ = false;
}

void SessionPath::WriteTap(std::span<const uint8_t> vnet_header, std::span<const uint8_t> frame) {
  iovec iov[2] = {{const_cast<uint8_t*>(vnet_header.data()), vnet_header.size()},
                  {const_cast<uint8_t*>(frame.data()), frame.size()}};
  if (!tap_watched_ || writev(tap_.fd(), iov, 2) < 0) {
    // TAP gone or its queue full: the frame is lost on our side.
    ++counters_.rx_errors;
    if (errno == EINVAL && tap_watched_ && vnet_header.size() > 1 &&
        vnet_header[1] == VirtioNetHdr::kGsoUdpL4 && udp_gso_) {
      // The kernel refused a USO frame after all: stop merging UDP.
      udp_gso_ = false;
      L2TP_LOG(kWarning) << "userspace datapath: TAP " << tap_.name()
                         << " refused a UDP GSO frame; writing datagrams one by one";
    }
  }
}

}  // namespace l2tp::userspace
