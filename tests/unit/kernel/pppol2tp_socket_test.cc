// What of the PPPoL2TP socket can be checked without PPP in the kernel: the
// counters' mapping, the options taken from a session, refusals before any
// socket is made, and (on a kernel without l2tp_ppp, like the CI machines')
// the error naming the module. The rest runs in the VM
// (tests/vm/kernel/kernel_datapath_vm_test.cc, Kernel/PppVariant.*).
#include "datapath/kernel/pppol2tp_socket.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
// After glibc's headers (linux/libc-compat.h).
#include <linux/if_pppox.h>
#include <linux/ppp-ioctl.h>

#include <cerrno>

namespace l2tp::kernel {
namespace {

TEST(PppoL2tpSocket, IoctlCountersMapOntoTheSessionCounters) {
  pppol2tp_ioc_stats st{};
  st.tunnel_id = 1;
  st.session_id = 2;
  st.tx_packets = 10;
  st.tx_bytes = 11;
  st.tx_errors = 12;
  st.rx_packets = 13;
  st.rx_bytes = 14;
  st.rx_seq_discards = 15;
  st.rx_oos_packets = 16;
  st.rx_errors = 17;
  Counters want;
  want.tx_packets = 10;
  want.tx_bytes = 11;
  want.tx_errors = 12;
  want.rx_packets = 13;
  want.rx_bytes = 14;
  want.rx_seq_discards = 15;
  want.rx_oos_packets = 16;
  want.rx_errors = 17;
  // rx_cookie_discards and rx_invalid are not in the ioctl: 0.
  EXPECT_EQ(CountersFromIocStats(st), want);
}

TEST(PppoL2tpSocket, OptionsAreTheSessionsSequencingLnsModeAndTimeout) {
  SessionConfig s;
  s.send_sequence = true;
  s.require_sequence = false;
  s.lns_mode = true;
  s.reorder_timeout_ms = 200;
  s.cookie = {1, 2, 3, 4};  // not an option
  PppSessionOptions want;
  want.send_sequence = true;
  want.lns_mode = true;
  want.reorder_timeout_ms = 200;
  EXPECT_EQ(PppSessionOptionsOf(s), want);
}

TEST(PppoL2tpSocket, BadTargetsAreRefusedBeforeAnySocketIsMade) {
  PppoL2tpTarget t;
  t.version = 2;
  t.tunnel_fd = 3;
  t.peer = *IpAddress::Parse("192.0.2.2");
  t.tunnel_id = 70000;
  t.session_id = 1;
  t.peer_tunnel_id = 1;
  t.peer_session_id = 1;
  auto s = PppoL2tpSocket::Connect(t);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("tunnel_id 70000 does not fit"), absl::string_view::npos) << s.status();
}

TEST(PppoL2tpSocket, WithoutPppoL2tpInTheKernelTheModuleIsNamed) {
  const int probe = socket(AF_PPPOX, SOCK_DGRAM | SOCK_CLOEXEC, PX_PROTO_OL2TP);
  if (probe >= 0) {
    close(probe);
    GTEST_SKIP() << "this kernel has PPPoL2TP sockets";
  }
  PppoL2tpTarget t;
  t.version = 3;
  t.tunnel_fd = 3;
  t.peer = *IpAddress::Parse("192.0.2.2");
  t.tunnel_id = t.session_id = t.peer_tunnel_id = t.peer_session_id = 5;
  auto s = PppoL2tpSocket::Connect(t);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  // EAFNOSUPPORT without pppox, EPROTONOSUPPORT with pppox but no l2tp_ppp.
  EXPECT_TRUE(
      s.status().message() ==
          "PPPoL2TP socket for session 5/5: no PPPoX sockets in this kernel (module pppox, loaded with "
          "l2tp_ppp) (EAFNOSUPPORT)" ||
      s.status().message() ==
          "PPPoL2TP socket for session 5/5: no PPPoL2TP sockets in this kernel (module l2tp_ppp) "
          "(EPROTONOSUPPORT)")
      << s.status();
}

}  // namespace
}  // namespace l2tp::kernel
