// Which queue of a multi-queue TAP a frame the kernel transmits lands on.
// Without a steering program the tun driver sends each flow to the queue
// that last wrote a frame of that flow (its flow table), and the receive half
// of every session writes from one thread: every TCP flow would come back to
// that thread's queue. The program loaded here picks the queue of a TCP,
// UDP or SCTP frame from its flow hash instead (skb->hash, set by the sending
// socket; else a hash of the IPv4/IPv6 addresses and the ports, mixed), so
// different flows of one session go to different queues and threads; every
// other frame (ICMP, ARP, neighbour discovery) goes to the first queue, the
// tunnel's own thread's.
#pragma once

#include "absl/status/statusor.h"

namespace l2tp::userspace {

// Loads the steering program (BPF_PROG_TYPE_SOCKET_FILTER; needs CAP_BPF or
// CAP_SYS_ADMIN). Returns its fd; the caller closes it once attached.
absl::StatusOr<int> LoadFlowSteeringProgram();

// Attaches `program` to the TAP behind `tap_fd` (TUNSETSTEERINGEBPF; the
// device keeps its own reference).
absl::Status AttachSteeringProgram(int tap_fd, int program);

}  // namespace l2tp::userspace
