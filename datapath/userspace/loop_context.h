// What the tunnels and sessions of one I/O thread share: the loop, the batch
// buffers (one thread uses them, one batch at a time) and the reorder timer.
#pragma once

#include <vector>

#include "datapath/userspace/io_loop.h"
#include "datapath/userspace/packet_batch.h"
#include "datapath/userspace/reorder_timer.h"
#include "datapath/userspace/sequencer.h"

namespace l2tp::userspace {

class SessionPath;

struct LoopContext {
  IoLoop loop;
  PacketBatch rx;
  PacketBatch tx;
  PacketBatch segments;        // TSO output, one segment per message
  std::vector<uint8_t> gso{};  // TSO output as one UDP GSO send
  ReorderTimer timer;
  Sequencer::Clock clock = [] { return std::chrono::steady_clock::now(); };
  size_t tunnel_count = 0;  // control plane's load-balancing hint
  // Sessions that took frames in the current receive batch (to flush).
  std::vector<SessionPath*> touched;
  // Sessions holding frames read from their TAP (io_uring mode), to send.
  std::vector<SessionPath*> tx_pending;
};

}  // namespace l2tp::userspace
