// TCP segmentation (TAP TSO -> wire) and coalescing (wire -> TAP GSO), and
// the checksum helpers under them, checked against a naive RFC 1071 sum.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "datapath/userspace/checksum.h"
#include "datapath/userspace/tcp_coalescer.h"
#include "datapath/userspace/tcp_segmenter.h"
#include "tests/unit/datapath/rx_frames.h"

namespace l2tp::userspace {
namespace {

using rx_frames::kEth;
using rx_frames::NaiveChecksum;

// A frame (rx_frames::MakeTcp builds TCP segments with valid checksums) and
// where its TCP header starts.
struct Packet {
  bool v6 = false;
  std::vector<uint8_t> bytes;
  size_t l4() const { return kEth + (v6 ? 40 : 20); }
};

bool TcpChecksumValid(const Packet& p) { return rx_frames::L4ChecksumValid(p.bytes); }

bool Ipv4ChecksumValid(const Packet& p) {
  return NaiveChecksum({p.bytes.begin() + kEth, p.bytes.begin() + kEth + 20}) == 0;
}

std::vector<uint8_t> Payload(size_t n, uint8_t seed = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + seed);
  return v;
}

uint32_t Seq(const Packet& p) { return GetBe32At(&p.bytes[p.l4() + 4]); }

TEST(Checksum, MatchesNaiveSumForAllLengths) {
  // Past 128 bytes the bulk goes through the vector loop (where the CPU has
  // one), 64 bytes at a time, and the rest through the scalar one.
  for (size_t n = 0; n < 600; ++n) {
    auto d = Payload(n, 3);
    EXPECT_EQ(static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(0, d))), NaiveChecksum(d)) << n;
  }
  for (size_t n : {1400u, 1461u, 9000u, 65535u}) {
    auto d = Payload(n, 7);
    EXPECT_EQ(static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(0, d))), NaiveChecksum(d)) << n;
  }
}

TEST(Checksum, HeaderSumIsChecksumAddForHeaders) {
  for (size_t n = 0; n <= 60; n += 4) {
    for (uint8_t seed : {0, 5, 200}) {
      auto d = Payload(n, seed);
      EXPECT_EQ(ChecksumFold(HeaderSum(d.data(), n)), ChecksumFold(ChecksumAdd(0, d))) << n;
    }
    std::vector<uint8_t> ones(n, 0xff);
    EXPECT_EQ(ChecksumFold(HeaderSum(ones.data(), n)), ChecksumFold(ChecksumAdd(0, ones))) << n;
  }
}

TEST(Checksum, CarriesWrapAround) {
  for (size_t n : {1u, 31u, 64u, 65535u}) {
    std::vector<uint8_t> ones(n, 0xff);
    EXPECT_EQ(static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(0, ones))), NaiveChecksum(ones)) << n;
    std::vector<uint8_t> mixed(n);
    for (size_t i = 0; i < n; ++i) mixed[i] = i % 3 ? 0xff : 0x01;
    EXPECT_EQ(static_cast<uint16_t>(~ChecksumFold(ChecksumAdd(0, mixed))), NaiveChecksum(mixed)) << n;
  }
}

// A TSO super-frame as a TAP hands it over: one header, partial checksum.
std::vector<uint8_t> TsoFrame(bool v6, size_t payload, uint8_t flags, VirtioNetHdr* h, uint16_t mss) {
  Packet p{v6, rx_frames::MakeTcp(v6, 1000, Payload(payload), flags)};
  h->flags = VirtioNetHdr::kNeedsCsum;
  h->gso_type = v6 ? VirtioNetHdr::kGsoTcpV6 : VirtioNetHdr::kGsoTcpV4;
  h->gso_size = mss;
  h->csum_start = static_cast<uint16_t>(p.l4());
  h->csum_offset = 16;
  h->hdr_len = static_cast<uint16_t>(p.l4() + 20);
  return p.bytes;
}

class SegmentTest : public ::testing::TestWithParam<bool> {};

TEST_P(SegmentTest, SplitsIntoValidSegments) {
  const bool v6 = GetParam();
  VirtioNetHdr h;
  auto frame = TsoFrame(v6, 2500, 0x10 | 0x08 | 0x80 /*ACK PSH CWR*/, &h, 1000);
  size_t seg_len = 0;
  ASSERT_EQ(TcpSegmentCount(h, frame, &seg_len), 3u);
  std::vector<Packet> out;
  size_t n = SegmentTcp(h, frame, [&](size_t len) {
    out.push_back(Packet{v6, std::vector<uint8_t>(len)});
    return out.back().bytes.data();
  });
  ASSERT_EQ(n, 3u);
  auto all = Payload(2500);
  for (size_t i = 0; i < 3; ++i) {
    const Packet& s = out[i];
    size_t chunk = i < 2 ? 1000 : 500;
    ASSERT_EQ(s.bytes.size(), s.l4() + 20 + chunk);
    if (i < 2) {
      EXPECT_EQ(s.bytes.size(), seg_len);
    }
    EXPECT_TRUE(TcpChecksumValid(s)) << i;
    EXPECT_EQ(Seq(s), 1000 + i * 1000);
    uint8_t flags = s.bytes[s.l4() + 13];
    EXPECT_EQ((flags & 0x08) != 0, i == 2) << "PSH only on the last";
    EXPECT_EQ((flags & 0x80) != 0, i == 0) << "CWR only on the first";
    EXPECT_TRUE(std::equal(s.bytes.begin() + s.l4() + 20, s.bytes.end(), all.begin() + i * 1000));
    if (v6) {
      EXPECT_EQ(GetBe16(&s.bytes[kEth + 4]), 20 + chunk);
    } else {
      EXPECT_EQ(GetBe16(&s.bytes[kEth + 2]), 40 + chunk);
      EXPECT_EQ(GetBe16(&s.bytes[kEth + 4]), 0x1234 + i);
      EXPECT_TRUE(Ipv4ChecksumValid(s));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ipv4AndIpv6, SegmentTest, ::testing::Bool());

TEST(Segment, RejectsMalformedOffloadRequests) {
  VirtioNetHdr h;
  auto frame = TsoFrame(false, 3000, 0x10, &h, 1000);
  auto count = [&](VirtioNetHdr x, const std::vector<uint8_t>& f) {
    size_t len;
    return TcpSegmentCount(x, f, &len);
  };
  VirtioNetHdr zero_mss = h;
  zero_mss.gso_size = 0;
  EXPECT_EQ(count(zero_mss, frame), 0u);
  VirtioNetHdr far = h;
  far.csum_start = 60000;
  EXPECT_EQ(count(far, frame), 0u);
  VirtioNetHdr wrong_l4 = h;
  wrong_l4.csum_start = kEth + 24;  // disagrees with IHL
  EXPECT_EQ(count(wrong_l4, frame), 0u);
  VirtioNetHdr udp = h;
  udp.gso_type = VirtioNetHdr::kGsoUdpL4;
  EXPECT_EQ(count(udp, frame), 0u);
  EXPECT_EQ(count(h, std::vector<uint8_t>(frame.begin(), frame.begin() + 40)), 0u);
  std::vector<uint8_t> bad_offset = frame;
  bad_offset[kEth + 20 + 12] = 0xf0;  // TCP header longer than the frame's headers allow
  bad_offset.resize(kEth + 20 + 40);
  EXPECT_EQ(count(h, bad_offset), 0u);
}

TEST(Checksum, CompletesPartialChecksum) {
  Packet p{false, rx_frames::MakeTcp(false, 5, Payload(333))};
  std::vector<uint8_t> want = p.bytes;
  // What the kernel hands over: the pseudo-header sum in the checksum field.
  size_t l4_len = p.bytes.size() - p.l4();
  uint16_t pseudo = ChecksumFold(PseudoHeaderSum({&p.bytes[kEth + 12], 8}, 6, l4_len));
  PutBe16(&p.bytes[p.l4() + 16], pseudo);
  VirtioNetHdr h;
  h.flags = VirtioNetHdr::kNeedsCsum;
  h.csum_start = static_cast<uint16_t>(p.l4());
  h.csum_offset = 16;
  ASSERT_TRUE(CompletePartialChecksum(h, p.bytes));
  EXPECT_EQ(p.bytes, want);
  h.csum_offset = 60000;
  EXPECT_FALSE(CompletePartialChecksum(h, p.bytes));
}

struct Written {
  VirtioNetHdr h;
  std::vector<uint8_t> frame;
};

class CoalescerTest : public ::testing::Test {
 protected:
  TcpCoalescer c{[this](std::span<const iovec> iov) {
    ASSERT_GE(iov[0].iov_len, VirtioNetHdr::kSize);
    std::vector<uint8_t> all = rx_frames::Flatten(iov);
    out.push_back({VirtioNetHdr::Read(all), {all.begin() + VirtioNetHdr::kSize, all.end()}});
  }};
  std::vector<Written> out;
};

TEST_F(CoalescerTest, MergesARunIntoOneGsoFrame) {
  for (bool v6 : {false, true}) {
    out.clear();
    auto all = Payload(3500);
    for (int i = 0; i < 4; ++i) {
      size_t len = i < 3 ? 1000 : 500;
      std::vector<uint8_t> part(all.begin() + i * 1000, all.begin() + i * 1000 + len);
      c.Add(rx_frames::MakeTcp(v6, 7000 + i * 1000, part, i == 3 ? 0x18 : 0x10, 0x100 + i));
    }
    EXPECT_TRUE(out.empty());
    c.Flush();
    ASSERT_EQ(out.size(), 1u);
    const Written& w = out[0];
    EXPECT_EQ(w.h.gso_type, v6 ? VirtioNetHdr::kGsoTcpV6 : VirtioNetHdr::kGsoTcpV4);
    EXPECT_EQ(w.h.gso_size, 1000);
    EXPECT_EQ(w.h.flags, VirtioNetHdr::kNeedsCsum);
    Packet merged{v6, w.frame};
    EXPECT_EQ(w.h.csum_start, merged.l4());
    EXPECT_EQ(w.h.csum_offset, 16);
    EXPECT_EQ(w.h.hdr_len, merged.l4() + 20);
    ASSERT_EQ(w.frame.size(), merged.l4() + 20 + 3500);
    EXPECT_TRUE(std::equal(all.begin(), all.end(), w.frame.begin() + merged.l4() + 20));
    EXPECT_EQ(Seq(merged), 7000u);
    EXPECT_TRUE(w.frame[merged.l4() + 13] & 0x08);  // PSH carried over
    if (!v6) {
      EXPECT_EQ(GetBe16(&w.frame[kEth + 2]), 40 + 3500);
      EXPECT_TRUE(Ipv4ChecksumValid(merged));
    } else {
      EXPECT_EQ(GetBe16(&w.frame[kEth + 4]), 20 + 3500);
    }
    // Finishing the partial checksum gives a valid (oversized) TCP packet.
    Packet finished = merged;
    CompletePartialChecksum(w.h, finished.bytes);
    EXPECT_TRUE(TcpChecksumValid(finished));
  }
}

TEST_F(CoalescerTest, SingleSegmentIsMarkedVerified) {
  c.Add(rx_frames::MakeTcp(false, 1, Payload(100)));
  c.Flush();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].h.gso_type, VirtioNetHdr::kGsoNone);
  EXPECT_EQ(out[0].h.flags, VirtioNetHdr::kDataValid);
  EXPECT_EQ(out[0].frame, rx_frames::MakeTcp(false, 1, Payload(100)));
}

TEST_F(CoalescerTest, BadChecksumIsPassedThroughUnmerged) {
  c.Add(rx_frames::MakeTcp(false, 0, Payload(1000)));
  auto bad = rx_frames::MakeTcp(false, 1000, Payload(1000));
  bad.back() ^= 1;
  c.Add(bad);
  c.Flush();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].frame, bad);
  EXPECT_EQ(out[1].h.flags, 0);  // the kernel will check, and drop it
}

TEST_F(CoalescerTest, GapOrOtherFlowStartsANewRun) {
  c.Add(rx_frames::MakeTcp(false, 0, Payload(1000)));
  c.Add(rx_frames::MakeTcp(false, 5000, Payload(1000)));  // gap
  c.Add(rx_frames::MakeTcp(true, 6000, Payload(1000)));   // another flow (IPv6)
  c.Flush();
  EXPECT_EQ(out.size(), 3u);
}

TEST_F(CoalescerTest, ShortSegmentOrPshEndsTheRun) {
  c.Add(rx_frames::MakeTcp(false, 0, Payload(1000)));
  c.Add(rx_frames::MakeTcp(false, 1000, Payload(400)));
  c.Add(rx_frames::MakeTcp(false, 1400, Payload(1000)));  // cannot follow a short one
  c.Add(rx_frames::MakeTcp(false, 2400, Payload(1000), 0x18));
  c.Add(rx_frames::MakeTcp(false, 3400, Payload(1000)));  // cannot follow PSH
  c.Flush();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].frame.size(), kEth + 40 + 1400u);
  EXPECT_EQ(out[1].frame.size(), kEth + 40 + 2000u);
  EXPECT_EQ(out[2].frame.size(), kEth + 40 + 1000u);
}

TEST_F(CoalescerTest, NonTcpAndControlSegmentsPassThrough) {
  std::vector<uint8_t> arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
  arp.resize(60);
  c.Add(arp);
  c.Add(rx_frames::MakeTcp(false, 0, Payload(10), 0x02 /*SYN*/));
  c.Add(rx_frames::MakeTcp(false, 0, {}, 0x10));  // pure ACK
  c.Flush();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].frame, arp);
  for (const auto& w : out) EXPECT_EQ(w.h.gso_type, VirtioNetHdr::kGsoNone);
}

TEST_F(CoalescerTest, EthernetPaddingIsNotPayload) {
  auto padded = rx_frames::MakeTcp(false, 0, Payload(4));
  size_t real = padded.size();
  padded.resize(60, 0);
  c.Add(padded);
  c.Add(rx_frames::MakeTcp(false, 4, Payload(4)));
  c.Flush();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].frame.size(), real + 4);
}

TEST_F(CoalescerTest, RunsAreBoundedBySizeAndCount) {
  for (uint32_t i = 0; i < 100; ++i) c.Add(rx_frames::MakeTcp(false, i * 1000, Payload(1000)));
  c.Flush();
  ASSERT_GE(out.size(), 2u);
  size_t total = 0;
  for (const auto& w : out) {
    EXPECT_LE(w.frame.size() - kEth, TcpCoalescer::kMaxIpLength);
    total += w.frame.size() - (kEth + 40);
  }
  EXPECT_EQ(total, 100000u);
}

}  // namespace
}  // namespace l2tp::userspace
