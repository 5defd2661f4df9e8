#include "datapath/userspace/tap_steering.h"

#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#ifndef TUNSETSTEERINGEBPF
#define TUNSETSTEERINGEBPF _IOR('T', 224, int)
#endif

namespace l2tp::userspace {
namespace {

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}
// r0 = the packet's 16/32-bit word at `offset` (network order turned into
// host order); a packet too short ends the program, which then returns 0.
bpf_insn LoadAbs(uint8_t size, int32_t offset) { return Insn(BPF_LD | BPF_ABS | size, 0, 0, 0, offset); }
// r7 = (r7 ^ r0) * a 32-bit golden-ratio constant: every word read moves
// the high half of r7 (a plain XOR would let ports cancel addresses out).
void MixWord(std::vector<bpf_insn>& p) {
  p.push_back(Insn(BPF_ALU64 | BPF_XOR | BPF_X, 7, 0, 0, 0));
  p.push_back(Insn(BPF_ALU64 | BPF_MUL | BPF_K, 7, 0, 0, static_cast<int32_t>(0x9E3779B1u)));
}

// The program (the tun driver takes its return value modulo the number of
// queues):
//   IPv4 or IPv6 carrying TCP, UDP, SCTP or UDP-Lite:
//     skb->hash, where the sending socket set one, else
//     IPv4: saddr, daddr and the 4 bytes after a 20-byte header (the ports),
//     IPv6: the eight address words and the 4 bytes after the 40-byte header,
//     mixed (MixWord), the high 32 bits returned
//   anything else (ICMP, ARP, neighbour discovery, ...): 0, the first queue,
//     which the tunnel's own thread reads: the thread that received the
//     request an ICMP echo reply answers is awake already, and no other
//     thread needs waking for it (one wake-up less per ping).
std::vector<bpf_insn> Program() {
  std::vector<bpf_insn> p;
  std::vector<std::pair<size_t, size_t*>> jumps;  // (instruction, its target) to patch
  size_t v4 = 0, v4_ports = 0, v6_ports = 0, fold = 0, exit = 0;
  // Jumps to `target` when r0 is a protocol with ports; falls through if not.
  auto if_ports = [&](size_t* target) {
    for (int32_t protocol : {6, 17, 132, 136}) {
      jumps.emplace_back(p.size(), target);
      p.push_back(Insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0, protocol));
    }
  };
  auto jump_to = [&](uint8_t code, int32_t imm, size_t* target) {
    jumps.emplace_back(p.size(), target);
    p.push_back(Insn(BPF_JMP | code, 0, 0, 0, imm));
  };
  // skb->hash where set: straight out with it.
  auto socket_hash = [&] {
    p.push_back(Insn(BPF_LDX | BPF_MEM | BPF_W, 0, 6, offsetof(__sk_buff, hash), 0));
    jump_to(BPF_JNE | BPF_K, 0, &exit);
  };
  p.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0));  // r6 = ctx (for LD_ABS)
  p.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_K, 7, 0, 0, 0));  // r7 = 0
  p.push_back(LoadAbs(BPF_H, 12));                             // EtherType (no VLAN tag)
  jump_to(BPF_JEQ | BPF_K, 0x0800, &v4);
  jump_to(BPF_JNE | BPF_K, 0x86dd, &fold);  // not IP: r7 = 0
  p.push_back(LoadAbs(BPF_B, 14 + 6));      // IPv6 next header
  if_ports(&v6_ports);
  jump_to(BPF_JA, 0, &fold);
  v6_ports = p.size();
  socket_hash();
  for (int32_t off = 22; off <= 54; off += 4) {  // addresses, then ports
    p.push_back(LoadAbs(BPF_W, off));
    MixWord(p);
  }
  jump_to(BPF_JA, 0, &fold);
  v4 = p.size();
  p.push_back(LoadAbs(BPF_B, 14 + 9));  // IPv4 protocol
  if_ports(&v4_ports);
  jump_to(BPF_JA, 0, &fold);
  v4_ports = p.size();
  socket_hash();
  for (int32_t off : {26, 30, 34}) {
    p.push_back(LoadAbs(BPF_W, off));
    MixWord(p);
  }
  fold = p.size();
  p.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 7, 0, 0));
  p.push_back(Insn(BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 32));
  exit = p.size();
  p.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  for (const auto& [from, to] : jumps) p[from].off = static_cast<int16_t>(*to - from - 1);
  return p;
}

}  // namespace

absl::StatusOr<int> LoadFlowSteeringProgram() {
  const std::vector<bpf_insn> insns = Program();
  static const char kLicense[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = reinterpret_cast<uintptr_t>(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = reinterpret_cast<uintptr_t>(kLicense);
  const int fd = static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
  if (fd < 0) return absl::ErrnoToStatus(errno, "loading the TAP steering program (bpf BPF_PROG_LOAD)");
  return fd;
}

absl::Status AttachSteeringProgram(int tap_fd, int program) {
  if (ioctl(tap_fd, TUNSETSTEERINGEBPF, &program) < 0) {
    return absl::ErrnoToStatus(errno, "attaching the TAP steering program (TUNSETSTEERINGEBPF)");
  }
  return absl::OkStatus();
}

}  // namespace l2tp::userspace
