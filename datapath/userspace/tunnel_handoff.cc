// Receive spreading: a tunnel's datagrams all arrive on its one socket, on
// its own thread; the flows of a spread session are written to the TAP from
// every I/O thread. In order:
//
//   1. ProcessPacket (tunnel_path.cc) asks the session which thread a packet
//      belongs to (SessionPath::ReceivingThread: by the hash of its inner
//      flow, so one flow always goes one way and stays in order; sequenced
//      packets and those of sessions that are not spread stay here).
//   2. HandOff sets a packet for thread k aside in outbox k. A packet of
//      kCopyBelow bytes or more stays in the ring buffer it was received
//      into: the buffer is held, once per outbox, so it does not go back to
//      the kernel. Smaller ones are copied (the receiving side would copy
//      them anyway, see SessionPath::Deliver), and so is every packet while
//      a quarter of the ring is held for other threads: without GRO each
//      packet has a buffer of its own, and the ring must not run dry.
//   3. PostHandoffs, at the end of the batch (the loop's after-batch hook),
//      posts each outbox to its thread (IoLoop::Post: one wake-up per batch,
//      not per packet). Unless only one thread's share was set aside, no
//      spread packet stayed here (KeptHere) and nothing handed over before
//      is still on its way: then there is nothing to do in parallel, and
//      this thread receives them itself (ReceiveHere), so that a single
//      busy flow pays no wake-ups.
//   4. TakeHandedOff, on that thread, gives each packet to the replica
//      session there, which checks and coalesces it as the tunnel's own
//      would, writes what it coalesced to its queue of the TAP, and posts
//      the buffers back to the first thread, which recycles them.
//
// A flow's packets stay in order: within a batch they all take the same
// way, copied or not, and they are received here again only once every
// earlier handover is done (LoopContext::handoffs_in_flight). Only in
// io_uring mode: epoll mode receives into slots it reuses after every round.
#include <cstring>
#include <utility>
#include <vector>

#include "datapath/userspace/loop_context.h"
#include "datapath/userspace/session_path.h"
#include "datapath/userspace/tunnel_path.h"

namespace l2tp::userspace {
namespace {
constexpr size_t kCopyBelow = 512;

// Ring buffers held for an outbox go back through the loop's ring (a
// tunnel's uring_ is gone if it fell back to epoll since).
void GiveBackHeld(LoopContext* ctx, const std::vector<int>& buffers) {
  for (int id : buffers) ctx->loop.uring()->Recycle(id);
  ctx->handoff_holds -= buffers.size();
}

}  // namespace

void TunnelPath::SetHandoffTargets(std::vector<HandoffTarget> targets) {
  PostHandoffs();
  handoff_targets_ = std::move(targets);
  outboxes_.assign(handoff_targets_.size(), Outbox{});
}

void TunnelPath::AcceptHandoffs() {
  ctx_->receivers[serial_] = this;
  accepts_handoffs_ = true;
}

void TunnelPath::KeptHere() {
  spread_kept_here_ = true;
  if (!handoff_listed_) {
    handoff_listed_ = true;
    ctx_->handoff_pending.push_back(this);
  }
}

bool TunnelPath::HandOff(size_t thread, std::span<const uint8_t> packet, size_t offset, uint32_t session_id) {
  if (rx_buffer_ < 0 || uring_ == nullptr) return false;
  Outbox& out = outboxes_[thread - 1];
  HandedPacket p{packet.data(), static_cast<uint32_t>(packet.size()), static_cast<uint32_t>(offset),
                 session_id, 0};
  const bool held = !out.buffers.empty() && out.buffers.back() == rx_buffer_;
  if (!held && (packet.size() < kCopyBelow || ctx_->handoff_holds >= uring_->buffers().count / 4)) {
    p.data = nullptr;
    p.copy_at = static_cast<uint32_t>(out.copies.size());
    out.copies.insert(out.copies.end(), packet.begin(), packet.end());
  } else if (!held) {
    uring_->Hold(rx_buffer_);
    ++ctx_->handoff_holds;
    out.buffers.push_back(rx_buffer_);
  }
  out.packets.push_back(p);
  if (!handoff_listed_) {
    handoff_listed_ = true;
    ctx_->handoff_pending.push_back(this);
  }
  return true;
}

void TunnelPath::PostHandoffs() {
  if (handoff_listed_) std::erase(ctx_->handoff_pending, this);
  handoff_listed_ = false;
  size_t busy = 0;
  for (const Outbox& out : outboxes_) busy += out.packets.empty() ? 0 : 1;
  // One thread's share and nothing else: handing it over would only add a
  // wake-up to its way (a single busy flow lost a third of its throughput
  // to that). Safe for its order only once nothing handed over earlier is
  // still on its way.
  const bool here = busy == 1 && !spread_kept_here_ && ctx_->handoffs_in_flight == 0;
  spread_kept_here_ = false;
  for (size_t k = 0; k < outboxes_.size(); ++k) {
    Outbox& out = outboxes_[k];
    if (out.packets.empty()) continue;
    if (here) {
      ReceiveHere(out);
    } else {
      const HandoffTarget target = handoff_targets_[k];
      ++ctx_->handoffs_in_flight;
      target.ctx->loop.Post([target, from = ctx_, out = std::move(out)]() mutable {
        TakeHandedOff(target.ctx, target.serial, std::move(out), from);
      });
    }
    out = Outbox{};
  }
}

void TunnelPath::ReceiveOutbox(const Outbox& out) {
  for (const HandedPacket& p : out.packets) {
    if (SessionPath* session = FindSession(p.session_id)) {
      session->Receive({p.data ? p.data : out.copies.data() + p.copy_at, p.length}, p.offset);
    } else {
      ++counters_.rx_errors;  // removed since it was set aside
    }
  }
  // The coalescers point into the packets: written before they go back.
  FlushTouchedSessions();
}

void TunnelPath::ReceiveHere(Outbox& out) {
  ReceiveOutbox(out);
  GiveBackHeld(ctx_, out.buffers);
}

void TunnelPath::TakeHandedOff(LoopContext* ctx, uint64_t serial, Outbox out, LoopContext* from) {
  // The replica is gone when its tunnel is being deleted: the packets go too.
  if (auto it = ctx->receivers.find(serial); it != ctx->receivers.end()) it->second->ReceiveOutbox(out);
  from->loop.Post([from, buffers = std::move(out.buffers)] {
    GiveBackHeld(from, buffers);
    --from->handoffs_in_flight;
  });
}

}  // namespace l2tp::userspace
