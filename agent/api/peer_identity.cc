#include "agent/api/peer_identity.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/server_context.h"

namespace l2tp {

std::string PeerIdentity::Describe() const {
  switch (kind) {
    case Kind::kUnix: return absl::StrCat("uid ", unix_peer.uid, " (gid ", unix_peer.gid, ")");
    case Kind::kCertificate:
      return absl::StrCat("client certificate \"", subject, "\"",
                          sans.empty() ? "" : absl::StrCat(" (", absl::StrJoin(sans, ", "), ")"));
    case Kind::kAnonymous: break;
  }
  return absl::StrCat("anonymous client ", address);
}

std::string PeerIdentity::Key() const {
  switch (kind) {
    case Kind::kUnix: return absl::StrCat("uid:", unix_peer.uid);
    case Kind::kCertificate: return absl::StrCat("cert:", subject, "|", absl::StrJoin(sans, ","));
    case Kind::kAnonymous: break;
  }
  // "ipv4:127.0.0.1:40000" -> "127.0.0.1": one key per address, not per port.
  std::string host = address;
  if (auto colon = host.rfind(':'); colon != std::string::npos && !absl::StartsWith(host, "fd:")) {
    host.resize(colon);
  }
  return absl::StrCat("anonymous:", host);
}

std::optional<int> FdOfPeer(const std::string& peer) {
  if (!absl::StartsWith(peer, "fd:")) return std::nullopt;
  int fd;
  if (!absl::SimpleAtoi(absl::string_view(peer).substr(3), &fd) || fd < 0) return std::nullopt;
  return fd;
}

namespace {

std::string FirstProperty(const grpc::AuthContext& auth, const char* name) {
  auto values = auth.FindPropertyValues(name);
  return values.empty() ? std::string() : std::string(values[0].data(), values[0].size());
}

void AddSans(const grpc::AuthContext& auth, const char* property, const char* prefix,
             std::vector<std::string>* out) {
  for (const auto& v : auth.FindPropertyValues(property)) {
    out->push_back(absl::StrCat(prefix, absl::string_view(v.data(), v.size())));
  }
}

}  // namespace

PeerIdentity IdentifyPeer(const grpc::ServerContextBase& context, const UnixPeerLookup& unix_peers) {
  PeerIdentity id;
  id.address = context.peer();
  if (auto fd = FdOfPeer(id.address); fd && unix_peers) {
    if (auto peer = unix_peers(*fd)) {
      id.kind = PeerIdentity::Kind::kUnix;
      id.unix_peer = *peer;
    }
    return id;
  }
  auto auth = context.auth_context();
  if (auth == nullptr) return id;
  // The server requires and verifies client certificates whenever it asks for
  // them (--tls-client-ca), so a subject here is a verified one.
  if (FirstProperty(*auth, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME) != "ssl") return id;
  std::string subject = FirstProperty(*auth, GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (subject.empty() || !auth->IsPeerAuthenticated()) return id;
  id.kind = PeerIdentity::Kind::kCertificate;
  id.subject = std::move(subject);
  AddSans(*auth, GRPC_PEER_DNS_PROPERTY_NAME, "DNS:", &id.sans);
  AddSans(*auth, GRPC_PEER_URI_PROPERTY_NAME, "URI:", &id.sans);
  AddSans(*auth, GRPC_PEER_EMAIL_PROPERTY_NAME, "email:", &id.sans);
  AddSans(*auth, GRPC_PEER_IP_PROPERTY_NAME, "IP:", &id.sans);
  return id;
}

}  // namespace l2tp
