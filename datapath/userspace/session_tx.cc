// The transmit half of a session's path (session_path.h): Ethernet frames the
// TAP gives us leave through the tunnel socket as L2TP packets. In order:
//
//   1. OnCompletion (io_uring: one completion per frame of the TAP's
//      multishot read) or OnEvent (epoll: read() in batches of
//      PacketBatch::kSlots frames, up to kTapBatchesPerWakeup batches).
//   2. TakeTapFrame: a runt is dropped (tx_errors); a TSO super-frame goes
//      to SendSegmented at once, after what is queued; a partial checksum
//      is completed.
//   3. EncapsulateInPlace: the L2TP header (session id, cookie, sublayer
//      with the next sequence number) written over the virtio-net header in
//      the headroom; the packet waits in tx_.
//   4. SendQueued, at the end of the batch (FlushTx, io_uring mode), after
//      each read batch (epoll mode) or when tx_ is full.
//   5. SendFrames: runs of kMinGsoRun or more equal-length packets as one
//      UDP GSO send where the socket can, the rest with sendmmsg
//      (TunnelPath::SendGso, TunnelPath::SendBatch).
//   6. ReleaseBuffer: the io_uring buffers go back to the ring.
//
// SendSegmented cuts a super-frame into TCP segments (tcp_segmenter.h),
// encapsulates each as in 3 and sends them in GSO groups or with sendmmsg.
// ArmTapRead, StopTapRead and TapFailed start and end the reading of 1.
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/session_path.h"
#include "datapath/userspace/tcp_segmenter.h"
#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {
namespace {

constexpr int kTapBatchesPerWakeup = 4;  // fairness between sessions of a thread
constexpr size_t kMaxGsoSegments = 64;   // UDP_MAX_SEGMENTS
constexpr size_t kMaxGsoBytes = 65000;   // stays under the 64 KiB datagram limit
// Shorter runs of equal frames go with sendmmsg: with UDP checksums off, a
// GSO send among plain ones costs two more syscalls (checksums on, then off).
constexpr size_t kMinGsoRun = 4;

}  // namespace

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

// Writes the L2TP header in front of `frame` (headroom is guaranteed by the
// caller) and returns the L2TP packet length.
size_t SessionPath::EncapsulateInPlace(uint8_t* frame, size_t length) {
  TxHeaderSpec spec{tunnel_->config().encap, config_.peer_session_id, config_.cookie, config_.l2spec};
  std::optional<uint32_t> seq;
  if (config_.l2spec == L2Spec::kDefault) seq = sequencer_.NextTxSequence();
  size_t hlen = HeaderLength(spec.encap, spec.cookie.size(), spec.l2spec);
  EncodeHeader(spec, seq, std::span<uint8_t>(frame - hlen, hlen));
  return hlen + length;
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

void SessionPath::ReleaseBuffer(int buffer) {
  if (buffer >= 0) uring_->Recycle(buffer);
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

void SessionPath::TapFailed(const char* why) {
  // Level-triggered epoll would spin on a dead fd (and a multishot read
  // would end): stop reading it. Observe()
  // then reports the session gone and the agent re-creates it.
  L2TP_LOG(kWarning) << "userspace datapath: TAP " << tap_.name() << ": " << why
                     << "; the session stops until re-created";
  StopTapRead();
}

}  // namespace l2tp::userspace
