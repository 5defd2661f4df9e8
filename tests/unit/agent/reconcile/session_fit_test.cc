// Whether a session's frames fit its underlay, from what each kind of
// backend reports, and the status message that says when they do not.
#include "agent/reconcile/session_fit.h"

#include "gtest/gtest.h"

namespace l2tp {
namespace {

DesiredObjects::Session Want(uint32_t mtu, uint32_t overhead) {
  DesiredObjects::Session w;
  w.name = "s1";
  w.config.mtu = mtu;
  w.overhead = overhead;
  return w;
}

ObservedSession Have(uint32_t mtu, uint32_t underlay_mtu, uint32_t fragmenting_bytes = 0) {
  ObservedSession h;
  h.config.mtu = mtu;
  h.underlay_mtu = underlay_mtu;
  h.fragmenting_bytes = fragmenting_bytes;
  return h;
}

TEST(SessionFit, TheBackendsReportIsTaken) {
  const SessionFit fit = FitOf(Want(1450, 58), Have(1450, 1500, 8));  // userspace
  EXPECT_EQ(fit.mtu, 1450u);
  EXPECT_EQ(fit.underlay_mtu, 1500u);
  EXPECT_EQ(fit.fragmenting_bytes, 8u);
}

TEST(SessionFit, WorkedOutFromTheUnderlayWhereTheBackendCannot) {
  // The kernel: the interface's MTU and the route's, no sublayer, no bytes.
  EXPECT_EQ(FitOf(Want(1450, 58), Have(1450, 1500)).fragmenting_bytes, 8u);
  EXPECT_EQ(FitOf(Want(1442, 58), Have(1442, 1500)).fragmenting_bytes, 0u);
  EXPECT_EQ(FitOf(Want(9000, 54), Have(9000, 1500)).fragmenting_bytes, 7554u);
  ObservedSession unknown_mtu = Have(0, 1500);
  unknown_mtu.mtu_known = false;  // the MTU asked for is what the interface has
  EXPECT_EQ(FitOf(Want(1500, 54), unknown_mtu).fragmenting_bytes, 54u);
}

TEST(SessionFit, RightSizedFitsAndUnknownSaysNothing) {
  const SessionFit right = FitOf(Want(0, 54), Have(0, 9000));  // userspace keeps the 0
  EXPECT_EQ(right.mtu, 8946u);
  EXPECT_EQ(right.fragmenting_bytes, 0u);
  EXPECT_EQ(FitOf(Want(0, 54), Have(1446, 1500)).fragmenting_bytes, 0u);  // the kernel's
  EXPECT_EQ(FitOf(Want(9000, 54), Have(9000, 0)).fragmenting_bytes, 0u);  // underlay unknown
}

TEST(SessionFit, MessageSaysWhatDoesNotFitAndByHowMuch) {
  const IpAddress remote = *IpAddress::Parse("192.0.2.2");
  EXPECT_EQ(FragmentingMessage(FitOf(Want(1450, 62), Have(1450, 1500)), remote),
            "mtu 1450 does not fit the underlay (path MTU 1500 to 192.0.2.2 leaves 1438 for frames): "
            "full-size frames will be fragmented, 12 bytes over");
  EXPECT_EQ(FragmentingMessage(FitOf(Want(1400, 74), Have(1400, 1400)), *IpAddress::Parse("2001:db8::2")),
            "mtu 1400 does not fit the underlay (path MTU 1400 to 2001:db8::2 leaves 1326 for frames): "
            "full-size frames will be fragmented, 74 bytes over");
  EXPECT_EQ(FragmentingMessage(FitOf(Want(1438, 62), Have(1438, 1500)), remote), "");
  EXPECT_EQ(FragmentingMessage(FitOf(Want(1438, 62), Have(1438, 0)), remote), "");
}

}  // namespace
}  // namespace l2tp
