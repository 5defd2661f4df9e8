// The send half of a tunnel's path (tunnel_path.h): L2TP packets that a
// session has encapsulated leave through the tunnel socket. In order:
//
//   1. SendGso: equal-length packets (the last may be shorter) as one UDP
//      GSO send; when the kernel refuses GSO for a segment size (above the
//      route MTU), that size and larger go through 2 from then on.
//   2. SendBatch: prepared messages with sendmmsg; a full socket gets one
//      bounded wait (kSendWaitMs), then the rest of the batch is dropped.
//   3. Counted on the session and the tunnel: tx_packets/tx_bytes (L2TP
//      lengths) for what left, tx_errors for what did not.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/session_path.h"
#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {
namespace {
constexpr int kSendWaitMs = 5;  // bounded back-pressure on a full socket
}  // namespace

void TunnelPath::SendGso(const uint8_t* data, size_t length, size_t segment_length, size_t segments,
                         Counters* session_counters) {
  bool sent = false;
  if (segment_length < gso_refused_from_) {
    sent = socket_.SendGso(data, length, static_cast<uint16_t>(segment_length));
    if (!sent && (errno == EAGAIN || errno == ENOBUFS)) {
      pollfd p{socket_.fd(), POLLOUT, 0};
      poll(&p, 1, kSendWaitMs);
      sent = socket_.SendGso(data, length, static_cast<uint16_t>(segment_length));
    }
    if (!sent && (errno == EMSGSIZE || errno == EINVAL)) {
      // Segments above the route MTU (to be fragmented) cannot use GSO:
      // remember, and send them one by one from now on.
      gso_refused_from_ = segment_length;
    } else if (!sent) {
      session_counters->tx_errors += segments;
      counters_.tx_errors += segments;
      return;
    }
  }
  if (!sent) {
    PacketBatch& batch = ctx_->segments;
    size_t lengths[PacketBatch::kSlots];
    size_t k = 0;
    for (size_t at = 0; at < length; at += segment_length) {
      if (k == PacketBatch::kSlots) {
        SendBatch(batch, k, lengths, session_counters);
        k = 0;
      }
      lengths[k] = std::min(segment_length, length - at);
      batch.SetSend(k, const_cast<uint8_t*>(data) + at, lengths[k]);
      ++k;
    }
    if (k) SendBatch(batch, k, lengths, session_counters);
    return;
  }
  session_counters->tx_packets += segments;
  session_counters->tx_bytes += length;
  counters_.tx_packets += segments;
  counters_.tx_bytes += length;
}

void TunnelPath::SendBatch(PacketBatch& batch, size_t count, const size_t* lengths,
                           Counters* session_counters, size_t first) {
  count += first;
  size_t done = first;
  bool waited = false;
  socket_.PreparePlainSend();
  while (done < count) {
    int n = sendmmsg(socket_.fd(), batch.msgs() + done, count - done, MSG_DONTWAIT);
    if (n > 0) {
      for (size_t i = done; i < done + static_cast<size_t>(n); ++i) {
        ++session_counters->tx_packets;
        session_counters->tx_bytes += lengths[i];
        ++counters_.tx_packets;
        counters_.tx_bytes += lengths[i];
      }
      done += n;
      waited = false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS) && !waited) {
      // Socket buffer full: give the device a moment rather than drop a burst.
      pollfd p{socket_.fd(), POLLOUT, 0};
      poll(&p, 1, kSendWaitMs);
      waited = true;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
      // Still full after waiting: drop the rest of the batch, never stall.
      session_counters->tx_errors += count - done;
      counters_.tx_errors += count - done;
      return;
    }
    // The first unsent message failed (no route, ICMP error): count it and
    // carry on with the rest, as the kernel drops per packet.
    ++session_counters->tx_errors;
    ++counters_.tx_errors;
    ++done;
  }
}

}  // namespace l2tp::userspace
