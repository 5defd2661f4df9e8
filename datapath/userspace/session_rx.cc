// The receive half of a session's path (session_path.h): L2TP packets the
// tunnel hands over become Ethernet frames written to the TAP. In order:
//
//   0. TunnelPath (tunnel_path.cc) receives from the socket (into a ring
//      buffer in io_uring mode, a batch slot in epoll mode), splits UDP GRO
//      batches, checks the version and finds the session by its id.
//   0a. A spread session's flows may be handed to another thread first
//      (ReceivingThread, tunnel_handoff.cc); its replica there goes on with 1.
//   1. Receive: DecodeDataHeader checks the cookie and reads the sublayer
//      (the sequence number). Dropped and counted: truncated headers and
//      frames shorter than an Ethernet header (tunnel rx_invalid), cookie
//      mismatches (rx_cookie_discards), frames longer than the MTU, the
//      Ethernet header and one VLAN tag (rx_errors, as Linux's l2tp_eth).
//   2. Sequencer::OnReceive: deliver now, hold in the reorder queue (a copy;
//      DrainQueue; the reorder timer calls it again while frames wait) or
//      drop.
//   3. Deliver: counted (rx_packets, rx_bytes), then handed to the UDP
//      coalescer (where the TAP takes USO frames) or the TCP coalescer,
//      which merge consecutive segments of a flow. A frame delivered in step
//      2 stays where it was received until the end of the batch, so the
//      coalescers point into it (and the session holds its ring buffer); one
//      from the reorder queue is freed after delivery, so they copy it. They
//      check the inner TCP/UDP checksum of what they merge unless the tunnel
//      says the kernel verified an outer checksum covering the frame
//      (TunnelPath::rx_checksum_verified), and mark what was verified.
//   4. FlushReceived, at the end of the receive batch (or earlier, see
//      TunnelPath::OnCompletion): the coalescers write what they hold, then
//      the held ring buffers go back.
//   5. WriteTap: one writev of the iovecs a coalescer built: the virtio-net
//      header and the frame's headers, then the payload where it lies.
#include <sys/uio.h>

#include <cerrno>

#include "common/log.h"
#include "datapath/userspace/flow_hash.h"
#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/session_path.h"
#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {

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
    case Sequencer::Verdict::kDeliver: Deliver(frame, /*stable=*/true); break;
    case Sequencer::Verdict::kQueued: DrainQueue(); break;
    case Sequencer::Verdict::kDrop: break;
  }
}

size_t SessionPath::ReceivingThread(std::span<const uint8_t> packet, size_t offset, size_t threads) const {
  if (!rx_spread_) return 0;
  DataHeaderDecode d = DecodeDataHeader(RxSessionSpec{config_.peer_cookie, config_.l2spec}, packet, offset);
  if (d.result != DataHeaderResult::kOk || d.has_sequence) return 0;
  return InnerFlowHash(packet.subspan(d.payload_offset)) % threads;
}

void SessionPath::DrainQueue() {
  // Queued frames are freed once delivered: the coalescers copy them.
  sequencer_.Drain([this](std::span<const uint8_t> frame) { Deliver(frame, /*stable=*/false); });
  if (sequencer_.queued()) {
    ctx_->timer.Track(this);
  } else {
    ctx_->timer.Untrack(this);
  }
}

void SessionPath::Deliver(std::span<const uint8_t> frame, bool stable) {
  // Counted on delivery, as the kernel counts before handing to l2tp_eth.
  uint64_t bytes = frame.size() + rx_header_length_;
  ++counters_.rx_packets;
  counters_.rx_bytes += bytes;
  ++tunnel_->counters().rx_packets;
  tunnel_->counters().rx_bytes += bytes;
  // Small frames are copied: one contiguous piece costs the TAP write less
  // than dozens of tiny iovecs, and the copy is folded into the checksum.
  constexpr size_t kMinGatheredFrame = 512;
  FrameInfo info{.stable = stable && frame.size() >= kMinGatheredFrame,
                 .verified = tunnel_->rx_checksum_verified()};
  bool borrowed;
  if (udp_gso_ && UdpCoalescer::IsUdp(frame)) {
    coalescer_.Flush();
    borrowed = udp_coalescer_.Add(frame, info);
  } else {
    udp_coalescer_.Flush();
    borrowed = coalescer_.Add(frame, info);
  }
  // The ring buffer under a borrowed frame stays ours until FlushReceived
  // (epoll mode: the batch slot stays untouched until the tunnel flushes).
  if (borrowed && tunnel_->rx_buffer() >= 0) rx_holds_.Hold(ctx_->loop.uring(), tunnel_->rx_buffer());
  if (!rx_pending_) {
    rx_pending_ = true;
    ctx_->touched.push_back(this);
  }
}

void SessionPath::FlushReceived() {
  coalescer_.Flush();
  udp_coalescer_.Flush();
  rx_holds_.Release();  // nothing points into them any more
  rx_pending_ = false;
}

void SessionPath::WriteTap(std::span<const iovec> iov) {
  if (!tap_watched_ || writev(tap_.fd(), iov.data(), static_cast<int>(iov.size())) < 0) {
    // TAP gone or its queue full: the frame is lost on our side.
    ++counters_.rx_errors;
    const auto* vnet_header = static_cast<const uint8_t*>(iov[0].iov_base);  // at least the 10 bytes
    if (errno == EINVAL && tap_watched_ && vnet_header[1] == VirtioNetHdr::kGsoUdpL4 && udp_gso_) {
      // The kernel refused a USO frame after all: stop merging UDP.
      udp_gso_ = false;
      L2TP_LOG(kWarning) << "userspace datapath: TAP " << tap_.name()
                         << " refused a UDP GSO frame; writing datagrams one by one";
    }
  }
}

}  // namespace l2tp::userspace
