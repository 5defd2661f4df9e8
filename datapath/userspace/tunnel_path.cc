// The receive half of a tunnel's path (tunnel_path.h; tunnel_tx.cc sends).
// In order:
//
//   1. io_uring: OnCompletion, one per datagram (or UDP GRO batch) of the
//      socket's multishot recvmsg, each in a buffer of the thread's ring.
//      epoll: OnEvent, recvmmsg into the thread's batch slots (ctx_->rx),
//      up to kRxBatchesPerWakeup rounds.
//   2. ProcessDatagram cuts GRO batches at the segment size; ProcessPacket
//      skips the IPv4 header (raw IP sockets), decodes the session id, hands
//      control frames to the control plane and data to the session
//      (session_rx.cc), which may keep pointing into the received bytes.
//   3. The receive buffers stay untouched until the sessions flushed: in
//      io_uring mode a session holds the ring buffers it points into
//      (Uring::Hold) and releases them in FlushReceived, at the end of the
//      batch (the loop's after-batch hook), or earlier here once half the
//      ring is held; in epoll mode FlushTouchedSessions runs after each
//      round, before the slots are received into again.
//   3a. Receive spreading (tunnel_handoff.cc): the packets of a spread
//      session's flows that belong to another thread are set aside in step
//      2 and handed to that thread's replica path at the end of the batch.
//   4. rx_checksum_verified tells the sessions whether the kernel verified
//      an outer checksum covering every byte (IPv6 UDP without zero-checksum
//      receive), so they need not check inner TCP/UDP checksums.
#include "datapath/userspace/tunnel_path.h"

#include <liburing.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/session_path.h"

namespace l2tp::userspace {
namespace {
std::atomic<uint64_t> next_serial{1};
constexpr int kRxBatchesPerWakeup = 8;  // fairness between tunnels of a thread
constexpr int kUdpGro = 104;            // UDP_GRO (linux/udp.h)

// An IPv6 UDP socket without UDP_NO_CHECK6_RX gets only datagrams whose
// checksum the kernel verified, and that checksum covers every byte of the
// L2TP packet, so of the frame inside. IPv4 UDP cannot say: a zero checksum
// (none sent, the L2TP default) looks the same as a verified one to a UDP
// socket. L2TP/IP has no checksum of its own.
bool OuterChecksumVerified(const TunnelConfig& c) {
  return c.encap == Encap::kUdp && c.local.family == AF_INET6 && !c.udp6_zero_checksum_rx;
}

}  // namespace

TunnelPath::TunnelPath(const TunnelConfig& config, TunnelSocket socket, LoopContext* ctx,
                       ControlFrameSink* control)
    : config_(config),
      socket_(std::move(socket)),
      ctx_(ctx),
      control_(control),
      rx_checksum_verified_(OuterChecksumVerified(config)),
      serial_(next_serial++) {}

TunnelPath::~TunnelPath() = default;

absl::Status TunnelPath::Start() {
  uring_ = ctx_->loop.uring();
  if (uring_) {
    uring_token_ = uring_->Register(this);
    ring_msg_.msg_controllen = CMSG_SPACE(sizeof(int));  // the UDP GRO segment size
    watched_ = true;
    ArmReceive();
    return absl::OkStatus();
  }
  if (auto st = ctx_->loop.Watch(socket_.fd(), EPOLLIN, this); !st.ok()) return st;
  watched_ = true;
  return absl::OkStatus();
}

void TunnelPath::ArmReceive() { uring_->RecvMsgMultishot(socket_.fd(), &ring_msg_, uring_token_); }

void TunnelPath::Stop(bool remove_taps) {
  if (watched_ && uring_) {
    uring_->Cancel(uring_token_);
  } else if (watched_) {
    ctx_->loop.Unwatch(socket_.fd());
  }
  watched_ = false;
  SetHandoffTargets({});  // what was set aside still goes
  if (accepts_handoffs_) ctx_->receivers.erase(serial_);
  accepts_handoffs_ = false;
  for (auto& [id, s] : sessions_) {
    s->FlushReceived();  // writes what its coalescers hold and lets go of the buffers
    s->Stop(remove_taps);
  }
  sessions_.clear();
  last_found_ = nullptr;
}

absl::Status TunnelPath::AddSession(std::unique_ptr<SessionPath>&& session) {
  uint32_t id = session->config().session_id;
  if (sessions_.count(id)) return absl::AlreadyExistsError(absl::StrCat("session ", id, " exists"));
  if (auto st = session->Start(); !st.ok()) return st;
  sessions_[id] = std::move(session);
  last_found_ = nullptr;
  return absl::OkStatus();
}

bool TunnelPath::RemoveSession(uint32_t session_id, bool remove_tap) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return false;
  it->second->FlushReceived();  // mid-batch: it may hold ring buffers
  it->second->Stop(remove_tap);
  sessions_.erase(it);
  last_found_ = nullptr;
  return true;
}

SessionPath* TunnelPath::FindSession(uint32_t session_id) {
  // Packets come in runs for one session (a GRO batch is usually one flow).
  if (last_found_ && last_found_id_ == session_id) return last_found_;
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return nullptr;
  last_found_id_ = session_id;
  last_found_ = it->second.get();
  return last_found_;
}

void TunnelPath::OnEvent(uint32_t epoll_events) {
  if (epoll_events & EPOLLERR) {
    // A queued ICMP error (e.g. port unreachable): reading SO_ERROR clears it.
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(socket_.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
  }
  PacketBatch& batch = ctx_->rx;
  for (int round = 0; round < kRxBatchesPerWakeup; ++round) {
    batch.PrepareReceive();
    int n = recvmmsg(socket_.fd(), batch.msgs(), PacketBatch::kSlots, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;  // EAGAIN, or a pending error already consumed
    for (int i = 0; i < n; ++i) {
      mmsghdr& m = batch.msgs()[i];
      if (m.msg_hdr.msg_flags & MSG_TRUNC) {
        ++counters_.rx_invalid;
        continue;
      }
      ProcessDatagram({batch.slot(i), m.msg_len}, GroSegmentSize(CMSG_FIRSTHDR(&m.msg_hdr)));
    }
    // Coalescers point into the batch's slots: flush before the next round
    // (or another tunnel of the thread) receives into them.
    FlushTouchedSessions();
    if (n < static_cast<int>(PacketBatch::kSlots)) return;
  }
  ctx_->loop.NotDrained();  // our share of this wake-up is used up; more is queued
}

void TunnelPath::OnCompletion(const Completion& c) {
  if (c.buffer >= 0) {
    if (c.result > 0) {
      rx_buffer_ = c.buffer;
      ProcessRingBuffer(uring_->Buffer(c.buffer) + uring_->buffers().headroom, static_cast<size_t>(c.result));
      rx_buffer_ = -1;
    }
    // Our share: a session whose coalescer points into the buffer holds it
    // until it flushed, at the end of the batch.
    uring_->Recycle(c.buffer);
    // Bounded anyway: held buffers return at the next Submit, after the
    // batch's flush, but a batch must never keep most of the ring.
    if (uring_->held_buffers() >= uring_->buffers().count / 2) {
      PostHandoffs();
      FlushTouchedSessions();
    }
  }
  if (c.more || !watched_) return;
  // A datagram was delivered and the request ended with it (as after a
  // zero-length datagram): receive on.
  if (c.result >= 0) return ArmReceive();
  switch (-c.result) {
    case ENOBUFS:  // out of buffers: this batch's sends give them back
    // A reported ICMP error ends the request; the failed receive cleared it.
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EPROTO: ArmReceive(); return;
    default:
      // Something io_uring cannot do with this socket: carry on with epoll.
      L2TP_LOG(kWarning) << "userspace datapath: tunnel " << config_.tunnel_id
                         << ": io_uring receive failed (" << strerror(-c.result) << ", errno " << -c.result
                         << "); receiving with recvmmsg instead";
      uring_->Unregister(uring_token_);
      WatchWithEpoll();
  }
}

void TunnelPath::WatchWithEpoll() {
  uring_ = nullptr;
  if (!ctx_->loop.Watch(socket_.fd(), EPOLLIN, this).ok()) watched_ = false;
}

void TunnelPath::ProcessRingBuffer(uint8_t* data, size_t length) {
  io_uring_recvmsg_out* out = io_uring_recvmsg_validate(data, static_cast<int>(length), &ring_msg_);
  if (!out || (out->flags & MSG_TRUNC)) {
    ++counters_.rx_invalid;
    return;
  }
  auto* payload = static_cast<uint8_t*>(io_uring_recvmsg_payload(out, &ring_msg_));
  size_t payload_length = io_uring_recvmsg_payload_length(out, static_cast<int>(length), &ring_msg_);
  ProcessDatagram({payload, payload_length}, GroSegmentSize(io_uring_recvmsg_cmsg_firsthdr(out, &ring_msg_)));
}

void TunnelPath::ProcessDatagram(std::span<const uint8_t> data, size_t segment) {
  if (data.empty()) {  // a zero-length datagram: not even an L2TP header
    ++counters_.rx_invalid;
    return;
  }
  if (segment == 0) segment = data.size();
  for (size_t at = 0; at < data.size(); at += segment) {
    ProcessPacket(data.subspan(at, std::min(segment, data.size() - at)));
  }
}

size_t TunnelPath::GroSegmentSize(const cmsghdr* cm) {
  // Only one kind of control message is asked for, so the first is the one.
  if (cm && cm->cmsg_level == IPPROTO_UDP && cm->cmsg_type == kUdpGro &&
      cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
    int size;
    std::memcpy(&size, CMSG_DATA(cm), sizeof size);
    return size > 0 ? static_cast<size_t>(size) : 0;
  }
  return 0;
}

void TunnelPath::FlushTouchedSessions() {
  for (SessionPath* s : ctx_->touched) s->FlushReceived();
  ctx_->touched.clear();
}

void TunnelPath::ProcessPacket(std::span<const uint8_t> packet) {
  if (socket_.receives_ip_header()) {
    auto l2tp_offset = SkipIpv4Header(packet);
    if (!l2tp_offset) {
      ++counters_.rx_invalid;
      return;
    }
    packet = packet.subspan(*l2tp_offset);
  }
  SessionIdDecode id = DecodeSessionId(config_.encap, packet);
  switch (id.result) {
    case SessionIdResult::kShort:
    case SessionIdResult::kBadVersion: ++counters_.rx_invalid; return;
    case SessionIdResult::kControl:
      // Managed tunnels: the control plane's, as the kernel passes them to
      // the socket's owner. Static tunnels have no control connection.
      if (control_ != nullptr) {
        control_->ControlFrame(config_.tunnel_id, packet);
      } else {
        ++counters_.rx_errors;
      }
      return;
    case SessionIdResult::kData: break;
  }
  SessionPath* session = FindSession(id.session_id);
  if (!session) {
    ++counters_.rx_errors;  // unknown session: not ours to deliver
    return;
  }
  if (!handoff_targets_.empty()) {
    const size_t thread = session->ReceivingThread(packet, id.offset, handoff_targets_.size() + 1);
    if (thread > 0 && HandOff(thread, packet, id.offset, id.session_id)) return;
    if (thread == 0 && session->rx_spread()) KeptHere();
  }
  session->Receive(packet, id.offset);
}

}  // namespace l2tp::userspace
