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
//      UDP GSO send where the socket can, its iovecs pointing at the queued
//      packets (nothing copied), the rest with sendmmsg
//      (TunnelPath::SendGso, TunnelPath::SendBatch).
//   6. ReleaseBuffer: the io_uring buffers go back to the ring.
//
// SendSegmented cuts a super-frame into TCP segments without copying the
// payload (TcpSegmentPlan, tcp_segmenter.h): per segment, its rebuilt
// headers with an L2TP header in front (as in 3) go into the thread's header
// arena (LoopContext::segments), and the send gathers them with the payload
// slice in the TAP's read buffer, whose TCP checksum was summed in place (one
// pass over the bytes). Segments go in UDP GSO sends of up to
// kMaxGsoSegments, else as two-iovec messages with sendmmsg.
// ArmTapRead, StopTapRead and TapFailed start and end the reading of 1.
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/functional/function_ref.h"
#include "common/log.h"
#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/session_path.h"
#include "datapath/userspace/tcp_segmenter.h"
#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {
namespace {

constexpr int kTapBatchesPerWakeup = 4;                        // fairness between sessions of a thread
constexpr size_t kMaxGsoSegments = GatherBatch::kMaxMessages;  // UDP_MAX_SEGMENTS
constexpr size_t kMaxGsoBytes = 65000;                         // stays under the 64 KiB datagram limit
// Shorter runs of equal frames go with sendmmsg: with UDP checksums off, a
// GSO send among plain ones costs two more syscalls (checksums on, then off).
constexpr size_t kMinGsoRun = 4;

// Builds segment i's headers in `out`'s arena behind `hlen` bytes for the
// L2TP header (which `encapsulate` writes in front of them) and adds the
// segment: those headers, then its payload where it lies in the frame.
void AddSegment(const TcpSegmentPlan& plan, size_t i, size_t hlen, GatherBatch& out,
                absl::FunctionRef<void(uint8_t*, size_t)> encapsulate) {
  uint8_t* at = out.ReserveHeaders(hlen + plan.header_length()) + hlen;
  const TcpSegment s = *plan.Build(i, {at, plan.header_length()});  // i < count, room reserved
  encapsulate(at, s.header_length);
  out.Add({at - hlen, hlen + s.header_length}, plan.payload(s));
}

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
    if (count) tunnel_->SendBatch(batch.msgs(), count, lengths, &counters_);
    return;
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
    const size_t first = i - singles;
    if (singles) tunnel_->SendBatch(batch.msgs() + first, singles, lengths + first, &counters_);
    singles = 0;
    // The run's iovecs point at the queued packets: the kernel gathers them.
    tunnel_->SendGso(batch.iovs(i, j - i), segment, j - i, &counters_);
    i = j;
  }
  const size_t first = count - singles;
  if (singles) tunnel_->SendBatch(batch.msgs() + first, singles, lengths + first, &counters_);
}

void SessionPath::SendSegmented(const VirtioNetHdr& h, std::span<const uint8_t> frame) {
  const TcpSegmentPlan plan(h, frame);
  if (!plan.ok()) {
    ++counters_.tx_errors;  // malformed offload request: drop
    ++tunnel_->counters().tx_errors;
    return;
  }
  const size_t hlen = HeaderLength(tunnel_->config().encap, config_.cookie.size(), config_.l2spec);
  // Equal-sized segments as UDP GSO sends where the socket can; else (IP
  // encapsulation, a single segment) one sendmmsg message per segment.
  const bool gso = tunnel_->CanGso() && plan.count() > 1;
  GatherBatch& out = ctx_->segments;
  out.Clear();
  auto flush = [&] {
    if (out.count() == 0) return;
    if (gso) {
      tunnel_->SendGso(out.iov(), hlen + plan.segment_length(), out.count(), &counters_);
    } else {
      tunnel_->SendBatch(out.msgs(), out.count(), out.lengths(), &counters_);
    }
    out.Clear();
  };
  const size_t headers = hlen + plan.header_length();
  for (size_t i = 0; i < plan.count(); ++i) {
    const size_t length = hlen + plan.length(i);
    if (out.full() || !out.HasRoom(headers) || (gso && out.bytes() + length > kMaxGsoBytes)) flush();
    if (!out.HasRoom(headers)) {  // headers no arena holds: cannot happen with frames we read
      counters_.tx_errors += plan.count() - i;
      tunnel_->counters().tx_errors += plan.count() - i;
      return;
    }
    AddSegment(plan, i, hlen, out, [this](uint8_t* at, size_t n) { EncapsulateInPlace(at, n); });
  }
  flush();
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
