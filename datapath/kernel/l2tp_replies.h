// Replies of the kernel's `l2tp` generic netlink family (TUNNEL_GET and
// SESSION_GET, single or dumped) turned into what Datapath::Observe reports.
// Pure: unit-tested with hand-built replies.
#pragma once

#include <linux/netlink.h>
#include <netlink/attr.h>

#include <optional>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"

namespace l2tp::kernel {

// The nested L2TP_ATTR_STATS; counters an older kernel does not send
// (RX_COOKIE_DISCARDS, RX_INVALID before 5.10) stay 0.
absl::StatusOr<Counters> ParseStats(nlattr* stats);

absl::StatusOr<ObservedTunnel> ParseTunnelReply(nlmsghdr* nlh);

// Ethernet pseudowires (what ModifySession checks); nullopt for other
// kinds (PPP: ParsePppSessionReply). MTU is filled in by the caller from the
// interface (mtu_known stays false here); L2SPEC_TYPE is never reported.
absl::StatusOr<std::optional<ObservedSession>> ParseSessionReply(nlmsghdr* nlh);

// The other way round: a PPP pseudowire session (PW_TYPE PPP), nullopt for
// every other kind, with `ppp` set. Ids, cookies, sequencing, LNS mode,
// reorder timeout and counters as for Ethernet; interface_name stays empty
// (the pppN interface is pppd's, not the session's) and mtu 0 (mtu_known,
// l2spec_known false).
absl::StatusOr<std::optional<ObservedSession>> ParsePppSessionReply(nlmsghdr* nlh);

// What Observe lists: Ethernet sessions as ParseSessionReply, PPP ones as
// ParsePppSessionReply (`ppp` set, for the reconciler to leave alone);
// nullopt for other kinds.
absl::StatusOr<std::optional<ObservedSession>> ParseObservedSessionReply(nlmsghdr* nlh);

}  // namespace l2tp::kernel
