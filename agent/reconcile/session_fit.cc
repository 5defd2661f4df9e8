#include "agent/reconcile/session_fit.h"

#include "absl/strings/str_cat.h"
#include "datapath/encap_overhead.h"

namespace l2tp {

SessionFit FitOf(const DesiredObjects::Session& want, const ObservedSession& have) {
  SessionFit fit;
  fit.underlay_mtu = have.underlay_mtu;
  // 0 from the backend: right-sized (the userspace datapath keeps the 0 it
  // was given); an MTU it cannot observe is the one asked for.
  uint32_t mtu = have.mtu_known ? have.config.mtu : want.config.mtu;
  if (mtu == 0) mtu = RightSizedMtu(have.underlay_mtu, want.overhead);
  fit.mtu = mtu;
  fit.fragmenting_bytes = have.fragmenting_bytes != 0
                              ? have.fragmenting_bytes
                              : FragmentingBytes(mtu, want.overhead, have.underlay_mtu);
  return fit;
}

std::string FragmentingMessage(const SessionFit& fit, const IpAddress& remote) {
  if (fit.fragmenting_bytes == 0) return "";
  const uint32_t room = fit.mtu > fit.fragmenting_bytes ? fit.mtu - fit.fragmenting_bytes : 0;
  return absl::StrCat("mtu ", fit.mtu, " does not fit the underlay (path MTU ", fit.underlay_mtu, " to ",
                      remote.ToString(), " leaves ", room,
                      " for frames): full-size frames will be fragmented, ", fit.fragmenting_bytes,
                      " bytes over");
}

}  // namespace l2tp
