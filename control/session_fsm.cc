#include "control/session_fsm.h"

#include <array>

namespace l2tp::control {
namespace {

using S = SessionState;
using E = SessionEvent;
using A = SessionAction;

using Row = FsmRow<S, E, A>;

constexpr std::array kTable = {
    // Caller
    Row{S::kIdle, E::kOpen, A::kSendIcrq, S::kWaitReply},
    Row{S::kWaitReply, E::kIcrp, A::kSendIccn, S::kEstablished},
    // Answerer
    Row{S::kIdle, E::kIcrq, A::kSendIcrp, S::kWaitConnect},
    Row{S::kWaitConnect, E::kIccn, A::kEstablish, S::kEstablished},
    // A bad message ends the call with a CDN.
    Row{S::kIdle, E::kBadMessage, A::kSendCdn, S::kDown},
    Row{S::kWaitReply, E::kBadMessage, A::kSendCdn, S::kDown},
    Row{S::kWaitConnect, E::kBadMessage, A::kSendCdn, S::kDown},
    Row{S::kEstablished, E::kBadMessage, A::kSendCdn, S::kDown},
    // Either side ends it.
    Row{S::kWaitReply, E::kCdn, A::kGoDown, S::kDown},
    Row{S::kWaitConnect, E::kCdn, A::kGoDown, S::kDown},
    Row{S::kEstablished, E::kCdn, A::kGoDown, S::kDown},
    Row{S::kIdle, E::kClose, A::kGoDown, S::kDown},
    Row{S::kWaitReply, E::kClose, A::kSendCdn, S::kDown},
    Row{S::kWaitConnect, E::kClose, A::kSendCdn, S::kDown},
    Row{S::kEstablished, E::kClose, A::kSendCdn, S::kDown},
    Row{S::kIdle, E::kTunnelDown, A::kGoDown, S::kDown},
    Row{S::kWaitReply, E::kTunnelDown, A::kGoDown, S::kDown},
    Row{S::kWaitConnect, E::kTunnelDown, A::kGoDown, S::kDown},
    Row{S::kEstablished, E::kTunnelDown, A::kGoDown, S::kDown},
    // Late messages for a session that is over.
    Row{S::kDown, E::kCdn, A::kNone, S::kDown},
    Row{S::kDown, E::kClose, A::kNone, S::kDown},
    Row{S::kDown, E::kTunnelDown, A::kNone, S::kDown},
    // The next call: the answerer at once, the caller after its backoff.
    Row{S::kDown, E::kNextCall, A::kNone, S::kIdle},
};

}  // namespace

std::optional<SessionTransition> NextSessionStep(SessionState state, SessionEvent event) {
  return LookUp<S, E, A>(kTable, state, event);
}

std::string_view SessionStateName(SessionState s) {
  switch (s) {
    case S::kIdle: return "IDLE";
    case S::kWaitReply: return "WAIT_REPLY";
    case S::kWaitConnect: return "WAIT_CONNECT";
    case S::kEstablished: return "ESTABLISHED";
    case S::kDown: return "DOWN";
  }
  return "?";
}

std::string_view SessionEventName(SessionEvent e) {
  switch (e) {
    case E::kOpen: return "open";
    case E::kIcrq: return "ICRQ";
    case E::kIcrp: return "ICRP";
    case E::kIccn: return "ICCN";
    case E::kBadMessage: return "bad message";
    case E::kCdn: return "CDN";
    case E::kClose: return "close";
    case E::kTunnelDown: return "tunnel down";
    case E::kNextCall: return "next call";
  }
  return "?";
}

}  // namespace l2tp::control
