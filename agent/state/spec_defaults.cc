#include "agent/state/spec_defaults.h"

#include "agent/state/names.h"
#include "datapath/ip_address.h"

namespace l2tp {

namespace v1 = ::l2tpagent::v1;
namespace {

std::string CanonicalAddress(const std::string& text) {
  auto addr = IpAddress::Parse(text);
  return addr ? addr->ToString() : text;
}

std::string CanonicalCookie(const std::string& text) {
  std::string error;
  auto bytes = ParseCookie(text, &error);
  return bytes ? FormatCookie(*bytes) : text;
}

}  // namespace

bool IsDynamic(const v1::TunnelSpec& spec) {
  return spec.has_control() && spec.control().mode() == v1::TunnelControl::MODE_DYNAMIC;
}

bool IsL2tpv2(const v1::TunnelSpec& spec) { return IsDynamic(spec) && spec.version() == 2; }

bool IsPppLns(const v1::TunnelSpec& tunnel, const v1::SessionSpec& session) {
  return session.pseudowire() == v1::PSEUDOWIRE_PPP && IsDynamic(tunnel) &&
         tunnel.control().role() == v1::TunnelControl::ROLE_RESPONDER;
}

void NormalizeTunnelSpec(v1::TunnelSpec* spec) {
  if (spec->version() == 0) spec->set_version(3);
  if (spec->encap() == v1::ENCAPSULATION_UNSPECIFIED) spec->set_encap(v1::ENCAPSULATION_UDP);
  if (spec->encap() == v1::ENCAPSULATION_UDP) {
    if (spec->udp_source_port() == 0) spec->set_udp_source_port(kDefaultL2tpPort);
    if (spec->udp_destination_port() == 0) spec->set_udp_destination_port(kDefaultL2tpPort);
  }
  spec->set_local(CanonicalAddress(spec->local()));
  spec->set_remote(CanonicalAddress(spec->remote()));
  if (spec->has_control()) {
    v1::TunnelControl bare = spec->control();
    if (bare.mode() == v1::TunnelControl::MODE_STATIC) bare.clear_mode();
    if (bare.ByteSizeLong() == 0) spec->clear_control();  // STATIC and nothing else: as unset
  }
}

void NormalizeSessionSpec(const v1::TunnelSpec& tunnel, v1::SessionSpec* spec) {
  NormalizeSessionSpec(tunnel, "", spec);
}

void NormalizeSessionSpec(const v1::TunnelSpec& tunnel, const std::string& session_name,
                          v1::SessionSpec* spec) {
  if (spec->pseudowire() == v1::PSEUDOWIRE_UNSPECIFIED) spec->set_pseudowire(v1::PSEUDOWIRE_ETH);
  if (spec->l2_specific_sublayer() == v1::L2_SPECIFIC_SUBLAYER_UNSPECIFIED) {
    // L2TPv2 has no L2-specific sublayer: its sequence numbers are in its own header.
    spec->set_l2_specific_sublayer(IsL2tpv2(tunnel) ? v1::L2_SPECIFIC_SUBLAYER_NONE
                                                    : v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
  }
  spec->set_cookie(CanonicalCookie(spec->cookie()));
  spec->set_peer_cookie(CanonicalCookie(spec->peer_cookie()));
  const bool lns = IsPppLns(tunnel, *spec);
  if (lns && spec->ppp().authentication() == v1::PPP_AUTHENTICATION_UNSPECIFIED) {
    spec->mutable_ppp()->set_authentication(v1::PPP_AUTHENTICATION_CHAP);
  }
  if (spec->interface_name().empty() && lns) {
    spec->set_interface_name(DefaultPppInterfacePrefix(session_name));
  } else if (spec->interface_name().empty()) {
    // Ids picked at run time cannot name the interface: the spec holds 0.
    const bool ids_picked = IsDynamic(tunnel) && (tunnel.tunnel_id() == 0 || spec->session_id() == 0);
    spec->set_interface_name(ids_picked && !session_name.empty()
                                 ? DefaultInterfaceNameForSession(session_name)
                                 : DefaultInterfaceName(tunnel.tunnel_id(), spec->session_id()));
  }
  if (spec->has_reorder_timeout() && spec->reorder_timeout().seconds() == 0 &&
      spec->reorder_timeout().nanos() == 0) {
    spec->clear_reorder_timeout();  // 0 and unset mean the same
  }
}

}  // namespace l2tp
