#include "datapath/kernel/kernel_errors.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace l2tp::kernel {
namespace {

TEST(KernelErrors, ZeroIsOk) { EXPECT_TRUE(KernelErrorStatus(KernelOp::kCreateTunnel, "x", 0).ok()); }

TEST(KernelErrors, ExistingTunnelId) {
  absl::Status st = KernelErrorStatus(KernelOp::kCreateTunnel, "create tunnel 100", EEXIST);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(st.message(), "create tunnel 100: tunnel id already in use (EEXIST)");
}

TEST(KernelErrors, MissingObjectsAreNotFoundWhateverErrnoTheKernelPicked) {
  EXPECT_EQ(KernelErrorStatus(KernelOp::kDeleteTunnel, "delete tunnel 1", ENODEV).message(),
            "delete tunnel 1: no such tunnel (ENODEV)");
  EXPECT_EQ(KernelErrorStatus(KernelOp::kDeleteSession, "delete session 1/2", ENOENT).code(),
            absl::StatusCode::kNotFound);
  // On session create, ENODEV means the tunnel.
  EXPECT_EQ(KernelErrorStatus(KernelOp::kCreateSession, "create session 1/2", ENODEV).message(),
            "create session 1/2: its tunnel does not exist (ENODEV)");
}

TEST(KernelErrors, CodesForTheRest) {
  // Negative errno (as netlink carries it) is accepted too.
  EXPECT_EQ(KernelErrorStatus(KernelOp::kCreateSession, "s", -EPROTONOSUPPORT).code(),
            absl::StatusCode::kFailedPrecondition);
  absl::Status perm = KernelErrorStatus(KernelOp::kDump, "list tunnels", EPERM);
  EXPECT_EQ(perm.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(perm.message().find("CAP_NET_ADMIN"), absl::string_view::npos);
  EXPECT_EQ(KernelErrorStatus(KernelOp::kCreateTunnel, "t", EBUSY).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(KernelErrorStatus(KernelOp::kCreateTunnel, "t", EINVAL).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status other = KernelErrorStatus(KernelOp::kCreateTunnel, "t", EIO);
  EXPECT_EQ(other.code(), absl::StatusCode::kInternal);
  EXPECT_NE(other.message().find("(EIO)"), absl::string_view::npos);
}

TEST(KernelErrors, PppoL2tpSocketErrorsSayWhatTheyMeanThere) {
  absl::Status st = KernelErrorStatus(KernelOp::kPppSocket, "PPPoL2TP socket for session 1/2",
                                      EPROTONOSUPPORT);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "PPPoL2TP socket for session 1/2: no PPPoL2TP sockets in this kernel (module l2tp_ppp) "
            "(EPROTONOSUPPORT)");
  st = KernelErrorStatus(KernelOp::kPppConnect, "connect s", ENOENT);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "connect s: no such tunnel (or its socket is gone) (ENOENT)");
  st = KernelErrorStatus(KernelOp::kPppConnect, "connect s", EPROTOTYPE);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "connect s: the session exists and is not a PPP pseudowire (EPROTOTYPE)");
  st = KernelErrorStatus(KernelOp::kPppConnect, "connect s", EEXIST);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(st.message(), "connect s: the session has a PPPoL2TP socket already (EEXIST)");
  EXPECT_EQ(KernelErrorStatus(KernelOp::kPppConnect, "c", EINVAL).code(), absl::StatusCode::kInvalidArgument);
  st = KernelErrorStatus(KernelOp::kPppOption, "o", ENOTCONN);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "o: the PPPoL2TP socket is not connected to a session (ENOTCONN)");
  EXPECT_EQ(KernelErrorStatus(KernelOp::kPppStats, "x", EBADR).code(), absl::StatusCode::kNotFound);
  // The netlink meanings are untouched by the PPP ones.
  EXPECT_EQ(KernelErrorStatus(KernelOp::kCreateTunnel, "t", EINVAL).message(),
            "t: rejected by the kernel as invalid (EINVAL)");
}

}  // namespace
}  // namespace l2tp::kernel
