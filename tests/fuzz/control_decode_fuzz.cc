// libFuzzer target for the control-message codec: arbitrary bytes decoded
// as a control frame over UDP and over IP, with and without a secret (for
// hidden AVPs). Whatever decodes must encode again and decode to the same
// message. The L2TPv3 digest check runs on the same bytes. Built and run by
// tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "control/auth.h"
#include "control/codec.h"
#include "tests/fuzz/fuzz_check.h"

using namespace l2tp::control;

namespace {

// The secret the seed with hidden AVPs was made with (tests/fuzz/run.sh).
constexpr std::string_view kSecret = "fuzz-secret";

void RoundTrip(std::span<const uint8_t> frame, Transport t, std::string_view secret) {
  auto m = DecodeControlMessage(frame, t, secret);
  if (!m.ok()) return;
  Check(IsControlFrame(frame, t));
  size_t value_bytes = 0;
  for (const Avp& avp : m->avps) value_bytes += avp.value.size();
  Check(value_bytes <= frame.size());  // nothing is made up beyond the frame
  if (secret.empty()) {
    for (const Avp& avp : m->avps) Check(!avp.hidden);
  }

  auto again = EncodeControlMessage(*m, t, secret);
  Check(again.ok());
  Check(again->size() <= frame.size());  // no padding: never longer
  auto back = DecodeControlMessage(*again, t, secret);
  Check(back.ok());
  Check(*back == *m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> frame(data, size);
  for (Transport t : {Transport::kUdp, Transport::kIp}) {
    RoundTrip(frame, t, "");
    RoundTrip(frame, t, kSecret);
  }
  const std::array<uint8_t, 16> key = V3SharedKey(kSecret);
  const uint8_t nonce[4] = {1, 2, 3, 4};
  for (Transport t : {Transport::kUdp, Transport::kIp}) {
    (void)VerifyV3Frame(frame, t, key, nonce, nonce);
    std::vector<uint8_t> copy(frame.begin(), frame.end());
    if (SignV3Frame(copy, t, key, nonce, {}).ok()) Check(VerifyV3Frame(copy, t, key, {}, nonce).ok());
  }
  return 0;
}
