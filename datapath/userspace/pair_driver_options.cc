#include "datapath/userspace/pair_driver_options.h"

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace l2tp::userspace {
namespace {

absl::Status ParseU32(const std::string& name, const std::string& v, uint32_t* out) {
  if (!absl::SimpleAtoi(v, out)) return absl::InvalidArgumentError(absl::StrCat("bad --", name));
  return absl::OkStatus();
}

absl::Status ParseCookie(const std::string& name, const std::string& hex, std::vector<uint8_t>* out) {
  bool hex_only = hex.size() % 2 == 0 && hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!hex_only) return absl::InvalidArgumentError(absl::StrCat("--", name, " wants hex"));
  std::string bytes = absl::HexStringToBytes(hex);
  out->assign(bytes.begin(), bytes.end());
  return absl::OkStatus();
}

absl::Status ParseAddress(const std::string& name, const std::string& v, IpAddress* out) {
  auto a = IpAddress::Parse(v);
  if (!a) return absl::InvalidArgumentError(absl::StrCat("bad address for --", name));
  *out = *a;
  return absl::OkStatus();
}

}  // namespace

std::string DriverUsage() {
  return "l2tp-userspace-driver --local=IP --remote=IP --tunnel=ID --peer-tunnel=ID\n"
         "  --session=ID --peer-session=ID --ifname=NAME [--encap=udp|ip]\n"
         "  [--sport=N --dport=N] [--cookie=HEX] [--peer-cookie=HEX] [--l2spec=none|default]\n"
         "  [--send-seq] [--require-seq] [--lns] [--reorder-ms=N] [--mtu=N] [--udp-csum]\n"
         "  [--udp6-zero-csum-tx] [--udp6-zero-csum-rx] [--threads=N]\n"
         "  [--io=auto|io_uring|epoll] [--log=LEVEL]\n"
         "Runs until SIGTERM/SIGINT; SIGUSR1 and exit print counters on stdout.\n";
}

absl::StatusOr<DriverOptions> ParseDriverOptions(int argc, char** argv) {
  DriverOptions o;
  o.tunnel.udp_source_port = 1701;
  o.tunnel.udp_destination_port = 1701;
  bool have_local = false, have_remote = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return absl::InvalidArgumentError("unexpected " + arg);
    auto eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    std::string v = eq == std::string::npos ? "" : arg.substr(eq + 1);
    absl::Status st;
    uint32_t n = 0;
    if (name == "local") {
      st = ParseAddress(name, v, &o.tunnel.local);
      have_local = true;
    } else if (name == "remote") {
      st = ParseAddress(name, v, &o.tunnel.remote);
      have_remote = true;
    } else if (name == "encap") {
      if (v == "udp") o.tunnel.encap = Encap::kUdp;
      else if (v == "ip") o.tunnel.encap = Encap::kIp;
      else st = absl::InvalidArgumentError("--encap is udp or ip");
    } else if (name == "sport" || name == "dport") {
      st = ParseU32(name, v, &n);
      if (st.ok() && n > 65535) st = absl::InvalidArgumentError("port out of range");
      (name == "sport" ? o.tunnel.udp_source_port : o.tunnel.udp_destination_port) = n;
    } else if (name == "tunnel") {
      st = ParseU32(name, v, &o.tunnel.tunnel_id);
    } else if (name == "peer-tunnel") {
      st = ParseU32(name, v, &o.tunnel.peer_tunnel_id);
    } else if (name == "session") {
      st = ParseU32(name, v, &o.session.session_id);
    } else if (name == "peer-session") {
      st = ParseU32(name, v, &o.session.peer_session_id);
    } else if (name == "ifname") {
      o.session.interface_name = v;
    } else if (name == "cookie") {
      st = ParseCookie(name, v, &o.session.cookie);
    } else if (name == "peer-cookie") {
      st = ParseCookie(name, v, &o.session.peer_cookie);
    } else if (name == "l2spec") {
      if (v == "none") o.session.l2spec = L2Spec::kNone;
      else if (v == "default") o.session.l2spec = L2Spec::kDefault;
      else st = absl::InvalidArgumentError("--l2spec is none or default");
    } else if (name == "send-seq") {
      o.session.send_sequence = true;
    } else if (name == "require-seq") {
      o.session.require_sequence = true;
    } else if (name == "lns") {
      o.session.lns_mode = true;
    } else if (name == "reorder-ms") {
      st = ParseU32(name, v, &n);
      o.session.reorder_timeout_ms = n;
    } else if (name == "mtu") {
      st = ParseU32(name, v, &o.session.mtu);
    } else if (name == "udp-csum") {
      o.tunnel.udp_checksum = true;
    } else if (name == "udp6-zero-csum-tx") {
      o.tunnel.udp6_zero_checksum_tx = true;
    } else if (name == "udp6-zero-csum-rx") {
      o.tunnel.udp6_zero_checksum_rx = true;
    } else if (name == "threads") {
      st = ParseU32(name, v, &n);
      o.io_threads = static_cast<int>(n);
    } else if (name == "io") {
      auto mode = ParseIoMode(v);
      if (mode.ok()) o.io_mode = *mode;
      st = mode.status();
    } else if (name == "log") {
      o.log_level = v;
    } else {
      st = absl::InvalidArgumentError("unknown flag --" + name);
    }
    if (!st.ok()) return st;
  }
  if (!have_local || !have_remote || o.tunnel.tunnel_id == 0 || o.session.session_id == 0 ||
      o.session.interface_name.empty()) {
    return absl::InvalidArgumentError("--local, --remote, --tunnel, --session, --ifname required");
  }
  o.session.tunnel_id = o.tunnel.tunnel_id;
  return o;
}

}  // namespace l2tp::userspace
