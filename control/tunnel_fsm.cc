#include "control/tunnel_fsm.h"

#include <array>

namespace l2tp::control {
namespace {

using S = TunnelState;
using E = TunnelEvent;
using A = TunnelAction;

using Row = FsmRow<S, E, A>;

// Anything not listed is illegal in that state. Closing and Down absorb
// late messages: the reliable layer still acks them, nothing else happens.
constexpr std::array kTable = {
    // Initiator
    Row{S::kIdle, E::kOpen, A::kSendSccrq, S::kWaitReply},
    Row{S::kWaitReply, E::kSccrp, A::kSendScccn, S::kEstablished},
    Row{S::kWaitReply, E::kBadMessage, A::kSendStopccn, S::kClosing},
    // Responder
    Row{S::kIdle, E::kSccrq, A::kSendSccrp, S::kWaitConnect},
    Row{S::kIdle, E::kBadMessage, A::kSendStopccn, S::kClosing},
    Row{S::kWaitConnect, E::kScccn, A::kEstablish, S::kEstablished},
    Row{S::kWaitConnect, E::kBadMessage, A::kSendStopccn, S::kClosing},
    // Established
    Row{S::kEstablished, E::kBadMessage, A::kSendStopccn, S::kClosing},
    // Either side, any live state
    Row{S::kWaitReply, E::kStopccn, A::kLinger, S::kClosing},
    Row{S::kWaitConnect, E::kStopccn, A::kLinger, S::kClosing},
    Row{S::kEstablished, E::kStopccn, A::kLinger, S::kClosing},
    Row{S::kIdle, E::kClose, A::kGoDown, S::kDown},
    Row{S::kWaitReply, E::kClose, A::kSendStopccn, S::kClosing},
    Row{S::kWaitConnect, E::kClose, A::kSendStopccn, S::kClosing},
    Row{S::kEstablished, E::kClose, A::kSendStopccn, S::kClosing},
    Row{S::kWaitReply, E::kPeerSilent, A::kGoDown, S::kDown},
    Row{S::kWaitConnect, E::kPeerSilent, A::kGoDown, S::kDown},
    Row{S::kEstablished, E::kPeerSilent, A::kGoDown, S::kDown},
    Row{S::kClosing, E::kPeerSilent, A::kGoDown, S::kDown},
    Row{S::kClosing, E::kLingerOver, A::kGoDown, S::kDown},
    // Late or repeated messages while closing: nothing more to do.
    Row{S::kClosing, E::kStopccn, A::kNone, S::kClosing},
    Row{S::kClosing, E::kClose, A::kNone, S::kClosing},
    Row{S::kClosing, E::kBadMessage, A::kNone, S::kClosing},
    Row{S::kClosing, E::kSccrp, A::kNone, S::kClosing},
    Row{S::kClosing, E::kScccn, A::kNone, S::kClosing},
    Row{S::kDown, E::kClose, A::kNone, S::kDown},
    // A responder that went down answers the peer's next attempt.
    Row{S::kDown, E::kSccrq, A::kSendSccrp, S::kWaitConnect},
};

}  // namespace

std::optional<TunnelTransition> NextTunnelStep(TunnelState state, TunnelEvent event) {
  return LookUp<S, E, A>(kTable, state, event);
}

std::string_view TunnelStateName(TunnelState s) {
  switch (s) {
    case S::kIdle: return "IDLE";
    case S::kWaitReply: return "WAIT_REPLY";
    case S::kWaitConnect: return "WAIT_CONNECT";
    case S::kEstablished: return "ESTABLISHED";
    case S::kClosing: return "CLOSING";
    case S::kDown: return "DOWN";
  }
  return "?";
}

std::string_view TunnelEventName(TunnelEvent e) {
  switch (e) {
    case E::kOpen: return "open";
    case E::kSccrq: return "SCCRQ";
    case E::kSccrp: return "SCCRP";
    case E::kScccn: return "SCCCN";
    case E::kBadMessage: return "bad message";
    case E::kStopccn: return "StopCCN";
    case E::kClose: return "close";
    case E::kPeerSilent: return "peer silent";
    case E::kLingerOver: return "linger over";
  }
  return "?";
}

}  // namespace l2tp::control
