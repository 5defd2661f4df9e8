// The control connection's state machine (RFC 2661 section 7.2, RFC 3931
// section 3.3), as a table: for each state and event, what to do and the
// next state. ControlConnection (connection.h) turns received messages,
// timers and local requests into events and performs the actions; the
// table alone decides what is legal.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "control/fsm_table.h"

namespace l2tp::control {

enum class TunnelState : uint8_t {
  kIdle,         // nothing sent or received yet
  kWaitReply,    // initiator: SCCRQ sent, waiting for SCCRP
  kWaitConnect,  // responder: SCCRP sent, waiting for SCCCN
  kEstablished,  // sessions may be set up
  kClosing,      // StopCCN sent or received: lingering so the last acks get through
  kDown,         // over; the owner may start again
};
std::string_view TunnelStateName(TunnelState s);  // "IDLE", "WAIT_REPLY", ...

enum class TunnelEvent : uint8_t {
  kOpen,        // local: start as initiator
  kSccrq,       // an acceptable SCCRQ arrived
  kSccrp,       // an acceptable SCCRP arrived
  kScccn,       // an acceptable SCCCN arrived
  kBadMessage,  // a message failed its checks (missing AVP, bad challenge response, unknown M-bit AVP)
  kStopccn,     // the peer closes
  kClose,       // local: close
  kPeerSilent,  // reliable delivery gave up
  kLingerOver,  // the closing linger elapsed
};
std::string_view TunnelEventName(TunnelEvent e);

enum class TunnelAction : uint8_t {
  kNone,
  kSendSccrq,
  kSendSccrp,
  kSendScccn,
  kSendStopccn,  // then linger
  kEstablish,    // report ESTABLISHED (and send nothing: the ack is implicit)
  kLinger,       // peer's StopCCN acked; keep state for a retransmit cycle
  kGoDown,       // forget the connection
};

using TunnelTransition = Transition<TunnelState, TunnelAction>;

// What (state, event) does; nullopt when the event is not legal in that
// state (the message is dropped and counted as illegal).
std::optional<TunnelTransition> NextTunnelStep(TunnelState state, TunnelEvent event);

}  // namespace l2tp::control
