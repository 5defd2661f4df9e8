// A session's state machine (incoming calls: RFC 2661 section 7.4.1 and
// 7.4.2, RFC 3931 section 3.4.1), as a table like tunnel_fsm.h. The side
// that owns the tunnel's INITIATOR role places the call (ICRQ); the other
// answers (ICRP) and the caller confirms (ICCN). Either side may end it (CDN).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "control/fsm_table.h"

namespace l2tp::control {

enum class SessionState : uint8_t {
  kIdle,
  kWaitReply,    // caller: ICRQ sent, waiting for ICRP
  kWaitConnect,  // answerer: ICRP sent, waiting for ICCN
  kEstablished,  // the datapath session may carry traffic
  kDown,
};
std::string_view SessionStateName(SessionState s);

enum class SessionEvent : uint8_t {
  kOpen,        // local: place the call (the tunnel is established)
  kIcrq,        // an acceptable ICRQ arrived
  kIcrp,        // an acceptable ICRP arrived
  kIccn,        // an acceptable ICCN arrived
  kBadMessage,  // failed its checks, or no matching pseudowire here
  kCdn,         // the peer ends the session
  kClose,       // local: end it
  kTunnelDown,  // the control connection is gone
  kNextCall,    // local: a call that ended is over; the session waits for (or places) the next
};
std::string_view SessionEventName(SessionEvent e);

enum class SessionAction : uint8_t {
  kNone,
  kSendIcrq,
  kSendIcrp,
  kSendIccn,  // and establish
  kEstablish,
  kSendCdn,  // and go down
  kGoDown,
};

using SessionTransition = Transition<SessionState, SessionAction>;

std::optional<SessionTransition> NextSessionStep(SessionState state, SessionEvent event);

}  // namespace l2tp::control
