// The receive-side coalescers' TAP writes as iovecs (coalesced_frame.h): the
// bytes must be exactly the super-frame of the run (SuperFrame, rx_frames.h),
// the payload must be pointed to where it was received when the caller says
// it stays valid (and copied when not: the caller may free it at once), and
// the virtio-net flags must say what was verified, by the coalescer or before
// it (FrameInfo::verified), and nothing else. TCP and UDP alike, every case
// with stable and copied frames, verified and not.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <tuple>
#include <vector>

#include "datapath/userspace/coalesced_frame.h"
#include "datapath/userspace/tcp_coalescer.h"
#include "datapath/userspace/udp_coalescer.h"
#include "datapath/userspace/virtio_net_hdr.h"
#include "tests/unit/datapath/rx_frames.h"

namespace l2tp::userspace {
namespace {

using namespace rx_frames;  // NOLINT: test helpers

struct Written {
  VirtioNetHdr h;
  std::vector<uint8_t> frame;  // the iovecs after the virtio-net header, concatenated
  size_t iovecs = 0;
  size_t first_iov = 0;         // bytes of the first iovec (virtio-net header + headers)
  size_t pieces_in_inputs = 0;  // payload iovecs pointing into the frames handed in
};

// Frames handed in, kept where the test says they stay valid; a copied
// ("transient") frame is scribbled over right after Add, as freed storage
// would be.
class Inputs {
 public:
  std::span<const uint8_t> Keep(std::vector<uint8_t> f) {
    kept_.push_back(std::make_unique<std::vector<uint8_t>>(std::move(f)));
    return *kept_.back();
  }
  bool Contains(const iovec& v) const {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    for (const auto& k : kept_) {
      if (p >= k->data() && p + v.iov_len <= k->data() + k->size()) return true;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<std::vector<uint8_t>>> kept_;
};

template <typename Coalescer>
class Harness {
 public:
  Harness() : c_([this](std::span<const iovec> iov) { Record(iov); }) {}

  // Hands `f` to the coalescer as stable (kept alive) or not (scribbled over
  // once Add returns); returns what Add said about borrowing.
  bool Add(const std::vector<uint8_t>& f, FrameInfo info) {
    if (info.stable) return c_.Add(inputs_.Keep(f), info);
    std::vector<uint8_t> scratch = f;
    bool borrowed = c_.Add(scratch, info);
    std::fill(scratch.begin(), scratch.end(), 0xee);
    return borrowed;
  }
  void Flush() { c_.Flush(); }
  std::vector<Written> out;

 private:
  void Record(std::span<const iovec> iov) {
    Written w;
    w.iovecs = iov.size();
    w.first_iov = iov[0].iov_len;
    EXPECT_GE(iov[0].iov_len, VirtioNetHdr::kSize);
    EXPECT_LE(iov.size(), Coalescer::kMaxIovecs);
    std::vector<uint8_t> all = Flatten(iov);
    for (size_t i = 1; i < iov.size(); ++i) {
      if (inputs_.Contains(iov[i])) ++w.pieces_in_inputs;
    }
    w.h = VirtioNetHdr::Read(all);
    w.frame.assign(all.begin() + VirtioNetHdr::kSize, all.end());
    out.push_back(std::move(w));
  }

  Inputs inputs_;
  Coalescer c_;
};

// (stable, verified, v6)
using Case = std::tuple<bool, bool, bool>;
std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  auto [stable, verified, v6] = info.param;
  return std::string(stable ? "stable" : "copied") + (verified ? "_verified" : "_unverified") +
         (v6 ? "_v6" : "_v4");
}

class TcpIovecTest : public ::testing::TestWithParam<Case> {
 protected:
  bool stable() const { return std::get<0>(GetParam()); }
  bool verified() const { return std::get<1>(GetParam()); }
  bool v6() const { return std::get<2>(GetParam()); }
  FrameInfo info() const { return {.stable = stable(), .verified = verified()}; }
  std::vector<uint8_t> Tcp(uint32_t seq, size_t n, uint8_t flags = 0x10) const {
    return MakeTcp(v6(), seq, Payload(n, uint8_t(seq)), flags, uint16_t(seq));
  }
  Harness<TcpCoalescer> h;
};

TEST_P(TcpIovecTest, RunIsTheCopiedSuperFrameWithPayloadWhereItLies) {
  std::vector<std::vector<uint8_t>> in;
  for (uint32_t i = 0; i < 5; ++i) {
    in.push_back(Tcp(1000 * i, i < 4 ? 1000 : 300, i == 4 ? 0x18 : 0x10));
    EXPECT_EQ(h.Add(in.back(), info()), stable());
  }
  EXPECT_TRUE(h.out.empty());
  h.Flush();
  ASSERT_EQ(h.out.size(), 1u);
  const Written& w = h.out[0];
  EXPECT_EQ(w.frame, SuperFrame(in));
  EXPECT_EQ(w.first_iov, VirtioNetHdr::kSize + Headers(in[0]));
  // Stable: one piece per segment, each in its frame. Copied: consecutive in
  // the arena, so one piece.
  EXPECT_EQ(w.iovecs, stable() ? 1u + in.size() : 2u);
  EXPECT_EQ(w.pieces_in_inputs, stable() ? in.size() : 0u);
  EXPECT_EQ(w.h.flags, VirtioNetHdr::kNeedsCsum);
  EXPECT_EQ(w.h.gso_type, v6() ? VirtioNetHdr::kGsoTcpV6 : VirtioNetHdr::kGsoTcpV4);
  EXPECT_EQ(w.h.gso_size, 1000);
  EXPECT_EQ(w.h.hdr_len, Headers(in[0]));
  EXPECT_EQ(w.h.csum_start, L4(in[0]));
  EXPECT_EQ(w.h.csum_offset, 16);
}

TEST_P(TcpIovecTest, SingleSegmentIsDataValidAndOthersOnlyIfVerifiedBefore) {
  auto one = Tcp(0, 100);
  auto syn = Tcp(0, 10, 0x02);  // not merged: passed through
  h.Add(one, info());
  EXPECT_FALSE(h.Add(syn, info()));
  h.Flush();
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.out[0].frame, one);
  EXPECT_EQ(h.out[0].h.gso_type, VirtioNetHdr::kGsoNone);
  EXPECT_EQ(h.out[0].h.flags, VirtioNetHdr::kDataValid);  // checked here, or before
  EXPECT_EQ(h.out[1].frame, syn);
  EXPECT_EQ(h.out[1].h.flags, verified() ? VirtioNetHdr::kDataValid : 0);
  EXPECT_EQ(h.out[1].iovecs, 2u);
}

TEST_P(TcpIovecTest, ChecksumIsCheckedOnlyWhereNothingVerifiedIt) {
  auto a = Tcp(0, 1000), b = Tcp(1000, 1000), c = Tcp(2000, 1000);
  b.back() ^= 1;  // corrupt payload, checksum unchanged
  h.Add(a, info());
  bool took_b = h.Add(b, info());
  h.Add(c, info());
  h.Flush();
  if (verified()) {
    // Verified before (the tunnel's outer checksum): no second pass here.
    EXPECT_EQ(took_b, stable());
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_EQ(h.out[0].frame, SuperFrame({a, b, c}));
    return;
  }
  EXPECT_FALSE(took_b);
  ASSERT_EQ(h.out.size(), 3u);
  EXPECT_EQ(h.out[0].frame, a);
  EXPECT_EQ(h.out[0].h.flags, VirtioNetHdr::kDataValid);
  EXPECT_EQ(h.out[1].frame, b);
  EXPECT_EQ(h.out[1].h.flags, 0);  // nobody verified it: the kernel checks it, and drops it
  EXPECT_EQ(h.out[2].frame, c);
  EXPECT_EQ(h.out[2].h.flags, VirtioNetHdr::kDataValid);
}

TEST_P(TcpIovecTest, RunsStopAtTheSegmentLimit) {
  std::vector<std::vector<uint8_t>> in;
  for (uint32_t i = 0; i < TcpCoalescer::kMaxSegments + 6; ++i) {
    in.push_back(Tcp(100 * i, 100));
    h.Add(in.back(), info());
  }
  h.Flush();
  ASSERT_EQ(h.out.size(), 2u);
  std::vector<std::vector<uint8_t>> first(in.begin(), in.begin() + TcpCoalescer::kMaxSegments);
  std::vector<std::vector<uint8_t>> rest(in.begin() + TcpCoalescer::kMaxSegments, in.end());
  EXPECT_EQ(h.out[0].frame, SuperFrame(first));
  EXPECT_EQ(h.out[1].frame, SuperFrame(rest));
  EXPECT_EQ(h.out[0].iovecs, stable() ? TcpCoalescer::kMaxIovecs : 2u);
}

TEST_P(TcpIovecTest, PaddingStaysOut) {
  auto padded = Tcp(0, 4);
  size_t real = padded.size();
  padded.resize(v6() ? real + 6 : 64, 0);
  h.Add(padded, info());
  h.Add(Tcp(4, 4), info());
  h.Flush();
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out[0].frame.size(), real + 4);
}

INSTANTIATE_TEST_SUITE_P(Cases, TcpIovecTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(), ::testing::Bool()),
                         CaseName);

TEST(TcpIovec, StableAndCopiedFramesMixInOneRun) {
  Harness<TcpCoalescer> h;
  std::vector<std::vector<uint8_t>> in;
  for (uint32_t i = 0; i < 6; ++i) {
    in.push_back(MakeTcp(false, 500 * i, Payload(500, uint8_t(i))));
    EXPECT_EQ(h.Add(in.back(), {.stable = i % 3 == 0}), i % 3 == 0);
  }
  h.Flush();
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out[0].frame, SuperFrame(in));
  // stable, copied copied (one arena piece), stable, copied copied.
  EXPECT_EQ(h.out[0].iovecs, 1u + 4u);
  EXPECT_EQ(h.out[0].pieces_in_inputs, 2u);
}

TEST(TcpIovec, ABadCopiedSegmentLeavesTheArenaAsItWas) {
  Harness<TcpCoalescer> h;
  auto a = MakeTcp(false, 0, Payload(700, 1)), bad = MakeTcp(false, 700, Payload(700, 2));
  auto c = MakeTcp(false, 700, Payload(700, 3)), d = MakeTcp(false, 1400, Payload(700, 4));
  bad[100] ^= 0x40;
  h.Add(a, {});
  h.Add(bad, {});  // copied and summed, then refused: nothing kept
  h.Add(c, {});
  h.Add(d, {});
  h.Flush();
  ASSERT_EQ(h.out.size(), 3u);
  EXPECT_EQ(h.out[0].frame, a);
  EXPECT_EQ(h.out[1].frame, bad);
  EXPECT_EQ(h.out[2].frame, SuperFrame({c, d}));
}

class UdpIovecTest : public TcpIovecTest {
 protected:
  std::vector<uint8_t> Udp(uint16_t id, size_t n, uint16_t dport = 5201) const {
    return MakeUdp(v6(), Payload(n, uint8_t(id)), id, dport);
  }
  Harness<UdpCoalescer> u;
};

TEST_P(UdpIovecTest, RunIsTheCopiedSuperFrameWithPayloadWhereItLies) {
  std::vector<std::vector<uint8_t>> in;
  for (uint16_t i = 0; i < 6; ++i) {
    in.push_back(Udp(uint16_t(0xfffd + i), i < 5 ? 1200 : 77));
    EXPECT_EQ(u.Add(in.back(), info()), stable());
  }
  u.Flush();
  ASSERT_EQ(u.out.size(), 1u);
  const Written& w = u.out[0];
  EXPECT_EQ(w.frame, SuperFrame(in));
  EXPECT_EQ(w.first_iov, VirtioNetHdr::kSize + L4(in[0]) + 8);
  EXPECT_EQ(w.iovecs, stable() ? 1u + in.size() : 2u);
  EXPECT_EQ(w.pieces_in_inputs, stable() ? in.size() : 0u);
  EXPECT_EQ(w.h.flags, VirtioNetHdr::kNeedsCsum);
  EXPECT_EQ(w.h.gso_type, VirtioNetHdr::kGsoUdpL4);
  EXPECT_EQ(w.h.gso_size, 1200);
  EXPECT_EQ(w.h.hdr_len, L4(in[0]) + 8);
  EXPECT_EQ(w.h.csum_start, L4(in[0]));
  EXPECT_EQ(w.h.csum_offset, 6);
}

TEST_P(UdpIovecTest, FlagsSayWhatWasVerified) {
  auto one = Udp(1, 50);
  auto bad = Udp(2, 50, 6000);
  bad.back() ^= 1;
  auto zero = Udp(3, 50, 7000);
  zero[L4(zero) + 6] = zero[L4(zero) + 7] = 0;  // none sent: never merged
  u.Add(one, info());
  u.Add(bad, info());
  u.Add(zero, info());
  u.Flush();
  ASSERT_EQ(u.out.size(), 3u);
  EXPECT_EQ(u.out[0].frame, one);
  EXPECT_EQ(u.out[0].h.flags, VirtioNetHdr::kDataValid);
  EXPECT_EQ(u.out[1].frame, bad);
  // Verified before: a lone datagram like any other. Not: refused here and
  // left to the kernel.
  EXPECT_EQ(u.out[1].h.flags, verified() ? VirtioNetHdr::kDataValid : 0);
  EXPECT_EQ(u.out[2].frame, zero);
  EXPECT_EQ(u.out[2].h.flags, verified() ? VirtioNetHdr::kDataValid : 0);
  for (const Written& w : u.out) EXPECT_EQ(w.h.gso_type, VirtioNetHdr::kGsoNone);
}

TEST_P(UdpIovecTest, ABadChecksumIsMergedOnlyWhenVerifiedBefore) {
  auto a = Udp(10, 300), b = Udp(11, 300), c = Udp(12, 300);
  b[L4(b) + 8] ^= 0x10;
  u.Add(a, info());
  u.Add(b, info());
  u.Add(c, info());
  u.Flush();
  ASSERT_EQ(u.out.size(), verified() ? 1u : 3u);
  if (verified()) {
    EXPECT_EQ(u.out[0].frame, SuperFrame({a, b, c}));
  }
}

TEST_P(UdpIovecTest, RunsStopAtTheSegmentLimit) {
  std::vector<std::vector<uint8_t>> in;
  for (size_t i = 0; i < UdpCoalescer::kMaxSegments + 3; ++i) {
    in.push_back(Udp(uint16_t(i), 18));
    u.Add(in.back(), info());
  }
  u.Flush();
  ASSERT_EQ(u.out.size(), 2u);
  EXPECT_EQ(u.out[0].frame,
            SuperFrame({in.begin(), in.begin() + static_cast<ptrdiff_t>(UdpCoalescer::kMaxSegments)}));
  EXPECT_EQ(u.out[1].frame,
            SuperFrame({in.begin() + static_cast<ptrdiff_t>(UdpCoalescer::kMaxSegments), in.end()}));
  EXPECT_EQ(u.out[0].iovecs, stable() ? UdpCoalescer::kMaxIovecs : 2u);
}

INSTANTIATE_TEST_SUITE_P(Cases, UdpIovecTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(), ::testing::Bool()),
                         CaseName);

// The iovecs flattened into one buffer (rx_frames.h, as the other coalescer
// tests take them) are the same bytes.
TEST(FlatWriter, GathersTheSameBytes) {
  std::vector<std::vector<uint8_t>> in;
  std::vector<uint8_t> got;
  VirtioNetHdr h;
  TcpCoalescer c([&](std::span<const iovec> iov) {
    std::vector<uint8_t> all = Flatten(iov);
    h = VirtioNetHdr::Read(all);
    got.assign(all.begin() + VirtioNetHdr::kSize, all.end());
  });
  for (uint32_t i = 0; i < 3; ++i) {
    in.push_back(MakeTcp(true, 900 * i, Payload(900, uint8_t(i))));
    c.Add(in.back(), {.stable = true});
  }
  c.Flush();
  EXPECT_EQ(got, SuperFrame(in));
  EXPECT_EQ(h.gso_type, VirtioNetHdr::kGsoTcpV6);
}

}  // namespace
}  // namespace l2tp::userspace
