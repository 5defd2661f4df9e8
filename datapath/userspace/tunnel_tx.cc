// The send half of a tunnel's path (tunnel_path.h): L2TP packets that a
// session has encapsulated leave through the tunnel socket, read by the
// kernel where they lie (iovecs: a queued packet, or a TSO segment's rebuilt
// headers and its payload in the TAP's read buffer); nothing is copied here.
// In order:
//
//   1. SendGso: equal-length packets (the last may be shorter) as one UDP
//      GSO send gathering their iovecs; when the kernel refuses GSO for a
//      segment size (above the route MTU), that size and larger go through
//      2 from then on, one message (of the same iovecs) per packet.
//   2. SendBatch: prepared messages with sendmmsg; a full socket gets one
//      bounded wait (kSendWaitMs), then the rest of the batch is dropped.
//   3. Counted on the session and the tunnel: tx_packets/tx_bytes (L2TP
//      lengths) for what left, tx_errors for what did not.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {
namespace {

constexpr int kSendWaitMs = 5;  // bounded back-pressure on a full socket

size_t TotalLength(std::span<const iovec> iov) {
  size_t n = 0;
  for (const iovec& v : iov) n += v.iov_len;
  return n;
}

// Points msgs[k] at packet k of `packets` (`per` iovecs each) and sets its
// length; at most msgs.size() packets. Returns how many.
size_t PrepareMessages(std::span<const iovec> packets, size_t per, std::span<mmsghdr> msgs, size_t* lengths) {
  const size_t n = std::min(packets.size() / per, msgs.size());
  for (size_t k = 0; k < n; ++k) {
    std::span<const iovec> pieces = packets.subspan(k * per, per);
    msgs[k] = {};
    msgs[k].msg_hdr.msg_iov = const_cast<iovec*>(pieces.data());  // sendmmsg only reads them
    msgs[k].msg_hdr.msg_iovlen = per;
    lengths[k] = TotalLength(pieces);
  }
  return n;
}

}  // namespace

void TunnelPath::SendGso(std::span<const iovec> iov, size_t segment_length, size_t segments,
                         Counters* session_counters) {
  if (segments == 0 || iov.size() % segments != 0) {  // not whole packets: a caller's bug
    session_counters->tx_errors += segments;
    counters_.tx_errors += segments;
    return;
  }
  bool sent = false;
  if (segment_length < gso_refused_from_) {
    const auto size = static_cast<uint16_t>(segment_length);
    sent = socket_.SendGso(iov, size);
    if (!sent && (errno == EAGAIN || errno == ENOBUFS)) {
      pollfd p{socket_.fd(), POLLOUT, 0};
      poll(&p, 1, kSendWaitMs);
      sent = socket_.SendGso(iov, size);
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
    SendEach(iov, segments, session_counters);
    return;
  }
  const size_t length = TotalLength(iov);
  session_counters->tx_packets += segments;
  session_counters->tx_bytes += length;
  counters_.tx_packets += segments;
  counters_.tx_bytes += length;
}

void TunnelPath::SendEach(std::span<const iovec> iov, size_t segments, Counters* session_counters) {
  const size_t per = iov.size() / segments;
  mmsghdr msgs[GatherBatch::kMaxMessages];
  size_t lengths[GatherBatch::kMaxMessages];
  for (size_t done = 0; done < segments;) {
    const size_t n = PrepareMessages(iov.subspan(done * per), per, msgs, lengths);
    SendBatch(msgs, n, lengths, session_counters);
    done += n;
  }
}

void TunnelPath::SendBatch(mmsghdr* msgs, size_t count, const size_t* lengths, Counters* session_counters) {
  size_t done = 0;
  bool waited = false;
  socket_.PreparePlainSend();
  while (done < count) {
    int n = sendmmsg(socket_.fd(), msgs + done, count - done, MSG_DONTWAIT);
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
