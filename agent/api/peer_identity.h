// Who is calling: the identity the transport established for a call.
//
//  - unix socket: the peer's uid, gid and supplementary groups, read with
//    SO_PEERCRED / SO_PEERGROUPS when the agent accepted the connection
//    (agent/unix_listener.h). gRPC hands such calls a peer() of "fd:N".
//  - TCP with TLS and a verified client certificate: its subject and SANs.
//  - anything else (TLS without client certificates, --insecure): anonymous.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace grpc {
class ServerContextBase;
}

namespace l2tp {

struct UnixPeer {
  uint32_t uid = 0;
  uint32_t gid = 0;
  pid_t pid = 0;
  std::vector<uint32_t> groups;  // supplementary groups (SO_PEERGROUPS), may be empty
};

struct PeerIdentity {
  enum class Kind { kAnonymous, kUnix, kCertificate };
  Kind kind = Kind::kAnonymous;
  UnixPeer unix_peer;             // kUnix
  std::string subject;            // kCertificate: RFC 2253, e.g. "CN=admin,O=example"
  std::vector<std::string> sans;  // kCertificate: "DNS:x", "URI:x", "email:x", "IP:x"
  std::string address;            // the transport's peer string, e.g. "ipv4:127.0.0.1:40000"

  // For messages and logs: `uid 65534 (gid 65534)`,
  // `client certificate "CN=reader,O=example"`, `anonymous client ipv4:...`.
  std::string Describe() const;
  // One key per client, for per-client limits: "uid:0", "cert:CN=...",
  // "anonymous:127.0.0.1" (anonymous TCP clients are keyed by address).
  std::string Key() const;
};

// Credentials of the unix connection on file descriptor `fd`, if the agent
// accepted it (see UnixListener::PeerOf).
using UnixPeerLookup = std::function<std::optional<UnixPeer>(int fd)>;

// The identity of the peer of `context`. A "fd:N" peer the lookup does not
// know stays anonymous (and gets no role unless the policy grants one).
PeerIdentity IdentifyPeer(const grpc::ServerContextBase& context, const UnixPeerLookup& unix_peers);

// The fd number of a "fd:N" peer string, or nullopt.
std::optional<int> FdOfPeer(const std::string& peer);

}  // namespace l2tp
