#include "datapath/userspace/tcp_segmenter.h"

#include <algorithm>
#include <cstring>

#include "datapath/userspace/checksum.h"

namespace l2tp::userspace {
namespace {

constexpr uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;

struct TcpLayout {
  size_t l3;       // IP header offset
  size_t l4;       // TCP header offset
  size_t headers;  // bytes of Ethernet+IP+TCP headers
  bool v6;
  size_t payload;  // bytes after the headers
  size_t mss;
};

bool ParseTso(const VirtioNetHdr& h, std::span<const uint8_t> f, TcpLayout* t) {
  uint8_t type = h.gso_type & ~VirtioNetHdr::kGsoEcn;
  if (type != VirtioNetHdr::kGsoTcpV4 && type != VirtioNetHdr::kGsoTcpV6) return false;
  if (h.gso_size == 0 || f.size() < 14) return false;
  uint16_t ethertype = GetBe16(&f[12]);
  t->l3 = (ethertype == 0x8100 || ethertype == 0x88a8) ? 18 : 14;
  t->v6 = type == VirtioNetHdr::kGsoTcpV6;
  t->l4 = h.csum_start;
  size_t min_l3 = t->v6 ? 40 : 20;
  if (t->l4 < t->l3 + min_l3 || t->l4 + 20 > f.size()) return false;
  if (t->v6 ? (f[t->l3] >> 4) != 6 : (f[t->l3] >> 4) != 4) return false;
  if (!t->v6 && size_t(f[t->l3] & 0x0f) * 4 != t->l4 - t->l3) return false;  // IHL must agree
  size_t tcp_header = size_t(f[t->l4 + 12] >> 4) * 4;
  if (tcp_header < 20) return false;
  t->headers = t->l4 + tcp_header;
  if (t->headers > f.size()) return false;
  t->payload = f.size() - t->headers;
  t->mss = h.gso_size;
  return true;
}

}  // namespace

bool CompletePartialChecksum(const VirtioNetHdr& h, std::span<uint8_t> frame) {
  if (!(h.flags & VirtioNetHdr::kNeedsCsum)) return true;
  size_t start = h.csum_start, field = size_t(h.csum_start) + h.csum_offset;
  if (start > frame.size() || field + 2 > frame.size()) return false;
  // The field holds the pseudo-header sum: summing over it completes it.
  uint16_t sum = ChecksumFold(ChecksumAdd(0, frame.subspan(start)));
  PutBe16(&frame[field], static_cast<uint16_t>(~sum));
  return true;
}

TcpSegmentPlan::TcpSegmentPlan(const VirtioNetHdr& h, std::span<const uint8_t> f) : frame_(f) {
  TcpLayout t;
  if (!ParseTso(h, f, &t)) return;
  l3_ = t.l3;
  l4_ = t.l4;
  headers_ = t.headers;
  payload_ = t.payload;
  mss_ = t.mss;
  v6_ = t.v6;
  seq0_ = GetBe32At(&f[t.l4 + 4]);
  id0_ = t.v6 ? 0 : GetBe16(&f[t.l3 + 4]);
  flags0_ = f[t.l4 + 13];
  address_sum_ = t.v6 ? HeaderSum(&f[t.l3 + 8], 32) : HeaderSum(&f[t.l3 + 12], 8);
  count_ = t.payload == 0 ? 1 : (t.payload + t.mss - 1) / t.mss;
}

size_t TcpSegmentPlan::length(size_t i) const {
  if (i >= count_) return 0;
  return headers_ + std::min(mss_, payload_ - i * mss_);
}

std::optional<TcpSegment> TcpSegmentPlan::Build(size_t i, std::span<uint8_t> out) const {
  if (i >= count_ || out.size() < headers_) return std::nullopt;
  const size_t off = i * mss_;
  const TcpSegment s{headers_, headers_ + off, std::min(mss_, payload_ - off)};
  const size_t len = s.length();
  std::memcpy(out.data(), frame_.data(), headers_);
  uint8_t* ip = out.data() + l3_;
  uint8_t* tcp = out.data() + l4_;
  if (v6_) {
    PutBe16(ip + 4, static_cast<uint16_t>(len - l3_ - 40));
  } else {
    PutBe16(ip + 2, static_cast<uint16_t>(len - l3_));
    PutBe16(ip + 4, static_cast<uint16_t>(id0_ + i));
    PutBe16(ip + 10, 0);
    PutBe16(ip + 10, static_cast<uint16_t>(~ChecksumFold(HeaderSum(ip, l4_ - l3_))));
  }
  PutBe32At(tcp + 4, static_cast<uint32_t>(seq0_ + off));
  uint8_t flags = flags0_;
  if (i + 1 < count_) flags &= ~(kTcpFin | kTcpPsh);
  if (i > 0) flags &= ~kTcpCwr;
  tcp[13] = flags;
  PutBe16(tcp + 16, 0);
  // Pseudo-header + rebuilt TCP header + the payload read where it lies: the
  // header is a multiple of 4 bytes long, so the payload's words align.
  const size_t l4_len = len - l4_;
  uint64_t sum = address_sum_ + 6 + (l4_len >> 16) + (l4_len & 0xffff);
  sum += HeaderSum(tcp, headers_ - l4_);
  sum = ChecksumAdd(sum, payload(s));
  PutBe16(tcp + 16, static_cast<uint16_t>(~ChecksumFold(sum)));
  return s;
}

size_t TcpSegmentCount(const VirtioNetHdr& h, std::span<const uint8_t> frame, size_t* segment_length) {
  TcpSegmentPlan plan(h, frame);
  if (plan.ok()) *segment_length = plan.segment_length();
  return plan.count();
}

size_t SegmentTcp(const VirtioNetHdr& h, std::span<const uint8_t> frame,
                  absl::FunctionRef<uint8_t*(size_t)> reserve) {
  TcpSegmentPlan plan(h, frame);
  for (size_t i = 0; i < plan.count(); ++i) {
    const size_t len = plan.length(i);
    uint8_t* out = reserve(len);
    std::optional<TcpSegment> s = plan.Build(i, {out, len});  // fits: len >= header_length()
    std::span<const uint8_t> payload = plan.payload(*s);
    if (!payload.empty()) std::memcpy(out + s->header_length, payload.data(), payload.size());
  }
  return plan.count();
}

}  // namespace l2tp::userspace
