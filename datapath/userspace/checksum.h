// Internet checksum (RFC 1071) helpers for the offload paths: completing the
// partial checksums a TAP hands over, segmenting TCP, coalescing TCP and UDP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace l2tp::userspace {

// Ones'-complement sum of `data` added to `sum` (not folded, not inverted).
uint64_t ChecksumAdd(uint64_t sum, std::span<const uint8_t> data);
// ChecksumAdd(sum, src), copying `src` to `dst` (which must not overlap it)
// on the way: where bytes are copied anyway, one pass over them instead of
// two. AVX2 where the CPU has it, as ChecksumAdd.
uint64_t ChecksumCopy(uint64_t sum, uint8_t* dst, std::span<const uint8_t> src);
// Folds a sum to 16 bits (not inverted).
uint16_t ChecksumFold(uint64_t sum);
// ChecksumAdd(0, {p, n}) for a header: `n` a multiple of 4, at most 60
// (an IPv4 header, the pseudo-header's addresses). Inline, because at these
// sizes the call and the general loop cost more than the sum; the TCP paths
// take several per segment.
inline uint64_t HeaderSum(const uint8_t* p, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i += 4) {
    uint32_t w;
    std::memcpy(&w, p + i, 4);
    s += w;
  }
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return __builtin_bswap16(static_cast<uint16_t>(s));  // native words: swap as ChecksumAdd does
}

// TCP/UDP pseudo-header sum for IPv4 (`addresses` = saddr+daddr, 8 bytes) or
// IPv6 (32 bytes).
inline uint64_t PseudoHeaderSum(std::span<const uint8_t> addresses, uint8_t protocol, uint32_t length) {
  return HeaderSum(addresses.data(), addresses.size()) + protocol + (length >> 16) + (length & 0xffff);
}

inline void PutBe16(uint8_t* p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

// Gives the IP header at `ip` (IPv4 without options, or IPv6 without
// extension headers) a new packet length `ip_len`, IPv4's header checksum
// recomputed: what a coalescer does to the first header of a merged run.
void SetIpPacketLength(uint8_t* ip, bool v6, size_t ip_len);
inline uint16_t GetBe16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline void PutBe32At(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}
inline uint32_t GetBe32At(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

}  // namespace l2tp::userspace
