#include "datapath/userspace/tcp_segmenter.h"

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

size_t TcpSegmentCount(const VirtioNetHdr& h, std::span<const uint8_t> frame, size_t* segment_length) {
  TcpLayout t;
  if (!ParseTso(h, frame, &t)) return 0;
  *segment_length = t.headers + std::min(t.mss, t.payload);
  return t.payload == 0 ? 1 : (t.payload + t.mss - 1) / t.mss;
}

size_t SegmentTcp(const VirtioNetHdr& h, std::span<const uint8_t> f,
                  absl::FunctionRef<uint8_t*(size_t)> reserve) {
  TcpLayout t;
  if (!ParseTso(h, f, &t)) return 0;
  const uint32_t seq0 = GetBe32At(&f[t.l4 + 4]);
  const uint16_t id0 = t.v6 ? 0 : GetBe16(&f[t.l3 + 4]);
  const uint8_t flags0 = f[t.l4 + 13];
  size_t count = t.payload == 0 ? 1 : (t.payload + t.mss - 1) / t.mss;
  for (size_t i = 0; i < count; ++i) {
    size_t off = i * t.mss;
    size_t chunk = std::min(t.mss, t.payload - off);
    size_t len = t.headers + chunk;
    uint8_t* out = reserve(len);
    std::memcpy(out, f.data(), t.headers);
    std::memcpy(out + t.headers, f.data() + t.headers + off, chunk);
    bool last = i + 1 == count;
    uint8_t* ip = out + t.l3;
    uint8_t* tcp = out + t.l4;
    size_t l4_len = len - t.l4;
    if (t.v6) {
      PutBe16(ip + 4, static_cast<uint16_t>(len - t.l3 - 40));
    } else {
      PutBe16(ip + 2, static_cast<uint16_t>(len - t.l3));
      PutBe16(ip + 4, static_cast<uint16_t>(id0 + i));
      PutBe16(ip + 10, 0);
      size_t ihl = size_t(ip[0] & 0x0f) * 4;
      PutBe16(ip + 10, static_cast<uint16_t>(~ChecksumFold(HeaderSum(ip, ihl))));
    }
    PutBe32At(tcp + 4, static_cast<uint32_t>(seq0 + off));
    uint8_t flags = flags0;
    if (!last) flags &= ~(kTcpFin | kTcpPsh);
    if (i > 0) flags &= ~kTcpCwr;
    tcp[13] = flags;
    PutBe16(tcp + 16, 0);
    std::span<const uint8_t> addresses = t.v6 ? std::span<const uint8_t>(ip + 8, 32)
                                              : std::span<const uint8_t>(ip + 12, 8);
    uint64_t sum = PseudoHeaderSum(addresses, 6, static_cast<uint32_t>(l4_len));
    sum = ChecksumAdd(sum, {tcp, l4_len});
    PutBe16(tcp + 16, static_cast<uint16_t>(~ChecksumFold(sum)));
  }
  return count;
}

}  // namespace l2tp::userspace
