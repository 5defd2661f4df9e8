#include "agent/control/handover.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace l2tp {

namespace store = ::l2tpagent::store::v1;

namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string String(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

store::ControlConnectionSnapshot ToProto(const std::string& tunnel, const HandedOver& h,
                                         const std::map<uint32_t, std::string>& session_names) {
  const control::ConnectionSnapshot& s = h.snapshot;
  store::ControlConnectionSnapshot p;
  p.set_tunnel(tunnel);
  p.set_generation(h.generation);
  p.set_local_tunnel_id(s.local_tunnel_id);
  p.set_peer_tunnel_id(s.peer_tunnel_id);
  p.set_peer_host_name(s.peer_host_name);
  p.set_peer_vendor(s.peer_vendor);
  p.set_send_next(s.send_next);
  p.set_receive_next(s.receive_next);
  p.set_peer_window(s.peer_window);
  p.set_our_nonce(String(s.our_nonce));
  p.set_peer_nonce(String(s.peer_nonce));
  if (s.calling) p.set_calling(*s.calling);
  for (const auto& session : s.sessions) {
    auto name = session_names.find(session.local_session_id);
    if (name == session_names.end()) continue;
    store::ControlSessionSnapshot* q = p.add_sessions();
    q->set_name(name->second);
    auto held = h.sessions.find(name->second);
    q->set_generation(held != h.sessions.end() ? held->second.first : 0);
    q->set_local_session_id(session.local_session_id);
    q->set_peer_session_id(session.peer.session_id);
    q->set_peer_cookie(String(session.peer.cookie));
    q->set_peer_pseudowire_type(session.peer.pseudowire_type);
    q->set_peer_remote_end_id(session.peer.remote_end_id);
    if (session.peer.l2_sublayer) q->set_peer_l2_sublayer(*session.peer.l2_sublayer);
    if (session.peer.data_sequencing) q->set_peer_data_sequencing(*session.peer.data_sequencing);
  }
  return p;
}

HandedOver FromProto(const store::ControlConnectionSnapshot& p) {
  HandedOver h;
  h.generation = p.generation();
  control::ConnectionSnapshot& s = h.snapshot;
  s.local_tunnel_id = p.local_tunnel_id();
  s.peer_tunnel_id = p.peer_tunnel_id();
  s.peer_host_name = p.peer_host_name();
  s.peer_vendor = p.peer_vendor();
  s.send_next = static_cast<uint16_t>(p.send_next());
  s.receive_next = static_cast<uint16_t>(p.receive_next());
  s.peer_window = static_cast<uint16_t>(p.peer_window());
  s.our_nonce = Bytes(p.our_nonce());
  s.peer_nonce = Bytes(p.peer_nonce());
  if (p.has_calling()) s.calling = p.calling();
  for (const store::ControlSessionSnapshot& q : p.sessions()) {
    control::ConnectionSnapshot::Session session;
    session.local_session_id = q.local_session_id();
    session.peer.session_id = q.peer_session_id();
    session.peer.cookie = Bytes(q.peer_cookie());
    session.peer.pseudowire_type = static_cast<uint16_t>(q.peer_pseudowire_type());
    session.peer.remote_end_id = q.peer_remote_end_id();
    if (q.has_peer_l2_sublayer()) session.peer.l2_sublayer = static_cast<uint16_t>(q.peer_l2_sublayer());
    if (q.has_peer_data_sequencing()) {
      session.peer.data_sequencing = static_cast<uint16_t>(q.peer_data_sequencing());
    }
    s.sessions.push_back(session);
    h.sessions[q.name()] = {q.generation(), q.local_session_id()};
  }
  return h;
}

absl::Status WriteHandover(const std::string& path, const store::ControlHandover& handover) {
  store::ControlHandover h = handover;
  h.set_written_unix_ms(NowUnixMs());
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("control handover: cannot write ", tmp));
  const std::string bytes = h.SerializeAsString();
  const bool ok = write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                  fsync(fd) == 0;
  const int err = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::ErrnoToStatus(ok ? errno : err, absl::StrCat("control handover: cannot write ", path));
  }
  return absl::OkStatus();
}

std::map<std::string, HandedOver> TakeHandover(const std::string& path, std::chrono::seconds max_age) {
  std::map<std::string, HandedOver> out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::stringstream buf;
  buf << in.rdbuf();
  unlink(path.c_str());  // used once: a crash right after must not resume stale sequence numbers
  store::ControlHandover h;
  if (!h.ParseFromString(buf.str())) {
    L2TP_LOG(kWarning) << "control handover: " << path << " does not parse; connections start afresh";
    return out;
  }
  const int64_t age_ms = NowUnixMs() - h.written_unix_ms();
  if (age_ms < 0 || age_ms > std::chrono::milliseconds(max_age).count()) {
    L2TP_LOG(kInfo) << "control handover: written " << age_ms / 1000 << " s ago, over the " << max_age.count()
                    << " s limit; connections start afresh";
    return out;
  }
  for (const store::ControlConnectionSnapshot& c : h.connections()) out[c.tunnel()] = FromProto(c);
  L2TP_LOG(kInfo) << "control handover: " << out.size() << " connections from the previous run (stopped "
                  << age_ms << " ms ago)";
  return out;
}

}  // namespace l2tp
