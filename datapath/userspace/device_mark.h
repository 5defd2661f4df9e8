// The ownership mark the userspace datapath puts on each TAP it creates: the
// device's alias, "l2tp-agent <owner> session <tunnel id>/<session id>". TAPs
// are persistent and outlive the process, so after any restart or crash this
// mark is how the agent tells its own devices (to re-attach, or to remove when
// no longer desired) from everyone else's (never changed, never removed).
// `owner` tells agents sharing a network namespace apart.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace l2tp::userspace {

std::string FormatDeviceMark(std::string_view owner, uint32_t tunnel_id, uint32_t session_id);
// True when `alias` is a mark of `owner`.
bool IsMarkedBy(std::string_view alias, std::string_view owner);

}  // namespace l2tp::userspace
