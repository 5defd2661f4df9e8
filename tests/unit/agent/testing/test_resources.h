// Builders for valid resources, so each test states only what it changes.
#pragma once

#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::testing {

inline l2tpagent::v1::Tunnel MakeTunnel(const std::string& name, uint32_t id,
                                        const std::string& local = "192.0.2.1",
                                        const std::string& remote = "192.0.2.2") {
  l2tpagent::v1::Tunnel t;
  t.set_name(name);
  auto* s = t.mutable_spec();
  s->set_tunnel_id(id);
  s->set_peer_tunnel_id(id + 1000);
  s->set_local(local);
  s->set_remote(remote);
  return t;
}

inline l2tpagent::v1::Session MakeSession(const std::string& name, const std::string& tunnel, uint32_t id) {
  l2tpagent::v1::Session s;
  s.set_name(name);
  auto* spec = s.mutable_spec();
  spec->set_tunnel(tunnel);
  spec->set_session_id(id);
  spec->set_peer_session_id(id + 1000);
  return s;
}

}  // namespace l2tp::testing
