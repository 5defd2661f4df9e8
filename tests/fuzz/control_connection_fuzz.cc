// libFuzzer target for the control state machines: arbitrary bytes are cut
// into frames, each decoded and, when it decodes, fed to a ControlConnection
// (the version, role and secret picked by the first byte) with the fake time
// moving on between frames. Nothing may crash, hang or grow without bound;
// what the connection sends must always encode. Built and run by
// tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "control/codec.h"
#include "control/connection.h"
#include "tests/fuzz/fuzz_check.h"

using namespace l2tp::control;

namespace {

struct Sink : ConnectionEvents {
  std::string secret;
  size_t transmitted = 0;
  void Transmit(const ControlMessage& m) override {
    Check(EncodeControlMessage(m, Transport::kUdp, secret).ok());
    ++transmitted;
  }
  void TunnelChanged(const TunnelStatus&) override {}
  void SessionChanged(const SessionStatus&) override {}
  void Random(std::span<uint8_t> out) override {
    for (uint8_t& b : out) b = 0x5a;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  TunnelOptions o;
  o.version = (mode & 1) ? kL2tpV3 : kL2tpV2;
  o.initiator = (mode & 2) != 0;
  o.local_tunnel_id = 7;
  o.host_name = "fuzz";
  o.secret = (mode & 4) ? "fuzz-secret" : "";
  Sink sink;
  sink.secret = o.secret;
  ControlConnection c(o, &sink);
  TimePoint now{};
  LocalSession s;
  s.session_id = 9;
  s.remote_end_id = "pw-1";
  c.AddSession(now, s);
  if (o.initiator) c.Open(now);

  // Records: [length (1 byte)][frame][time step in 100 ms (1 byte)].
  size_t at = 1;
  while (at < size) {
    const size_t len = data[at++];
    if (at + len > size) break;
    auto m = DecodeControlMessage(std::span<const uint8_t>(data + at, len), Transport::kUdp, o.secret);
    at += len;
    if (m.ok()) c.Receive(now, *m);
    if (at < size) now += std::chrono::milliseconds(100 * data[at++]);
    if (auto next = c.NextDeadline(); next && *next <= now) c.OnTimer(now);
  }
  // Bounded: one configured session, and the reliable queue is capped.
  Check(c.sessions().size() == 1);
  return 0;
}
