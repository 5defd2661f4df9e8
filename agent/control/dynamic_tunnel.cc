// A frame's way in: socket (or the datapath's sink) -> Receive: IPv4 header
// off, control frame of this connection?, SCCRQ rate limit, decode with the
// secret, Message Digest checked (v3 with a secret) -> ControlConnection::Receive.
// Out: the connection's Transmit -> encode (and sign, v3 with a secret)
// -> send() on the connected socket.
#include "agent/control/dynamic_tunnel.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "agent/control/status_proto.h"
#include "agent/reconcile/datapath_config.h"
#include "agent/state/names.h"
#include "agent/state/spec_defaults.h"
#include "common/log.h"
#include "control/auth.h"
#include "google/protobuf/util/time_util.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
using control::TimePoint;
using google::protobuf::util::TimeUtil;

namespace {

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

constexpr int kMaxSccrqPerSecond = 10;
constexpr size_t kMaxFrame = 65535;

control::Duration Millis(const google::protobuf::Duration& d) {
  return control::Duration(TimeUtil::DurationToMilliseconds(d));
}

// The offset of the L2TP header behind an IPv4 header; 0 when malformed.
size_t Ipv4HeaderLength(std::span<const uint8_t> packet) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) return 0;
  const size_t ihl = (packet[0] & 0x0f) * 4u;
  return ihl >= 20 && ihl <= packet.size() ? ihl : 0;
}

control::TunnelOptions OptionsOf(const DynamicTunnel::Params& p) {
  const v1::TunnelControl& c = p.tunnel.spec().control();
  control::TunnelOptions o;
  o.version = static_cast<uint8_t>(p.tunnel.spec().version() == 2 ? control::kL2tpV2 : control::kL2tpV3);
  o.initiator = c.role() == v1::TunnelControl::ROLE_INITIATOR;
  o.local_tunnel_id = p.local_tunnel_id;
  o.host_name = p.host_name;
  o.secret = p.secret;
  if (c.has_hello_interval()) o.hello_interval = Millis(c.hello_interval());
  if (c.retransmit_retries() != 0) o.retransmit_retries = static_cast<int>(c.retransmit_retries());
  if (c.receive_window() != 0) o.receive_window = static_cast<uint16_t>(c.receive_window());
  o.router_id = p.local_tunnel_id;
  if (p.offer_ppp) o.pseudowire_types = {control::kPseudowireEth, control::kPseudowirePpp};
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DynamicTunnel>> DynamicTunnel::Open(Params params, Datapath* datapath,
                                                                   TimePoint now, ControlUpdates* updates) {
  TunnelConfig config = ToTunnelConfig(params.tunnel.spec());
  config.tunnel_id = params.local_tunnel_id;
  auto socket = datapath->OpenManagedSocket(config);
  if (!socket.ok()) return socket.status();
  std::unique_ptr<DynamicTunnel> t(new DynamicTunnel(std::move(params), *socket, updates));
  t->TunnelChanged(t->connection_->status());  // IDLE, for the API
  if (t->connection_->options().initiator && !t->params_.resume) t->connection_->Open(now);
  return t;
}

DynamicTunnel::DynamicTunnel(Params params, ManagedSocket socket, ControlUpdates* updates)
    : params_(std::move(params)),
      socket_(socket),
      transport_(params_.tunnel.spec().encap() == v1::ENCAPSULATION_IP ? control::Transport::kIp
                                                                       : control::Transport::kUdp),
      updates_(updates),
      random_(std::random_device{}()) {
  if (!params_.secret.empty() && params_.tunnel.spec().version() != 2) {
    digest_key_ = control::V3SharedKey(params_.secret);
  }
  connection_ = std::make_unique<control::ControlConnection>(OptionsOf(params_),
                                                             static_cast<control::ConnectionEvents*>(this));
}

DynamicTunnel::~DynamicTunnel() {
  connection_.reset();
  if (socket_.fd >= 0) close(socket_.fd);
}

// ---- in

void DynamicTunnel::Receive(TimePoint now, std::span<const uint8_t> frame, bool as_read_from_socket) {
  if (as_read_from_socket && socket_.receives_ipv4_header) {
    const size_t ihl = Ipv4HeaderLength(frame);
    if (ihl == 0) {
      ++malformed_frames_;
      return;
    }
    frame = frame.subspan(ihl);
  }
  std::vector<uint8_t> with_session_id;
  if (as_read_from_socket && socket_.kernel_l2tp_ip) {
    // Read from the kernel's L2TP/IP socket: put back the zero session id
    // the codec expects over IP.
    with_session_id.assign(4, 0);
    with_session_id.insert(with_session_id.end(), frame.begin(), frame.end());
    frame = with_session_id;
  }
  if (!control::IsControlFrame(frame, transport_)) {
    ++unexpected_frames_;  // data before the datapath holds the tunnel
    return;
  }
  auto m = control::DecodeControlMessage(frame, transport_, params_.secret);
  if (!m.ok()) {
    ++malformed_frames_;
    L2TP_LOG(kDebug) << "control: tunnel/" << params_.name << ": dropped a frame: " << m.status().message();
    return;
  }
  if (digest_key_) {
    absl::Status st = control::VerifyAuthenticated(frame, transport_, *m, *digest_key_,
                                                   connection_->our_nonce(), connection_->peer_nonce());
    if (!st.ok()) {
      ++auth_failures_;
      L2TP_LOG(kDebug) << "control: tunnel/" << params_.name << ": dropped: " << st.message();
      return;
    }
  }
  const uint32_t to = m->header.tunnel_id;
  if (to != params_.local_tunnel_id) {
    // Connection id 0 is an SCCRQ (or a StopCCN to one); anything else is
    // for another connection sharing the remote (raw IP sockets see all).
    // A retired connection lingers for the acks of its StopCCN only: a new
    // connection is not for it (the one that replaced it has its socket).
    if (to != 0 || closing_) {
      ++unexpected_frames_;
      return;
    }
    if (now - sccrq_window_start_ >= std::chrono::seconds(1)) {
      sccrq_window_start_ = now;
      sccrq_in_window_ = 0;
    }
    if (++sccrq_in_window_ > kMaxSccrqPerSecond) {
      ++unexpected_frames_;
      return;
    }
  }
  connection_->Receive(now, *m);
}

void DynamicTunnel::ReadSocket(TimePoint now, int budget) {
  static thread_local std::vector<uint8_t> buf(kMaxFrame);
  for (int i = 0; i < budget; ++i) {
    const ssize_t n = recv(socket_.fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) return;  // EAGAIN, or an ICMP error reported on the connected socket
    Receive(now, {buf.data(), static_cast<size_t>(n)}, /*as_read_from_socket=*/true);
  }
}

void DynamicTunnel::OnTimer(TimePoint now) {
  if (auto d = connection_->NextDeadline(); d && *d <= now) connection_->OnTimer(now);
}

std::optional<TimePoint> DynamicTunnel::NextDeadline() const { return connection_->NextDeadline(); }

// ---- out

void DynamicTunnel::Transmit(const control::ControlMessage& m) {
  auto bytes = digest_key_ ? control::EncodeAuthenticated(m, transport_, params_.secret, *digest_key_,
                                                          connection_->our_nonce(), connection_->peer_nonce())
                           : control::EncodeControlMessage(m, transport_, params_.secret);
  if (!bytes.ok()) {
    L2TP_LOG(kError) << "control: tunnel/" << params_.name << ": cannot encode: " << bytes.status().message();
    return;
  }
  // The kernel's L2TP/IP socket adds the zero session id itself.
  const size_t skip = socket_.kernel_l2tp_ip ? 4 : 0;
  // A lost send is a lost datagram: reliable delivery sends it again.
  if (send(socket_.fd, bytes->data() + skip, bytes->size() - skip, MSG_DONTWAIT) < 0) {
    L2TP_LOG(kDebug) << "control: tunnel/" << params_.name << ": send: " << std::strerror(errno);
  }
}

void DynamicTunnel::TunnelChanged(const control::TunnelStatus& status) {
  v1::TunnelControlStatus p = ToProto(status);
  const bool transition = !last_state_ || *last_state_ != status.state;
  if (status.hello_acks > hello_acks_seen_ && status.hello_rtt) {  // one sample per HELLO acked
    hello_acks_seen_ = status.hello_acks;
    updates_->hello_round_trips.push_back(std::chrono::duration<double>(*status.hello_rtt).count());
  }
  if (transition) {
    last_state_ = status.state;
    last_transition_ = TimeUtil::GetCurrentTime();
    updates_->up_or_down = true;
    updates_->events.push_back({v1::RESOURCE_KIND_TUNNEL, params_.name, DescribeTunnel(status)});
  }
  *p.mutable_last_transition_time() = last_transition_;
  updates_->tunnels.emplace_back(params_.name, std::move(p));
}

void DynamicTunnel::CallRefused(const std::string& why) {
  L2TP_LOG(kInfo) << "control: tunnel/" << params_.name << ": refused the peer's call: " << why;
  updates_->events.push_back(
      {v1::RESOURCE_KIND_TUNNEL, params_.name, absl::StrCat("refused the peer's call: ", why)});
}

void DynamicTunnel::SessionChanged(const control::SessionStatus& status) {
  Session* s = FindByLocalId(status.local_session_id);
  if (s == nullptr) return;  // being removed
  const bool transition = s->status.state != status.state || s->status.message.empty();
  if (status.state == control::SessionState::kEstablished &&
      s->status.state != control::SessionState::kEstablished) {
    ++s->epoch;
  }
  if (s->ppp && s->status.state == control::SessionState::kEstablished &&
      status.state != control::SessionState::kEstablished) {
    ended_why_[status.local_session_id] = status.message;
  }
  s->status = status;
  v1::SessionControlStatus p = ToProto(status);
  *p.mutable_last_transition_time() = TimeUtil::GetCurrentTime();
  if (transition) {
    updates_->up_or_down = true;
    updates_->events.push_back({v1::RESOURCE_KIND_SESSION, s->resource.name(), DescribeSession(status)});
  }
  updates_->sessions.emplace_back(s->resource.name(), std::move(p));
}

uint32_t DynamicTunnel::NextCallSessionId(uint32_t current) {
  Session* s = FindByLocalId(current);
  if (s == nullptr || !params_.pick_session_id) return current;
  // An id the spec sets stays (an LNS template's sets its first call's).
  if (s->resource.spec().session_id() != 0 && s->slot <= 1) return current;
  const uint32_t id = params_.pick_session_id(params_.tunnel.spec().version() == 2 ? 0xffff : 0xffffffff);
  if (id == 0) return current;
  s->local_id = id;
  updates_->up_or_down = true;  // the report's ids change
  return id;
}

void DynamicTunnel::Random(std::span<uint8_t> out) {
  for (uint8_t& b : out) b = static_cast<uint8_t>(random_());
}

// ---- sessions

control::LocalSession DynamicTunnel::LocalSessionOf(const Session& s) const {
  const v1::SessionSpec& spec = s.resource.spec();
  control::LocalSession l;
  l.session_id = s.local_id;
  l.pseudowire_type = s.ppp ? control::kPseudowirePpp : control::kPseudowireEth;
  l.remote_end_id = spec.remote_end_id();
  std::string error;
  l.receive_cookie = ParseCookie(spec.peer_cookie(), &error).value_or(std::vector<uint8_t>{});
  l.l2_sublayer = spec.l2_specific_sublayer() == v1::L2_SPECIFIC_SUBLAYER_NONE ? 0 : 1;
  l.data_sequencing = spec.require_sequence() ? 2 : 0;
  return l;
}

uint32_t DynamicTunnel::CallSlots(const v1::Tunnel& tunnel, const v1::Session& session) {
  if (!IsPppLns(tunnel.spec(), session.spec())) return 1;
  return std::max<uint32_t>(1, session.spec().ppp().max_sessions());
}

void DynamicTunnel::AddSession(TimePoint now, const v1::Session& session,
                               const std::vector<uint32_t>& local_session_ids) {
  const bool lns = IsPppLns(params_.tunnel.spec(), session.spec());
  for (size_t i = 0; i < local_session_ids.size(); ++i) {
    const std::string key = lns ? absl::StrCat(session.name(), "#", i + 1) : session.name();
    Session& s = sessions_[key];
    s.resource = session;
    s.local_id = local_session_ids[i];
    s.status = {};
    s.slot = lns ? static_cast<uint32_t>(i + 1) : 0;
    s.epoch = 0;
    s.ppp = session.spec().pseudowire() == v1::PSEUDOWIRE_PPP;
    connection_->AddSession(now, LocalSessionOf(s));
  }
}

void DynamicTunnel::RemoveSession(TimePoint now, const std::string& name, const std::string& why) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.resource.name() != name) {
      ++it;
      continue;
    }
    const uint32_t id = it->second.local_id;
    it = sessions_.erase(it);
    connection_->RemoveSession(now, id, why);
    updates_->up_or_down = true;
  }
}

std::map<std::string, uint64_t> DynamicTunnel::SessionGenerations() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [key, s] : sessions_) out[s.resource.name()] = s.resource.generation();
  return out;
}

std::vector<uint32_t> DynamicTunnel::SessionIds() const {
  std::vector<uint32_t> out;
  for (const auto& [name, s] : sessions_) out.push_back(s.local_id);
  return out;
}

DynamicTunnel::Session* DynamicTunnel::FindByLocalId(uint32_t id) {
  for (auto& [name, s] : sessions_) {
    if (s.local_id == id) return &s;
  }
  return nullptr;
}

// PPP calls are not carried across a restart: their pppd and channel end
// with the agent, so the next run's Resume ends them with a CDN and the
// caller places them again.
std::map<uint32_t, std::string> DynamicTunnel::SessionNames() const {
  std::map<uint32_t, std::string> out;
  for (const auto& [name, s] : sessions_) {
    if (!s.ppp) out[s.local_id] = name;
  }
  return out;
}

void DynamicTunnel::Resume(TimePoint now, const control::ConnectionSnapshot& snapshot) {
  connection_->Resume(now, snapshot);
}

// ---- lifetime

void DynamicTunnel::Close(TimePoint now, const std::string& why) {
  if (closing_) return;
  closing_ = true;
  for (const auto& [name, s] : sessions_) connection_->RemoveSession(now, s.local_id, why);
  sessions_.clear();
  connection_->Close(now, why);
}

bool DynamicTunnel::SameSocketAs(const DynamicTunnel& other) const {
  const v1::TunnelSpec& a = params_.tunnel.spec();
  const v1::TunnelSpec& b = other.params_.tunnel.spec();
  return a.encap() == b.encap() && a.local() == b.local() && a.remote() == b.remote() &&
         a.udp_source_port() == b.udp_source_port() && a.udp_destination_port() == b.udp_destination_port();
}

bool DynamicTunnel::Done() const {
  return closing_ &&
         (status().state == control::TunnelState::kDown || status().state == control::TunnelState::kIdle);
}

// ---- datapath

std::optional<TunnelConfig> DynamicTunnel::DatapathTunnel() const {
  const control::TunnelStatus& st = status();
  if (closing_ || st.state != control::TunnelState::kEstablished || socket_.fd < 0) return std::nullopt;
  TunnelConfig c = ToTunnelConfig(params_.tunnel.spec());
  c.tunnel_id = params_.local_tunnel_id;
  c.peer_tunnel_id = st.peer_tunnel_id;
  c.socket_fd = socket_.fd;
  return c;
}

std::optional<SessionConfig> DynamicTunnel::DatapathSession(const std::string& name) const {
  auto it = sessions_.find(name);
  if (it == sessions_.end() || it->second.ppp || !DatapathTunnel()) return std::nullopt;
  const Session& s = it->second;
  if (s.status.state != control::SessionState::kEstablished) return std::nullopt;
  return ConfigOf(s);
}

// The session's datapath config as if its spec were written by hand: our
// ids and the cookie the peer assigned.
SessionConfig DynamicTunnel::ConfigOf(const Session& s) const {
  v1::TunnelSpec tunnel = params_.tunnel.spec();
  tunnel.set_tunnel_id(params_.local_tunnel_id);
  v1::SessionSpec spec = s.resource.spec();
  spec.set_session_id(s.local_id);
  spec.set_peer_session_id(s.status.peer.session_id);
  spec.set_cookie(FormatCookie(s.status.peer.cookie));
  if (s.status.peer.data_sequencing.value_or(0) != 0) spec.set_send_sequence(true);
  return ToSessionConfig(tunnel, spec);
}

std::string DynamicTunnel::SessionWaiting(const std::string& name) const {
  auto it = sessions_.find(name);
  if (it == sessions_.end()) it = sessions_.find(absl::StrCat(name, "#1"));  // an LNS template
  if (it == sessions_.end()) return "not known to the control connection";
  if (!DatapathTunnel()) return "waiting for the tunnel's control connection";
  if (it->second.ppp && !DatapathHoldsTunnel()) return "waiting for the datapath to hold the tunnel";
  return DescribeSession(it->second.status);
}

// ---- PPP calls

bool DynamicTunnel::DatapathHoldsTunnel() const {
  return DatapathTunnel().has_value() && socket_handed_ && !socket_spent_;
}

bool DynamicTunnel::HasPpp() const {
  return std::any_of(sessions_.begin(), sessions_.end(), [](const auto& kv) { return kv.second.ppp; });
}

std::vector<DynamicTunnel::PppCallUp> DynamicTunnel::PppCallsUp() const {
  std::vector<PppCallUp> out;
  if (!DatapathHoldsTunnel()) return out;
  const std::optional<TunnelConfig> tunnel = DatapathTunnel();
  for (const auto& [key, s] : sessions_) {
    if (!s.ppp || s.status.state != control::SessionState::kEstablished) continue;
    PppCallUp c;
    c.epoch = s.epoch;
    c.start.session = s.resource.name();
    c.start.slot = s.slot;
    c.start.lns = IsPppLns(params_.tunnel.spec(), s.resource.spec());
    c.start.tunnel = *tunnel;
    c.start.session_config = ConfigOf(s);
    // An LNS template's interface_name is the prefix of its calls' names.
    if (c.start.lns)
      c.start.session_config.interface_name = absl::StrCat(s.resource.spec().interface_name(), s.slot);
    c.start.ppp = s.resource.spec().ppp();
    out.push_back(std::move(c));
  }
  return out;
}

std::string DynamicTunnel::TakeEndedWhy(uint32_t local_session_id) {
  auto it = ended_why_.find(local_session_id);
  if (it == ended_why_.end()) return "";
  std::string why = std::move(it->second);
  ended_why_.erase(it);
  return why;
}

void DynamicTunnel::HangUpCall(TimePoint now, uint32_t local_session_id, uint64_t epoch,
                               const control::ResultCode& result) {
  Session* s = FindByLocalId(local_session_id);
  if (s == nullptr || s->epoch != epoch) return;  // that call is over already
  connection_->HangUp(now, local_session_id, result);
}

std::optional<DynamicObjects::UpWithoutDatapath> DynamicTunnel::PppSessionUp(const std::string& name) const {
  if (!DatapathHoldsTunnel()) return std::nullopt;
  DynamicObjects::UpWithoutDatapath out;
  uint32_t slots = 0;
  bool lns = false;
  for (const auto& [key, s] : sessions_) {
    if (s.resource.name() != name || !s.ppp) continue;
    ++slots;
    lns = s.slot != 0;
    if (s.status.state == control::SessionState::kEstablished)
      out.calls.push_back({params_.local_tunnel_id, s.local_id});
  }
  if (slots == 0 || (!lns && out.calls.empty())) return std::nullopt;
  out.message = lns ? absl::StrCat("accepting calls: ", out.calls.size(), " of ", slots, " in use")
                    : "call ESTABLISHED; its PPP link is in ppp_calls";
  return out;
}

void DynamicTunnel::SetDatapathReads(bool reads) {
  if (datapath_reads_ && !reads && transport_ == control::Transport::kUdp) {
    int off = 0;
    setsockopt(socket_.fd, IPPROTO_UDP, UDP_GRO, &off, sizeof off);
  }
  datapath_reads_ = reads;
}

void DynamicTunnel::SocketHanded() {
  socket_handed_ = true;
  handed_peer_tunnel_id_ = status().peer_tunnel_id;
}

bool DynamicTunnel::NeedsNewSocket() const {
  if (!socket_handed_) return false;
  return socket_spent_ || (status().state == control::TunnelState::kEstablished &&
                           status().peer_tunnel_id != handed_peer_tunnel_id_);
}

absl::Status DynamicTunnel::ReplaceSocket(Datapath* datapath) {
  TunnelConfig config = ToTunnelConfig(params_.tunnel.spec());
  config.tunnel_id = params_.local_tunnel_id;
  config.peer_tunnel_id = status().peer_tunnel_id;
  // Closed first: an L2TP/IP socket for the same connection id cannot be
  // bound while the old one is open.
  close(socket_.fd);
  socket_.fd = -1;
  auto socket = datapath->OpenManagedSocket(config);
  if (!socket.ok()) return socket.status();
  socket_ = *socket;
  socket_handed_ = socket_spent_ = datapath_reads_ = false;
  return absl::OkStatus();
}

ControlCounters DynamicTunnel::counters() const {
  ControlCounters c;
  const control::ConnectionStats& s = connection_->stats();
  for (int i = 0; i < ControlCounters::kMessageTypes; ++i) {
    c.sent[i] = s.messages_sent[i];
    c.received[i] = s.messages_received[i];
  }
  c.retransmissions = status().retransmissions;
  c.auth_failures = s.auth_failures + auth_failures_;
  c.malformed = s.malformed + malformed_frames_;
  c.illegal = s.illegal;
  c.out_of_window = connection_->reliable_stats().out_of_window;
  c.unexpected_peer = unexpected_frames_;
  return c;
}

}  // namespace l2tp
