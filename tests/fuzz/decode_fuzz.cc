// libFuzzer target for the userspace datapath's receive path: IPv4 header
// skipping, session-id and data-header decoding, the inner flow hash of
// receive spreading, the sequencer and the TCP
// and UDP coalescers behind it, driven by arbitrary bytes; plus the TSO
// segmenter fed arbitrary virtio-net headers. Built and run by
// tests/fuzz/run.sh.
//
// The coalescers run as the session runs them (session_rx.cc): frames
// delivered at once are stable (pointed to until the batch's flush), frames
// out of the reorder queue are copied (their storage is freed after
// delivery: ASan sees a coalescer that kept pointing into one). A second
// pair of coalescers takes every frame as a copy that is scribbled over
// right after Add; its writes must equal the first pair's byte for byte.
// Every write is checked: iovec count, GSO fields, and DATA_VALID only where
// something verified the frame (the tunnel, or the coalescer: then the L4
// checksum must be valid).
//
// Input: 4 bytes of session settings (byte 2: bit 0 the tunnel verified an
// outer checksum, bit 1 the TAP takes USO, bit 2 inner checksums are fixed
// up before delivery so that merges happen), then packets as
// [length][bytes]...; the byte after each packet advances the fake clock
// (milliseconds, low 7 bits) and with its top bit ends the receive batch.
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <span>
#include <vector>

#include "datapath/userspace/checksum.h"
#include "datapath/userspace/flow_hash.h"
#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/sequencer.h"
#include "datapath/userspace/tcp_coalescer.h"
#include "datapath/userspace/tcp_segmenter.h"
#include "datapath/userspace/udp_coalescer.h"
#include "tests/fuzz/fuzz_check.h"

using namespace l2tp;
using namespace l2tp::userspace;

namespace {

struct L4Span {
  size_t l4 = 0, length = 0;
  uint8_t protocol = 0;
  std::span<const uint8_t> addresses;
};

// Where the TCP/UDP header and data of an IPv4 (no options) or IPv6 (no
// extension headers) frame lie, if they do.
bool FindL4(std::span<const uint8_t> f, L4Span* out) {
  if (f.size() < 14 + 20) return false;
  uint16_t ethertype = GetBe16(&f[12]);
  size_t end;
  if (ethertype == 0x0800 && f[14] == 0x45) {
    out->protocol = f[14 + 9];
    out->l4 = 14 + 20;
    out->addresses = f.subspan(14 + 12, 8);
    end = 14 + GetBe16(&f[14 + 2]);
  } else if (ethertype == 0x86dd && f.size() >= 14 + 40 && (f[14] >> 4) == 6) {
    out->protocol = f[14 + 6];
    out->l4 = 14 + 40;
    out->addresses = f.subspan(14 + 8, 32);
    end = 14 + 40 + GetBe16(&f[14 + 4]);
  } else {
    return false;
  }
  if (out->protocol != 6 && out->protocol != 17) return false;
  if (end > f.size() || end < out->l4 + (out->protocol == 6 ? 20 : 8)) return false;
  out->length = end - out->l4;
  return true;
}

uint64_t L4Sum(std::span<const uint8_t> f, const L4Span& s) {
  return ChecksumAdd(PseudoHeaderSum(s.addresses, s.protocol, static_cast<uint32_t>(s.length)),
                     f.subspan(s.l4, s.length));
}

// Makes the IPv4 header and TCP/UDP checksums of `f` valid, where it has them.
void FixChecksums(std::vector<uint8_t>& f) {
  L4Span s;
  if (!FindL4(f, &s)) return;
  if (GetBe16(&f[12]) == 0x0800) {
    PutBe16(&f[14 + 10], 0);
    PutBe16(&f[14 + 10], static_cast<uint16_t>(~ChecksumFold(HeaderSum(&f[14], 20))));
  }
  uint8_t* field = &f[s.l4 + (s.protocol == 6 ? 16 : 6)];
  PutBe16(field, 0);
  uint16_t c = static_cast<uint16_t>(~ChecksumFold(L4Sum(f, s)));
  PutBe16(field, c == 0 && s.protocol == 17 ? 0xffff : c);
}

// A session's two coalescers, fed as SessionPath::Deliver feeds them; the
// writes, gathered (virtio-net header + frame), are kept for comparison.
class Tap {
 public:
  Tap(bool verified, bool uso)
      : verified_(verified),
        uso_(uso),
        tcp_([this](std::span<const iovec> iov) { Write(iov, TcpCoalescer::kMaxIovecs); }),
        udp_([this](std::span<const iovec> iov) { Write(iov, UdpCoalescer::kMaxIovecs); }) {}

  bool Add(std::span<const uint8_t> frame, bool stable) {
    FrameInfo info{.stable = stable, .verified = verified_};
    if (uso_ && UdpCoalescer::IsUdp(frame)) {
      tcp_.Flush();
      return udp_.Add(frame, info);
    }
    udp_.Flush();
    return tcp_.Add(frame, info);
  }
  void Flush() {
    tcp_.Flush();
    udp_.Flush();
  }
  const std::vector<std::vector<uint8_t>>& writes() const { return writes_; }

 private:
  void Write(std::span<const iovec> iov, size_t max_iovecs) {
    Check(!iov.empty() && iov.size() <= max_iovecs && iov[0].iov_len >= VirtioNetHdr::kSize);
    std::vector<uint8_t> all;
    for (const iovec& v : iov) {
      const auto* p = static_cast<const uint8_t*>(v.iov_base);
      all.insert(all.end(), p, p + v.iov_len);
    }
    std::span<const uint8_t> f = std::span<const uint8_t>(all).subspan(VirtioNetHdr::kSize);
    VirtioNetHdr h = VirtioNetHdr::Read(all);
    if (h.gso_type != VirtioNetHdr::kGsoNone) {
      Check(h.flags == VirtioNetHdr::kNeedsCsum && h.gso_size > 0);
      Check(h.csum_start + h.csum_offset + 2u <= f.size() && h.hdr_len <= f.size());
      Check(f.size() <= 14 + TcpCoalescer::kMaxIpLength);
    } else if (verified_) {
      Check(h.flags == VirtioNetHdr::kDataValid);  // the tunnel verified every byte
    } else if (h.flags == VirtioNetHdr::kDataValid) {
      // Only what the coalescer verified itself: a valid TCP/UDP checksum.
      L4Span s;
      Check(FindL4(f, &s) && ChecksumFold(L4Sum(f, s)) == 0xffff);
    } else {
      Check(h.flags == 0);
    }
    writes_.push_back(std::move(all));
  }

  bool verified_, uso_;
  TcpCoalescer tcp_;
  UdpCoalescer udp_;
  std::vector<std::vector<uint8_t>> writes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t flags = data[0];
  const Encap encap = (flags & 1) ? Encap::kIp : Encap::kUdp;
  const bool ip_header = (flags & 2) != 0;  // as an IPv4 raw socket delivers
  const L2Spec l2spec = (flags & 4) ? L2Spec::kDefault : L2Spec::kNone;
  static const uint8_t kCookie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const size_t cookie_len = (flags >> 3) % 3 * 4;
  Sequencer::Config config{(flags & 0x20) != 0, (flags & 0x40) != 0, (flags & 0x80) != 0, data[1] % 4 * 50u};
  Sequencer::TimePoint now{};
  Sequencer seq(config, [&now] { return now; });
  const RxSessionSpec spec{std::span<const uint8_t>(kCookie, cookie_len), l2spec};

  const bool verified = data[2] & 1, uso = data[2] & 2, fix_checksums = data[2] & 4;
  Tap tap(verified, uso);                  // stable frames pointed to, as the session does
  Tap copies(verified, uso);               // every frame copied
  std::deque<std::vector<uint8_t>> fixed;  // fixed-up frames, kept until the flush
  auto deliver_as = [&](std::span<const uint8_t> frame, bool stable) {
    Check(tap.Add(frame, stable) <= stable);  // borrows only what stays valid
    std::vector<uint8_t> scratch(frame.begin(), frame.end());
    Check(!copies.Add(scratch, /*stable=*/false));
    std::fill(scratch.begin(), scratch.end(), 0xee);  // as freed storage would be
  };
  // Out of the reorder queue: freed after delivery, so copied.
  auto drained = [&](std::span<const uint8_t> frame) { deliver_as(frame, /*stable=*/false); };
  auto end_batch = [&] {
    tap.Flush();
    copies.Flush();
    Check(tap.writes() == copies.writes());
    fixed.clear();
  };

  std::span<const uint8_t> rest(data + 4, size - 4);
  while (!rest.empty()) {
    size_t len = std::min<size_t>(rest[0], rest.size() - 1);
    std::span<const uint8_t> packet = rest.subspan(1, len);
    rest = rest.subspan(1 + len);
    bool batch_ends = false;
    if (!rest.empty()) {
      now += std::chrono::milliseconds(rest[0] & 0x7f);
      batch_ends = rest[0] & 0x80;
      rest = rest.subspan(1);
    }

    if (ip_header) {
      auto off = SkipIpv4Header(packet);
      if (!off) continue;
      Check(*off <= packet.size());
      packet = packet.subspan(*off);
    }
    SessionIdDecode id = DecodeSessionId(encap, packet);
    if (id.result != SessionIdResult::kData) continue;
    Check(id.offset <= packet.size() && id.session_id != 0);
    DataHeaderDecode d = DecodeDataHeader(spec, packet, id.offset);
    if (d.result != DataHeaderResult::kOk) continue;
    Check(d.payload_offset <= packet.size());
    Check(d.sequence <= kSequenceMask);
    auto frame = packet.subspan(d.payload_offset);
    // Receive spreading's flow hash reads only inside the frame (ASan) and
    // gives 0 to whatever is not IP.
    const uint32_t flow = InnerFlowHash(frame);
    if (frame.size() >= 14) {
      uint16_t type = GetBe16(&frame[12]);
      if ((type == 0x8100 || type == 0x88a8) && frame.size() >= 18) type = GetBe16(&frame[16]);
      if (type != 0x0800 && type != 0x86dd) Check(flow == 0);
    }
    if (fix_checksums) {
      fixed.emplace_back(frame.begin(), frame.end());
      FixChecksums(fixed.back());
      frame = fixed.back();
    }
    switch (seq.OnReceive(d.has_sequence, d.sequence, frame)) {
      case Sequencer::Verdict::kDeliver: deliver_as(frame, /*stable=*/true); break;
      case Sequencer::Verdict::kQueued: seq.Drain(drained); break;
      case Sequencer::Verdict::kDrop: break;
    }
    Check(seq.queued() <= Sequencer::kMaxQueued);
    // What the reorder timer does: drain once the head's deadline passed.
    if (auto deadline = seq.NextDeadline(); deadline && *deadline <= now) seq.Drain(drained);
    if (auto deadline = seq.NextDeadline()) Check(*deadline > now);

    // Re-encode what we decoded: the header must round-trip.
    uint8_t header[kMaxHeaderLength];
    TxHeaderSpec tx{encap, id.session_id, spec.peer_cookie, l2spec};
    std::optional<uint32_t> n;
    if (d.has_sequence) n = d.sequence;
    size_t hlen = EncodeHeader(tx, n, header);
    Check(hlen == d.payload_offset);
    if (l2spec == L2Spec::kNone || d.has_sequence) {
      // Bits other than S and the number are not reproduced; compare the rest.
      size_t compare = encap == Encap::kUdp ? hlen - 4 : hlen;
      size_t start = encap == Encap::kUdp ? 4 : 0;
      if (l2spec == L2Spec::kDefault) compare -= 4;
      for (size_t i = start; i < start + compare; ++i) Check(header[i] == packet[i]);
    }
    if (batch_ends) end_batch();
  }
  end_batch();
  seq.Purge();
  Check(seq.queued() == 0);

  // The segmenter, on the whole input as a frame behind a fuzzed header.
  if (size > 14) {
    VirtioNetHdr h = VirtioNetHdr::Read({data, VirtioNetHdr::kSize});
    std::vector<uint8_t> frame(data + 4, data + size);
    size_t segment_length = 0;
    size_t expected = TcpSegmentCount(h, frame, &segment_length);
    std::vector<uint8_t> out;
    size_t produced = SegmentTcp(h, frame, [&](size_t len) {
      Check(len <= segment_length && len <= frame.size());
      out.assign(len, 0);
      return out.data();
    });
    Check(produced == expected);
    CompletePartialChecksum(h, frame);
  }
  return 0;
}
