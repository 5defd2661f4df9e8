#include "agent/control/status_proto.h"

#include "agent/state/names.h"
#include "google/protobuf/util/time_util.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
using google::protobuf::util::TimeUtil;

v1::ControlState ToProtoState(control::TunnelState s) {
  switch (s) {
    case control::TunnelState::kIdle: return v1::CONTROL_STATE_IDLE;
    case control::TunnelState::kWaitReply:
    case control::TunnelState::kWaitConnect: return v1::CONTROL_STATE_CONNECTING;
    case control::TunnelState::kEstablished: return v1::CONTROL_STATE_ESTABLISHED;
    case control::TunnelState::kClosing: return v1::CONTROL_STATE_CLOSING;
    case control::TunnelState::kDown: return v1::CONTROL_STATE_DOWN;
  }
  return v1::CONTROL_STATE_UNSPECIFIED;
}

v1::ControlState ToProtoState(control::SessionState s) {
  switch (s) {
    case control::SessionState::kIdle: return v1::CONTROL_STATE_IDLE;
    case control::SessionState::kWaitReply:
    case control::SessionState::kWaitConnect: return v1::CONTROL_STATE_CONNECTING;
    case control::SessionState::kEstablished: return v1::CONTROL_STATE_ESTABLISHED;
    case control::SessionState::kDown: return v1::CONTROL_STATE_DOWN;
  }
  return v1::CONTROL_STATE_UNSPECIFIED;
}

std::string DescribeTunnel(const control::TunnelStatus& s) {
  std::string out = "control connection " + std::string(control::TunnelStateName(s.state));
  return s.message.empty() ? out : out + ": " + s.message;
}

std::string DescribeSession(const control::SessionStatus& s) {
  std::string out = "control session " + std::string(control::SessionStateName(s.state));
  return s.message.empty() ? out : out + ": " + s.message;
}

v1::TunnelControlStatus ToProto(const control::TunnelStatus& s) {
  v1::TunnelControlStatus p;
  p.set_state(ToProtoState(s.state));
  p.set_tunnel_id(s.local_tunnel_id);
  p.set_peer_tunnel_id(s.peer_tunnel_id);
  p.set_peer_host_name(s.peer_host_name);
  p.set_peer_vendor(s.peer_vendor);
  if (s.hello_rtt) *p.mutable_hello_round_trip() = TimeUtil::MicrosecondsToDuration(s.hello_rtt->count());
  p.set_retransmissions(s.retransmissions);
  p.set_last_stop_reason(s.last_stop_reason);
  p.set_message(s.message);
  return p;
}

v1::SessionControlStatus ToProto(const control::SessionStatus& s) {
  v1::SessionControlStatus p;
  p.set_state(ToProtoState(s.state));
  p.set_session_id(s.local_session_id);
  p.set_peer_session_id(s.peer.session_id);
  p.set_peer_cookie(FormatCookie(s.peer.cookie));
  if (s.peer.l2_sublayer) {
    p.set_peer_l2_specific_sublayer(*s.peer.l2_sublayer == 0 ? v1::L2_SPECIFIC_SUBLAYER_NONE
                                                             : v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
  }
  p.set_message(s.message);
  return p;
}

}  // namespace l2tp
