#include "datapath/userspace/checksum.h"

#include <cstring>

namespace l2tp::userspace {

namespace {

// 64-bit ones'-complement addition: the carry wraps around.
inline uint64_t AddWithCarry(uint64_t a, uint64_t b) {
  uint64_t r = a + b;
  return r + (r < b);
}

}  // namespace

uint64_t ChecksumAdd(uint64_t sum, std::span<const uint8_t> data) {
  // The ones'-complement sum does not care about byte order: add native
  // 64-bit words (fast) and swap the folded result to network order.
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "written for little-endian hosts");
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t a = 0, b = 0;  // two chains keep the adder busy
  while (n >= 32) {
    uint64_t w[4];
    std::memcpy(w, p, 32);
    a = AddWithCarry(a, w[0]);
    b = AddWithCarry(b, w[1]);
    a = AddWithCarry(a, w[2]);
    b = AddWithCarry(b, w[3]);
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    a = AddWithCarry(a, w);
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;  // zero padding, as the checksum pads an odd byte
  if (n) std::memcpy(&tail, p, n);
  a = AddWithCarry(AddWithCarry(a, b), tail);
  uint64_t folded = (a & 0xffffffff) + (a >> 32);
  folded = (folded & 0xffff) + (folded >> 16);
  folded = (folded & 0xffff) + (folded >> 16);
  folded = (folded & 0xffff) + (folded >> 16);
  return sum + __builtin_bswap16(static_cast<uint16_t>(folded));
}

uint16_t ChecksumFold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint64_t PseudoHeaderSum(std::span<const uint8_t> addresses, uint8_t protocol, uint32_t length) {
  return ChecksumAdd(0, addresses) + protocol + (length >> 16) + (length & 0xffff);
}

void SetIpPacketLength(uint8_t* ip, bool v6, size_t ip_len) {
  if (v6) {
    PutBe16(ip + 4, static_cast<uint16_t>(ip_len - 40));
    return;
  }
  PutBe16(ip + 2, static_cast<uint16_t>(ip_len));
  PutBe16(ip + 10, 0);
  PutBe16(ip + 10, static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(0, {ip, 20}))));
}

}  // namespace l2tp::userspace
