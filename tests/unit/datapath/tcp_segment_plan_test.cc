// TcpSegmentPlan (tcp_segmenter.h): TSO segmentation that rebuilds only the
// headers and leaves each payload in the super-frame. Golden segment
// boundaries, header fields and checksums (computed independently, with a
// plain RFC 1071 implementation outside this code), bounds checks, and
// agreement with the copying SegmentTcp.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "datapath/userspace/checksum.h"
#include "datapath/userspace/tcp_segmenter.h"
#include "tests/unit/datapath/rx_frames.h"

namespace l2tp::userspace {
namespace {

using rx_frames::NaiveChecksum;  // the textbook RFC 1071 sum

void Append(std::vector<uint8_t>& b, std::initializer_list<int> bytes) {
  for (int x : bytes) b.push_back(static_cast<uint8_t>(x));
}
void AppendBe16(std::vector<uint8_t>& b, size_t v) { Append(b, {int(v >> 8 & 0xff), int(v & 0xff)}); }

// A TSO super-frame as a TAP hands it over: one set of headers (IPv4 id
// 0x1234, TCP seq 1000, `doff` 32-bit words of TCP header, NOP options),
// a partial checksum, the payload byte i = i * 7.
struct Tso {
  VirtioNetHdr h;
  std::vector<uint8_t> frame;
  size_t l3 = 0, l4 = 0, headers = 0;
  bool v6 = false;
};

void AppendIp(Tso& t, size_t tcp_length) {
  auto& b = t.frame;
  if (t.v6) {
    Append(b, {0x60, 0, 0, 0});
    AppendBe16(b, tcp_length);
    Append(b, {6, 64});
    for (int side = 1; side <= 2; ++side) {
      for (int i = 0; i < 16; ++i) b.push_back(i == 0 ? 0xfd : i == 15 ? side : 0);
    }
    return;
  }
  Append(b, {0x45, 0});
  AppendBe16(b, 20 + tcp_length);
  Append(b, {0x12, 0x34, 0x40, 0, 64, 6, 0x55, 0x55, 10, 0, 0, 1, 10, 0, 0, 2});
}

Tso MakeTso(bool v6, bool vlan, size_t payload, uint8_t flags, uint16_t mss, size_t doff = 5) {
  Tso t;
  t.v6 = v6;
  auto& b = t.frame;
  Append(b, {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
  if (vlan) Append(b, {0x81, 0x00, 0x00, 0x64});
  AppendBe16(b, v6 ? 0x86dd : 0x0800);
  t.l3 = b.size();
  AppendIp(t, doff * 4 + payload);
  t.l4 = b.size();
  Append(b, {0x30, 0x39,           0,     80,   0,    0,    0x03, 0xe8, 0, 0, 0,
             9,    int(doff << 4), flags, 0xff, 0xff, 0xab, 0xcd, 0,    0});
  b.resize(b.size() + (doff - 5) * 4, 0x01);  // NOP options
  t.headers = b.size();
  for (size_t i = 0; i < payload; ++i) b.push_back(static_cast<uint8_t>(i * 7));
  t.h.flags = VirtioNetHdr::kNeedsCsum;
  t.h.gso_type = v6 ? VirtioNetHdr::kGsoTcpV6 : VirtioNetHdr::kGsoTcpV4;
  t.h.gso_size = mss;
  t.h.csum_start = static_cast<uint16_t>(t.l4);
  t.h.csum_offset = 16;
  t.h.hdr_len = static_cast<uint16_t>(t.headers);
  return t;
}

struct Built {
  TcpSegment s;
  std::vector<uint8_t> headers;
};

std::vector<Built> BuildAll(const TcpSegmentPlan& plan) {
  std::vector<Built> out;
  for (size_t i = 0; i < plan.count(); ++i) {
    Built b;
    b.headers.assign(plan.header_length(), 0xee);
    auto s = plan.Build(i, b.headers);
    EXPECT_TRUE(s.has_value()) << i;
    if (!s) break;
    b.s = *s;
    out.push_back(std::move(b));
  }
  return out;
}

// What each segment should be: payload slice, IP length field (IPv4 total
// length or IPv6 payload length), IPv4 id and header checksum, TCP fields.
struct Golden {
  size_t offset, length;
  uint16_t ip_length, ip_id, ip_checksum;
  uint32_t seq;
  uint8_t flags;
  uint16_t tcp_checksum;
};

void ExpectGolden(const Tso& t, const std::vector<Golden>& want) {
  TcpSegmentPlan plan(t.h, t.frame);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan.count(), want.size());
  EXPECT_EQ(plan.header_length(), t.headers);
  EXPECT_EQ(plan.segment_length(), t.headers + want[0].length);
  auto built = BuildAll(plan);
  ASSERT_EQ(built.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    const Built& b = built[i];
    const Golden& g = want[i];
    EXPECT_EQ(b.s.header_length, t.headers);
    EXPECT_EQ(b.s.payload_offset, g.offset);
    EXPECT_EQ(b.s.payload_length, g.length);
    EXPECT_EQ(plan.length(i), t.headers + g.length);
    // The payload is the super-frame's own bytes, not a copy.
    EXPECT_EQ(plan.payload(b.s).data(), t.frame.data() + g.offset);
    const uint8_t* ip = b.headers.data() + t.l3;
    const uint8_t* tcp = b.headers.data() + t.l4;
    EXPECT_EQ(GetBe16(ip + (t.v6 ? 4 : 2)), g.ip_length);
    if (!t.v6) {
      EXPECT_EQ(GetBe16(ip + 4), g.ip_id);
      EXPECT_EQ(GetBe16(ip + 10), g.ip_checksum);
    }
    EXPECT_EQ(GetBe32At(tcp + 4), g.seq);
    EXPECT_EQ(tcp[13], g.flags);
    EXPECT_EQ(GetBe16(tcp + 16), g.tcp_checksum);
    // Everything else is the super-frame's headers as they were.
    EXPECT_TRUE(std::equal(b.headers.begin(), b.headers.begin() + t.l3, t.frame.begin()));
    EXPECT_TRUE(
        std::equal(b.headers.begin() + t.l4 + 8, b.headers.begin() + t.l4 + 13, t.frame.begin() + t.l4 + 8));
  }
}

TEST(TcpSegmentPlan, GoldenIpv4LastSegmentShorter) {
  // ACK PSH CWR: CWR only on the first segment, PSH only on the last.
  const std::vector<Golden> want = {
      {54, 1000, 1040, 0x1234, 0x10b2, 1000, 0x90, 0x2609},
      {1054, 1000, 1040, 0x1235, 0x10b1, 2000, 0x10, 0x40bf},
      {2054, 500, 540, 0x1236, 0x12a4, 3000, 0x18, 0xda33},
  };
  ExpectGolden(MakeTso(false, false, 2500, 0x98, 1000), want);
}

TEST(TcpSegmentPlan, GoldenIpv6LastSegmentShorter) {
  const std::vector<Golden> want = {
      {74, 1000, 1020, 0, 0, 1000, 0x90, 0x4007},
      {1074, 1000, 1020, 0, 0, 2000, 0x10, 0x5abd},
      {2074, 500, 520, 0, 0, 3000, 0x18, 0xf431},
  };
  ExpectGolden(MakeTso(true, false, 2500, 0x98, 1000), want);
}

TEST(TcpSegmentPlan, GoldenIpv4VlanPayloadNotAMultiple) {
  // ACK PSH FIN behind an 802.1Q tag: FIN and PSH only on the last.
  const std::vector<Golden> want = {
      {58, 1448, 1488, 0x1234, 0x0ef2, 1000, 0x10, 0xd459},
      {1506, 1448, 1488, 0x1235, 0x0ef1, 2448, 0x10, 0xebce},
      {2954, 103, 143, 0x1236, 0x1431, 3896, 0x19, 0xfccd},
  };
  ExpectGolden(MakeTso(false, true, 2999, 0x19, 1448), want);
}

TEST(TcpSegmentPlan, GoldenIpv6VlanTcpOptionsExactMultiple) {
  // 12 bytes of TCP options; 3000 bytes in three full segments.
  const std::vector<Golden> want = {
      {90, 1000, 1032, 0, 0, 1000, 0x10, 0x0a75},
      {1090, 1000, 1032, 0, 0, 2000, 0x10, 0x24ab},
      {2090, 1000, 1032, 0, 0, 3000, 0x10, 0x3ee1},
  };
  ExpectGolden(MakeTso(true, true, 3000, 0x10, 1000, 8), want);
}

// Segment i as one Ethernet frame: the built headers, then the payload.
std::vector<uint8_t> Concatenate(const TcpSegmentPlan& plan, const Built& b) {
  std::vector<uint8_t> f = b.headers;
  auto p = plan.payload(b.s);
  f.insert(f.end(), p.begin(), p.end());
  return f;
}

bool ChecksumsValid(const Tso& t, const std::vector<uint8_t>& seg) {
  const size_t l4_len = seg.size() - t.l4;
  std::vector<uint8_t> all;
  if (t.v6) {
    all.assign(seg.begin() + t.l3 + 8, seg.begin() + t.l3 + 40);
    Append(all, {int(l4_len >> 24), int(l4_len >> 16 & 0xff), int(l4_len >> 8 & 0xff), int(l4_len & 0xff), 0,
                 0, 0, 6});
  } else {
    if (NaiveChecksum({seg.begin() + t.l3, seg.begin() + t.l4}) != 0) return false;
    all.assign(seg.begin() + t.l3 + 12, seg.begin() + t.l3 + 20);
    Append(all, {0, 6});
    AppendBe16(all, l4_len);
  }
  all.insert(all.end(), seg.begin() + t.l4, seg.end());
  return NaiveChecksum(all) == 0;
}

struct Shape {
  bool v6, vlan;
  size_t payload;
  uint16_t mss;
  size_t doff;
};

class SegmentPlanShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(SegmentPlanShapes, HeadersPlusPayloadAreWhatSegmentTcpCopies) {
  const Shape sh = GetParam();
  Tso t = MakeTso(sh.v6, sh.vlan, sh.payload, 0x99 /*CWR ACK PSH FIN*/, sh.mss, sh.doff);
  std::vector<std::vector<uint8_t>> copied;
  size_t n = SegmentTcp(t.h, t.frame, [&](size_t len) {
    copied.emplace_back(len);
    return copied.back().data();
  });
  TcpSegmentPlan plan(t.h, t.frame);
  ASSERT_EQ(plan.count(), n);
  ASSERT_EQ(n, sh.payload == 0 ? 1 : (sh.payload + sh.mss - 1) / sh.mss);
  auto built = BuildAll(plan);
  ASSERT_EQ(built.size(), n);
  size_t next = t.headers;  // the slices tile the payload, in order
  for (size_t i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(built[i].s.payload_offset, next);
    next += built[i].s.payload_length;
    auto joined = Concatenate(plan, built[i]);
    EXPECT_EQ(joined, copied[i]);
    EXPECT_TRUE(ChecksumsValid(t, joined));
  }
  EXPECT_EQ(next, t.frame.size());
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SegmentPlanShapes,
    ::testing::Values(Shape{false, false, 0, 1448, 5}, Shape{true, false, 0, 1448, 5},
                      Shape{false, false, 1, 1448, 5}, Shape{false, false, 1447, 1448, 5},
                      Shape{false, false, 1448, 1448, 5}, Shape{true, false, 1449, 1448, 5},
                      Shape{false, true, 65000, 1448, 8}, Shape{true, true, 64000, 1428, 15},
                      Shape{false, false, 777, 1, 5}, Shape{true, false, 4097, 3, 6},
                      Shape{false, false, 60000, 9000, 5}));

TEST(TcpSegmentPlan, BuildIsBoundsChecked) {
  Tso t = MakeTso(false, false, 2500, 0x10, 1000);
  TcpSegmentPlan plan(t.h, t.frame);
  ASSERT_EQ(plan.count(), 3u);
  std::vector<uint8_t> out(plan.header_length());
  EXPECT_TRUE(plan.Build(2, out).has_value());
  EXPECT_FALSE(plan.Build(3, out).has_value());
  EXPECT_EQ(plan.length(3), 0u);
  std::vector<uint8_t> short_out(plan.header_length() - 1);
  EXPECT_FALSE(plan.Build(0, short_out).has_value());
}

TEST(TcpSegmentPlan, EcnFlagIsAccepted) {
  Tso t = MakeTso(true, false, 2000, 0x10, 1000);
  t.h.gso_type |= VirtioNetHdr::kGsoEcn;
  EXPECT_EQ(TcpSegmentPlan(t.h, t.frame).count(), 2u);
}

// Each case is a TSO request the plan must refuse: nothing built, nothing
// copied by SegmentTcp, no read outside the frame.
TEST(TcpSegmentPlan, RejectsMalformedInput) {
  const Tso good = MakeTso(false, true, 3000, 0x10, 1000);
  std::vector<std::pair<const char*, Tso>> bad;
  auto add = [&](const char* why, auto change) {
    Tso t = good;
    change(t);
    bad.emplace_back(why, t);
  };
  add("not TCP", [](Tso& t) { t.h.gso_type = VirtioNetHdr::kGsoUdpL4; });
  add("no GSO", [](Tso& t) { t.h.gso_type = VirtioNetHdr::kGsoNone; });
  add("zero MSS", [](Tso& t) { t.h.gso_size = 0; });
  add("TCP header past the frame", [](Tso& t) { t.h.csum_start = 60000; });
  add("TCP inside the IP header", [](Tso& t) { t.h.csum_start = static_cast<uint16_t>(t.l3 + 8); });
  add("csum_start disagrees with IHL", [](Tso& t) { t.h.csum_start = static_cast<uint16_t>(t.l4 + 4); });
  add("IPv6 offload on an IPv4 header", [](Tso& t) { t.h.gso_type = VirtioNetHdr::kGsoTcpV6; });
  add("TCP data offset below 5", [](Tso& t) { t.frame[t.l4 + 12] = 0x40; });
  add("TCP options past the frame", [](Tso& t) {
    t.frame[t.l4 + 12] = 0xf0;
    t.frame.resize(t.l4 + 40);
  });
  add("runt", [](Tso& t) { t.frame.resize(13); });
  add("cut inside the TCP header", [](Tso& t) { t.frame.resize(t.l4 + 19); });
  for (const auto& [why, t] : bad) {
    SCOPED_TRACE(why);
    TcpSegmentPlan plan(t.h, t.frame);
    EXPECT_FALSE(plan.ok());
    EXPECT_EQ(plan.count(), 0u);
    EXPECT_EQ(plan.length(0), 0u);
    std::vector<uint8_t> out(256);
    EXPECT_FALSE(plan.Build(0, out).has_value());
    size_t len = 0;
    EXPECT_EQ(TcpSegmentCount(t.h, t.frame, &len), 0u);
    EXPECT_EQ(SegmentTcp(t.h, t.frame,
                         [](size_t) -> uint8_t* {
                           ADD_FAILURE() << "reserve called";
                           return nullptr;
                         }),
              0u);
  }
  EXPECT_TRUE(TcpSegmentPlan(good.h, good.frame).ok());
}

}  // namespace
}  // namespace l2tp::userspace
