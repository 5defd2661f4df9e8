// ChecksumCopy (checksum.h): the copy must be exact and touch nothing else,
// and the sum must be ChecksumAdd's, for every length and alignment of
// source and destination that reaches each of its loops (AVX2 from 128
// bytes where the CPU has it, then 32-, 8-byte words and the tail).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "datapath/userspace/checksum.h"

namespace l2tp::userspace {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  return v;
}

// Copies src[src_off, src_off + n) to dst at dst_off with guard bytes
// around, checks bytes and sum against memcpy and ChecksumAdd.
void CheckOne(const std::vector<uint8_t>& src, size_t src_off, size_t n, size_t dst_off, uint64_t start) {
  constexpr uint8_t kGuard = 0xa5;
  std::vector<uint8_t> dst(dst_off + n + 16, kGuard);
  std::span<const uint8_t> in(src.data() + src_off, n);
  uint64_t got = ChecksumCopy(start, dst.data() + dst_off, in);
  uint64_t want = ChecksumAdd(start, in);
  ASSERT_EQ(ChecksumFold(got), ChecksumFold(want)) << "n=" << n << " src+" << src_off << " dst+" << dst_off;
  ASSERT_TRUE(std::equal(in.begin(), in.end(), dst.begin() + static_cast<ptrdiff_t>(dst_off))) << "n=" << n;
  for (size_t i = 0; i < dst_off; ++i) ASSERT_EQ(dst[i], kGuard) << "before, n=" << n;
  for (size_t i = dst_off + n; i < dst.size(); ++i) ASSERT_EQ(dst[i], kGuard) << "after, n=" << n;
}

TEST(ChecksumCopy, MatchesChecksumAddForAllLengthsAndAlignments) {
  auto src = Bytes(300 + 8, 1);
  for (size_t n = 0; n <= 300; ++n) {
    for (size_t src_off = 0; src_off < 8; ++src_off) {
      for (size_t dst_off = 0; dst_off < 8; ++dst_off) CheckOne(src, src_off, n, dst_off, 0);
    }
  }
}

TEST(ChecksumCopy, LargeCopiesAndARunningSum) {
  for (size_t n : {1400u, 1500u, 8999u, 9000u, 65535u}) {
    auto src = Bytes(n + 3, static_cast<uint32_t>(n));
    for (size_t off : {0u, 1u, 3u}) CheckOne(src, off, n, 3 - off, 0x1234567);
  }
}

TEST(ChecksumCopy, CarriesWrapAround) {
  for (size_t n : {7u, 64u, 128u, 255u, 4096u, 65535u}) {
    std::vector<uint8_t> ones(n, 0xff);
    CheckOne(ones, 0, n, 1, 0);
    CheckOne(ones, 0, n, 0, 0xffffffffffffull);
  }
}

}  // namespace
}  // namespace l2tp::userspace
