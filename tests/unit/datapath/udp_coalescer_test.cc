// UDP coalescing (wire -> TAP USO frames): merged runs must split back, the
// way the kernel's UDP GSO segmenter splits them, into exactly the datagrams
// that went in; anything that would not is passed through unchanged.
#include "datapath/userspace/udp_coalescer.h"

#include <gtest/gtest.h>

#include <vector>

#include "datapath/userspace/checksum.h"
#include "datapath/userspace/virtio_net_hdr.h"
#include "tests/unit/datapath/rx_frames.h"

namespace l2tp::userspace {
namespace {

using namespace rx_frames;  // NOLINT: test helpers

// What the kernel's GSO_UDP_L4 segmenter makes of a merged frame: copies of
// the headers with lengths, IPv4 ids (first, first+1, ...) and checksums
// redone, each followed by gso_size bytes of payload (the last: the rest).
std::vector<std::vector<uint8_t>> KernelSegments(const VirtioNetHdr& h, const std::vector<uint8_t>& f) {
  std::vector<std::vector<uint8_t>> out;
  size_t hdr = h.hdr_len;
  bool v6 = GetBe16(&f[12]) == 0x86dd;
  uint16_t id = v6 ? 0 : GetBe16(&f[kEth + 4]);
  for (size_t at = hdr; at < f.size(); at += h.gso_size) {
    size_t n = std::min<size_t>(h.gso_size, f.size() - at);
    std::vector<uint8_t> s(f.begin(), f.begin() + hdr);
    s.insert(s.end(), f.begin() + at, f.begin() + at + n);
    size_t l4 = L4(s);
    if (v6) {
      PutBe16(&s[kEth + 4], static_cast<uint16_t>(s.size() - kEth - 40));
    } else {
      PutBe16(&s[kEth + 2], static_cast<uint16_t>(s.size() - kEth));
      PutBe16(&s[kEth + 4], id++);
    }
    PutBe16(&s[l4 + 4], static_cast<uint16_t>(s.size() - l4));
    FixChecksums(s);
    out.push_back(s);
  }
  return out;
}

struct Written {
  VirtioNetHdr h;
  std::vector<uint8_t> frame;
};

class UdpCoalescerTest : public ::testing::Test {
 protected:
  UdpCoalescer c{[this](std::span<const iovec> iov) {
    ASSERT_GE(iov[0].iov_len, VirtioNetHdr::kSize);
    std::vector<uint8_t> all = Flatten(iov);
    out.push_back({VirtioNetHdr::Read(all), {all.begin() + VirtioNetHdr::kSize, all.end()}});
  }};
  std::vector<Written> out;
};

TEST_F(UdpCoalescerTest, RunSplitsBackIntoTheSameDatagrams) {
  for (bool v6 : {false, true}) {
    for (size_t size : {18u, 1000u}) {
      out.clear();
      std::vector<std::vector<uint8_t>> in;
      for (int i = 0; i < 10; ++i) {
        in.push_back(MakeUdp(v6, Payload(i < 9 ? size : size / 2, uint8_t(i)), uint16_t(0xfffb + i)));
        c.Add(in.back());
      }
      EXPECT_TRUE(out.empty());
      c.Flush();
      ASSERT_EQ(out.size(), 1u);
      const Written& w = out[0];
      EXPECT_EQ(w.h.gso_type, VirtioNetHdr::kGsoUdpL4);
      EXPECT_EQ(w.h.flags, VirtioNetHdr::kNeedsCsum);
      EXPECT_EQ(w.h.gso_size, size);
      EXPECT_EQ(w.h.csum_start, L4(w.frame));
      EXPECT_EQ(w.h.csum_offset, 6);
      EXPECT_EQ(w.h.hdr_len, L4(w.frame) + 8);
      if (!v6) {
        EXPECT_EQ(NaiveChecksum({w.frame.begin() + kEth, w.frame.begin() + kEth + 20}), 0);
        EXPECT_EQ(GetBe16(&w.frame[kEth + 2]), w.frame.size() - kEth);
      }
      // The partial checksum is the pseudo-header sum over the whole length.
      size_t l4 = L4(w.frame);
      std::vector<uint8_t> ph = Pseudo(w.frame, w.frame.size() - l4);
      EXPECT_EQ(GetBe16(&w.frame[l4 + 6]), static_cast<uint16_t>(~NaiveChecksum(ph)));
      EXPECT_EQ(KernelSegments(w.h, w.frame), in) << "v6=" << v6 << " size=" << size;
    }
  }
}

TEST_F(UdpCoalescerTest, PointedToOrVerifiedBeforeSplitsBackAlike) {
  for (FrameInfo info : {FrameInfo{.stable = true}, FrameInfo{.verified = true},
                         FrameInfo{.stable = true, .verified = true}}) {
    out.clear();
    std::vector<std::vector<uint8_t>> in;
    for (int i = 0; i < 7; ++i) in.push_back(MakeUdp(true, Payload(i < 6 ? 500 : 3, uint8_t(i)), 0));
    for (const auto& d : in) EXPECT_EQ(c.Add(d, info), info.stable);
    c.Flush();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(KernelSegments(out[0].h, out[0].frame), in);
  }
}

TEST_F(UdpCoalescerTest, SingleDatagramIsMarkedVerified) {
  auto d = MakeUdp(false, Payload(18, 1), 7);
  c.Add(d);
  c.Flush();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].h.gso_type, VirtioNetHdr::kGsoNone);
  EXPECT_EQ(out[0].h.flags, VirtioNetHdr::kDataValid);
  EXPECT_EQ(out[0].frame, d);
}

TEST_F(UdpCoalescerTest, WhatTheSegmenterWouldNotRecreateIsNotMerged) {
  auto bad = MakeUdp(false, Payload(100, 2), 2);
  bad.back() ^= 1;  // bad checksum
  auto nocsum = MakeUdp(false, Payload(100, 3), 3);
  nocsum[kEth + 20 + 6] = nocsum[kEth + 20 + 7] = 0;  // IPv4: no checksum
  auto frag = MakeUdp(false, Payload(100, 4), 4);
  frag[kEth + 6] = 0x20;  // MF
  FixChecksums(frag);
  c.Add(MakeUdp(false, Payload(100, 1), 1));
  c.Add(bad);
  c.Add(nocsum);
  c.Add(frag);
  c.Flush();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].frame, bad);
  EXPECT_EQ(out[1].h.flags, 0);  // the kernel checks it, and drops it
  EXPECT_EQ(out[2].frame, nocsum);
  EXPECT_EQ(out[3].frame, frag);
  for (const auto& w : out) EXPECT_EQ(w.h.gso_type, VirtioNetHdr::kGsoNone);
}

TEST_F(UdpCoalescerTest, IdGapOtherFlowOrBiggerDatagramStartsANewRun) {
  c.Add(MakeUdp(false, Payload(100, 1), 10));
  c.Add(MakeUdp(false, Payload(100, 2), 11));
  c.Add(MakeUdp(false, Payload(100, 3), 13));        // id gap
  c.Add(MakeUdp(false, Payload(100, 4), 14, 5202));  // other port
  c.Add(MakeUdp(false, Payload(200, 5), 15, 5202));  // bigger
  c.Add(MakeUdp(false, Payload(50, 6), 16, 5202));   // shorter: ends the run
  c.Add(MakeUdp(false, Payload(50, 7), 17, 5202));   // cannot follow a short one
  c.Flush();
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].h.gso_type, VirtioNetHdr::kGsoUdpL4);
  EXPECT_EQ(out[0].frame.size(), kEth + 20 + 8 + 200u);
  EXPECT_EQ(out[1].frame.size(), kEth + 20 + 8 + 100u);
  EXPECT_EQ(out[2].frame.size(), kEth + 20 + 8 + 100u);
  EXPECT_EQ(out[3].h.gso_type, VirtioNetHdr::kGsoUdpL4);
  EXPECT_EQ(out[3].frame.size(), kEth + 20 + 8 + 250u);
  EXPECT_EQ(out[4].frame.size(), kEth + 20 + 8 + 50u);
}

TEST_F(UdpCoalescerTest, StopsAtTheSegmentLimit) {
  for (size_t i = 0; i < UdpCoalescer::kMaxSegments + 1; ++i) {
    c.Add(MakeUdp(true, Payload(18, uint8_t(i)), 0));
  }
  c.Flush();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].frame.size(), kEth + 40 + 8 + 18 * UdpCoalescer::kMaxSegments);
}

TEST_F(UdpCoalescerTest, PaddingIsDroppedAndOnlyUdpIsTaken) {
  auto small = MakeUdp(false, Payload(4, 1), 1);
  size_t real = small.size();
  small.resize(60, 0);
  EXPECT_TRUE(UdpCoalescer::IsUdp(small));
  c.Add(small);
  c.Flush();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].frame.size(), real);
  std::vector<uint8_t> arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
  arp.resize(60);
  EXPECT_FALSE(UdpCoalescer::IsUdp(arp));
}

}  // namespace
}  // namespace l2tp::userspace
