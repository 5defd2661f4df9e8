#include "datapath/userspace/checksum.h"

#include <cstring>

namespace l2tp::userspace {

uint64_t ChecksumAdd(uint64_t sum, std::span<const uint8_t> data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  // 32-bit big-endian words into a 64-bit accumulator: no carries lost.
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w = __builtin_bswap64(w);
    sum += (w >> 32) + (w & 0xffffffff);
    p += 8;
    n -= 8;
  }
  while (n >= 2) {
    sum += uint32_t(p[0] << 8 | p[1]);
    p += 2;
    n -= 2;
  }
  if (n) sum += uint32_t(p[0] << 8);
  return sum;
}

uint16_t ChecksumFold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint64_t PseudoHeaderSum(std::span<const uint8_t> addresses, uint8_t protocol, uint32_t length) {
  return ChecksumAdd(0, addresses) + protocol + (length >> 16) + (length & 0xffff);
}

}  // namespace l2tp::userspace
