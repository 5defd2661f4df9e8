// libFuzzer target for the userspace datapath's receive path: IPv4 header
// skipping, session-id and data-header decoding, the sequencer and the TCP
// coalescer behind it, driven by arbitrary bytes; plus the TSO segmenter fed
// arbitrary virtio-net headers. Built and run by tests/fuzz/run.sh.
//
// Input: 4 bytes of session settings, then packets as [length][bytes]...;
// the byte after each packet advances the fake clock (milliseconds).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "datapath/userspace/l2tp_header.h"
#include "datapath/userspace/sequencer.h"
#include "datapath/userspace/tcp_coalescer.h"
#include "datapath/userspace/tcp_segmenter.h"
#include "tests/fuzz/fuzz_check.h"

using namespace l2tp;
using namespace l2tp::userspace;

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

  size_t written_bytes = 0;
  TcpCoalescer coalescer([&](std::span<const uint8_t> h, std::span<const uint8_t> f) {
    Check(h.size() == VirtioNetHdr::kSize);
    VirtioNetHdr v = VirtioNetHdr::Read(h);
    if (v.gso_type != VirtioNetHdr::kGsoNone) {
      Check(v.csum_start + 18u <= f.size() && v.hdr_len <= f.size() && v.gso_size > 0);
    }
    Check(f.size() <= 14 + TcpCoalescer::kMaxIpLength + 4 || v.gso_type == VirtioNetHdr::kGsoNone);
    written_bytes += f.size();
  });
  auto deliver = [&](std::span<const uint8_t> frame) { coalescer.Add(frame); };

  std::span<const uint8_t> rest(data + 4, size - 4);
  while (!rest.empty()) {
    size_t len = std::min<size_t>(rest[0], rest.size() - 1);
    std::span<const uint8_t> packet = rest.subspan(1, len);
    rest = rest.subspan(1 + len);
    if (!rest.empty()) {
      now += std::chrono::milliseconds(rest[0]);
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
    switch (seq.OnReceive(d.has_sequence, d.sequence, frame)) {
      case Sequencer::Verdict::kDeliver: deliver(frame); break;
      case Sequencer::Verdict::kQueued: seq.Drain(deliver); break;
      case Sequencer::Verdict::kDrop: break;
    }
    Check(seq.queued() <= Sequencer::kMaxQueued);
    // What the reorder timer does: drain once the head's deadline passed.
    if (auto deadline = seq.NextDeadline(); deadline && *deadline <= now) seq.Drain(deliver);
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
  }
  coalescer.Flush();
  seq.Purge();
  Check(seq.queued() == 0);
  (void)written_bytes;

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
