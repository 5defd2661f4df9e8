// What differs between the two kinds of resource, tunnels and sessions, so
// that code handling both (the registry) is written once, as a template over
// the resource type R with ResourceTraits<R> for the differences.
#pragma once

#include <string>

#include "agent/state/resource_key.h"
#include "agent/state/validation.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

template <typename R>
struct ResourceTraits;

// The accessors below are templates over the message or struct, so one name
// serves every type with a `tunnels`/`sessions` pair: DesiredState and the
// registry's config-file names (Of); ApplyRequest, ApplyResponse,
// ListResponse and the stored state (Repeated, Add); GetResponse and
// WatchEvent, which hold one resource of either kind (Set).
template <>
struct ResourceTraits<l2tpagent::v1::Tunnel> {
  using R = l2tpagent::v1::Tunnel;
  static constexpr l2tpagent::v1::ResourceKind kKind = l2tpagent::v1::RESOURCE_KIND_TUNNEL;
  static constexpr const char* kName = "tunnel";    // in messages
  static constexpr const char* kField = "tunnels";  // in requests, so in paths
  static std::string Key(const std::string& name) { return kTunnelKeyPrefix + name; }
  static constexpr auto Validate = ValidateTunnel;

  template <typename S>
  static auto& Of(S& s) {
    return s.tunnels;
  }
  template <typename M>
  static const auto& Repeated(const M& m) {
    return m.tunnels();
  }
  template <typename M>
  static R* Add(M* m) {
    return m->add_tunnels();
  }
  template <typename M>
  static R* Set(M* m) {
    return m->mutable_tunnel();
  }
  // The stored state's list of the names the --config file declared.
  template <typename M>
  static const auto& ConfigNames(const M& m) {
    return m.config_tunnels();
  }
  template <typename M>
  static std::string* AddConfigName(M* m) {
    return m->add_config_tunnels();
  }

  // The tunnel a resource belongs to (List's filter, metrics): itself.
  static const std::string& TunnelOf(const R& t) { return t.name(); }
  static std::string InterfaceOf(const R&) { return ""; }
};

template <>
struct ResourceTraits<l2tpagent::v1::Session> {
  using R = l2tpagent::v1::Session;
  static constexpr l2tpagent::v1::ResourceKind kKind = l2tpagent::v1::RESOURCE_KIND_SESSION;
  static constexpr const char* kName = "session";
  static constexpr const char* kField = "sessions";
  static std::string Key(const std::string& name) { return kSessionKeyPrefix + name; }
  static constexpr auto Validate = ValidateSessionAlone;

  template <typename S>
  static auto& Of(S& s) {
    return s.sessions;
  }
  template <typename M>
  static const auto& Repeated(const M& m) {
    return m.sessions();
  }
  template <typename M>
  static R* Add(M* m) {
    return m->add_sessions();
  }
  template <typename M>
  static R* Set(M* m) {
    return m->mutable_session();
  }
  template <typename M>
  static const auto& ConfigNames(const M& m) {
    return m.config_sessions();
  }
  template <typename M>
  static std::string* AddConfigName(M* m) {
    return m->add_config_sessions();
  }

  static const std::string& TunnelOf(const R& s) { return s.spec().tunnel(); }
  static std::string InterfaceOf(const R& s) { return s.spec().interface_name(); }
};

// Calls f.template operator()<R>() for each kind, tunnels first: the order in
// which resources are listed, created and reported.
template <typename F>
void ForEachKind(F&& f) {
  f.template operator()<l2tpagent::v1::Tunnel>();
  f.template operator()<l2tpagent::v1::Session>();
}

// The same, sessions first: the order of deletes (a tunnel outlives its sessions).
template <typename F>
void ForEachKindChildrenFirst(F&& f) {
  f.template operator()<l2tpagent::v1::Session>();
  f.template operator()<l2tpagent::v1::Tunnel>();
}

// Calls f.template operator()<R>() for the resource type of a kind known only
// at run time; false (and no call) for any other kind.
template <typename F>
bool ForKind(l2tpagent::v1::ResourceKind kind, F&& f) {
  switch (kind) {
    case l2tpagent::v1::RESOURCE_KIND_TUNNEL: f.template operator()<l2tpagent::v1::Tunnel>(); return true;
    case l2tpagent::v1::RESOURCE_KIND_SESSION: f.template operator()<l2tpagent::v1::Session>(); return true;
    default: return false;
  }
}

// "tunnel/NAME" or "session/NAME" for a kind known only at run time.
inline std::string KindKey(l2tpagent::v1::ResourceKind kind, const std::string& name) {
  std::string key;
  ForKind(kind, [&]<typename R>() { key = ResourceTraits<R>::Key(name); });
  return key;
}

}  // namespace l2tp
