// The PPP capability probe on this host: this machine's kernel has neither
// PPPoL2TP sockets nor /dev/ppp, so the probe must say both are missing (on
// a host that has them, what it finds). The VM test sees it pass.
#include "datapath/kernel/ppp_probe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
// After glibc's headers (linux/libc-compat.h).
#include <linux/if_pppox.h>

#include <iostream>

namespace l2tp::kernel {
namespace {

bool HostHasPppoL2tpSockets() {
  const int fd = socket(AF_PPPOX, SOCK_DGRAM | SOCK_CLOEXEC, PX_PROTO_OL2TP);
  if (fd < 0) return false;
  close(fd);
  return true;
}

bool HostHasDevPpp() {
  const int fd = open("/dev/ppp", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

TEST(PppProbe, SaysWhatThisHostLacks) {
  const bool sockets = HostHasPppoL2tpSockets(), device = HostHasDevPpp();
  absl::Status st = ProbePppoL2tp();
  if (sockets && device) {
    EXPECT_TRUE(st.ok()) << st;
    return;
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(st.message().rfind("PPP pseudowires unavailable: ", 0), 0u) << st;
  EXPECT_EQ(st.message().find("no PPPoL2TP sockets (module l2tp_ppp)") != absl::string_view::npos, !sockets)
      << st;
  if (access("/dev/ppp", F_OK) != 0) {
    EXPECT_NE(st.message().find("no /dev/ppp (module ppp_generic)"), absl::string_view::npos) << st;
  }
  std::cout << "probe here: " << st << "\n";
}

TEST(PppProbe, AMissingDeviceIsNamedWithItsModule) {
  absl::Status st = ProbePppoL2tp("/nonexistent/ppp");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("no /nonexistent/ppp (module ppp_generic)"), absl::string_view::npos) << st;
}

TEST(PppProbe, AnUnopenableDeviceSaysWhy) {
  // A directory does not open for writing: the message says what open() said.
  absl::Status st = ProbePppoL2tp("/");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("cannot open /: Is a directory (EISDIR)"), absl::string_view::npos) << st;
}

}  // namespace
}  // namespace l2tp::kernel
