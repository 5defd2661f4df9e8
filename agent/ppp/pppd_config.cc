#include "agent/ppp/pppd_config.h"

#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"
#include "agent/ppp/pppd_words.h"

namespace l2tp::ppp {
namespace {

absl::Status CheckPath(std::string_view field, std::string_view path) {
  if (absl::Status s = CheckPppdValue(field, path, 4095); !s.ok()) return s;
  if (path.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(Av(field), ": must be an absolute path"));
  }
  return absl::OkStatus();
}

void Line(std::string& out, std::string_view option) { absl::StrAppend(&out, Av(option), "\n"); }

}  // namespace

absl::StatusOr<std::vector<std::string>> BuildPppdArguments(const PppOptions& o, std::string_view pppd_path,
                                                            std::string_view options_path) {
  if (absl::Status s = ValidatePppOptions(o); !s.ok()) return s;
  if (absl::Status s = CheckPath("pppd_path", pppd_path); !s.ok()) return s;
  if (absl::Status s = CheckPath("options_path", options_path); !s.ok()) return s;
  std::vector<std::string> argv = {std::string(pppd_path), "plugin", "pppol2tp.so", "pppol2tp",
                                   absl::StrCat(o.pppol2tp_fd)};
  // The plugin's own options: they exist once it is loaded, so they follow it.
  if (o.lns_mode) argv.push_back("pppol2tp_lns_mode");
  if (o.tunnel_id != 0) argv.insert(argv.end(), {"pppol2tp_tunnel_id", absl::StrCat(o.tunnel_id)});
  if (o.session_id != 0) argv.insert(argv.end(), {"pppol2tp_session_id", absl::StrCat(o.session_id)});
  argv.insert(argv.end(), {"nodetach", "ifname", o.interface, "file", std::string(options_path)});
  return argv;
}

absl::StatusOr<std::string> BuildPppdOptionsFile(const PppOptions& o) {
  if (absl::Status s = ValidatePppOptions(o); !s.ok()) return s;
  const bool lac = o.side == PppSide::kLac;
  std::string out = absl::StrCat("# pppd options for one L2TP call (", lac ? "LAC" : "LNS",
                                 "), written by l2tp-agent; removed when the call ends.\n");
  // What the agent reads (pppd_log_parser.h).
  Line(out, "debug");          // packet dumps: LCP is open once both ConfAcks are logged
  Line(out, "logfd 1");        // log lines on stdout, the pipe the agent reads
  Line(out, "hide-password");  // PAP's AuthReq dump shows <hidden> (pppd's default, said anyway)

  // Authentication: PAP or CHAP only (or none, LNS), as the API offers; no
  // MS-CHAP or EAP.
  if (lac) {
    Line(out, "noauth");  // the LNS checks us; we hold no secret to check it with
    Line(out, absl::StrCat("user ", QuotePppdWord(o.user)));  // the secret is in the secrets files
    Line(out, "refuse-eap");
    Line(out, "refuse-mschap");
    Line(out, "refuse-mschap-v2");
  } else {
    if (o.authentication == PppAuthentication::kNone) {
      Line(out, "noauth");  // authentication NONE: any peer may connect
    } else {
      Line(out, "auth");  // the peer must authenticate, with the one method asked for
      Line(out, o.authentication == PppAuthentication::kPap ? "require-pap" : "require-chap");
    }
    // We never authenticate ourselves to a LAC (the secrets are the peers').
    Line(out, "refuse-pap");
    Line(out, "refuse-chap");
    Line(out, "refuse-eap");
    Line(out, "refuse-mschap");
    Line(out, "refuse-mschap-v2");
  }

  // Addresses and routes.
  if (lac) {
    Line(out, "noipdefault");  // our address comes from the LNS, not from our host name
    // The default route only when asked: it takes the host's traffic.
    Line(out, o.default_route ? "defaultroute" : "nodefaultroute");
    // The DNS servers the LNS offers, logged (pppd also writes them to
    // /etc/ppp/resolv.conf, which is the call's directory: never the host's).
    if (o.use_peer_dns) Line(out, "usepeerdns");
  } else {
    // Ours, and the peer's: the call's address from the pool.
    Line(out, absl::StrCat(o.local_address, ":", o.remote_address));
    // An LNS serves many peers: none of them is its way out.
    Line(out, "nodefaultroute");
    for (const std::string& dns : o.dns) Line(out, absl::StrCat("ms-dns ", dns));
  }

  // The link.
  if (o.mtu != 0) Line(out, absl::StrCat("mtu ", o.mtu));
  if (o.mru != 0) Line(out, absl::StrCat("mru ", o.mru));
  // A silent peer ends the call (exit 15) rather than hanging on.
  Line(out, absl::StrCat("lcp-echo-interval ", o.lcp_echo_interval));
  Line(out, absl::StrCat("lcp-echo-failure ", o.lcp_echo_failure));
  // No compression: it costs CPU per packet for little over a tunnel, and
  // the pppol2tp plugin turns deflate, BSD and VJ off itself; said here so
  // the file alone tells.
  Line(out, "noccp");
  Line(out, "nodeflate");
  Line(out, "nobsdcomp");
  Line(out, "novj");
  // Not written: noipx (IPX is off unless asked for, and pppd 2.5 no longer
  // knows the option), persist (the agent dials again itself).
  return out;
}

}  // namespace l2tp::ppp
