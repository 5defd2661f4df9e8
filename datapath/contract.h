// The datapath contract: the rules every backend enforces, kept here once.
// Each backend (memory, userspace, kernel) calls these before it changes
// anything, so that the same bad request fails the same way, with the same
// message, whichever backend the agent runs on. The agent's apply plan
// (agent/state/apply_plan.cc) takes its list of in-place session changes from
// kModifiableSessionFields too, so a plan's MODIFY is exactly what
// ModifySession accepts.
//
// tests/unit/datapath/datapath_contract.{h,cc} is the test suite every
// backend runs against this contract.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "datapath/datapath.h"

namespace l2tp {

// A session field that ModifySession may change, by its API name (the field
// of l2tpagent.v1.SessionSpec) and how to take its value from a config.
struct ModifiableSessionField {
  std::string_view api_name;
  void (*copy)(const SessionConfig& from, SessionConfig& to);
};

// The kernel's SESSION_MODIFY set plus the interface MTU. Anything else is
// a replace (delete and create again).
extern const std::array<ModifiableSessionField, 5> kModifiableSessionFields;

// True when `api_name` (a SessionSpec field name) is in kModifiableSessionFields.
bool IsModifiableSessionField(std::string_view api_name);

// "only send_sequence, require_sequence, lns_mode, reorder_timeout and mtu
// change in place", built from kModifiableSessionFields: what ModifySession
// says when refusing, and the reason an apply plan gives for a replace.
const std::string& InPlaceChangeMessage();

// True when a and b differ at most in kModifiableSessionFields.
bool SessionDiffersOnlyInModifiable(const SessionConfig& a, const SessionConfig& b);

// Cookies are 0, 4 or 8 bytes (RFC 3931 5.4.4). `which` names the field in
// the message ("cookie", "peer_cookie"). INVALID_ARGUMENT otherwise.
absl::Status CheckCookieLength(std::string_view which, size_t length);

// What CreateTunnel accepts: non-zero tunnel ids; L2TPv3, or L2TPv2 as a
// managed (socket_fd >= 0) UDP tunnel with 16-bit ids (PPP pseudowires,
// docs/ppp.md). A backend that cannot carry L2TPv2 refuses it after this,
// with its own message.
absl::Status CheckTunnelConfig(const TunnelConfig& config);

// What CreateSession accepts: non-zero session ids (0 marks control
// messages), cookie lengths.
absl::Status CheckSessionConfig(const SessionConfig& config);

// What OpenPppChannel accepts: CheckSessionConfig's rules, the session in
// `tunnel`, a managed tunnel; for L2TPv2, 16-bit session ids and no cookies.
absl::Status CheckPppSessionConfig(const TunnelConfig& tunnel, const SessionConfig& session);

// What ModifySession accepts, given the session as the backend holds it:
// `wanted` may differ from `current` only in kModifiableSessionFields.
// INVALID_ARGUMENT with InPlaceChangeMessage() otherwise.
absl::Status CheckSessionModify(const SessionConfig& current, const SessionConfig& wanted);

}  // namespace l2tp
