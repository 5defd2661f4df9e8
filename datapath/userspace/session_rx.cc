// The receive half of a session's path (session_path.h): L2TP packets the
// tunnel hands over become Ethernet frames written to the TAP. In order:
//
//   0. TunnelPath (tunnel_path.cc) receives from the socket, splits UDP GRO
//      batches, checks the version and finds the session by its id.
//   1. Receive: DecodeDataHeader checks the cookie and reads the sublayer
//      (the sequence number). Dropped and counted: truncated headers and
//      frames shorter than an Ethernet header (tunnel rx_invalid), cookie
//      mismatches (rx_cookie_discards), frames longer than the MTU, the
//      Ethernet header and one VLAN tag (rx_errors, as Linux's l2tp_eth).
//   2. Sequencer::OnReceive: deliver now, hold in the reorder queue
//      (DrainQueue; the reorder timer calls it again while frames wait) or
//      drop.
//   3. Deliver: counted (rx_packets, rx_bytes), then handed to the UDP
//      coalescer (where the TAP takes USO frames) or the TCP coalescer,
//      which merge consecutive segments of a flow.
//   4. FlushReceived, at the end of the receive batch: the coalescers write
//      what they hold.
//   5. WriteTap: one writev of the virtio-net header and the frame.
#include <sys/uio.h>

#include <cerrno>

#include "common/log.h"
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
    case Sequencer::Verdict::kDeliver: Deliver(frame); break;
    case Sequencer::Verdict::kQueued: DrainQueue(); break;
    case Sequencer::Verdict::kDrop: break;
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
