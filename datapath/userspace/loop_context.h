// What the tunnels and sessions of one I/O thread share: the loop, the batch
// buffers (one thread uses them, one batch at a time) and the reorder timer.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "datapath/userspace/io_loop.h"
#include "datapath/userspace/packet_batch.h"
#include "datapath/userspace/reorder_timer.h"
#include "datapath/userspace/sequencer.h"

namespace l2tp::userspace {

class SessionPath;
class TunnelPath;

struct LoopContext {
  IoLoop loop;
  PacketBatch rx;
  PacketBatch tx;
  // TSO output: per segment its rebuilt headers, its payload left in the
  // frame read from the TAP; sent as one UDP GSO send or with sendmmsg.
  GatherBatch segments;
  ReorderTimer timer;
  Sequencer::Clock clock = [] { return std::chrono::steady_clock::now(); };
  size_t tunnel_count = 0;  // control plane's load-balancing hint
  // Sessions that took frames in the current receive batch (to flush).
  std::vector<SessionPath*> touched;
  // Sessions holding frames read from their TAP (io_uring mode), to send.
  std::vector<SessionPath*> tx_pending;
  // Receive spreading (tunnel_handoff.cc). The replica tunnel paths on this
  // thread that take packets other threads hand over, by serial.
  std::unordered_map<uint64_t, TunnelPath*> receivers;
  // Tunnels with packets set aside for other threads, posted at the end of
  // the batch.
  std::vector<TunnelPath*> handoff_pending;
  // This ring's buffers held for packets other threads have not given back.
  size_t handoff_holds = 0;
  // Outboxes posted to other threads and not yet done with.
  size_t handoffs_in_flight = 0;
};

}  // namespace l2tp::userspace
