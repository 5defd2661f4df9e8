#include "agent/ppp/pppd_log_parser.h"

#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"

namespace l2tp::ppp {
namespace {

bool ConsumePrefix(std::string_view* text, std::string_view prefix) {
  if (!text->starts_with(prefix)) return false;
  text->remove_prefix(prefix.size());
  return true;
}

bool ConsumeSuffix(std::string_view* text, std::string_view suffix) {
  if (!text->ends_with(suffix)) return false;
  text->remove_suffix(suffix.size());
  return true;
}

// pppd's %q and print_string escape " and \ with a backslash; those two are
// undone, every other escape is kept as printed.
std::string Unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) ++i;
    out.push_back(text[i]);
  }
  return out;
}

// The quoted string print_string wrote at the start of `text` ("NAME"...),
// unescaped; false when there is none.
bool QuotedAtStart(std::string_view text, std::string* out) {
  if (!ConsumePrefix(&text, "\"")) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      *out = Unescape(text.substr(0, i));
      return true;
    }
  }
  return false;
}

// The word after "id=" in a packet dump ("id=0x1"), "" if none.
std::string_view PacketId(std::string_view line) {
  const size_t at = line.find(" id=");
  if (at == std::string_view::npos) return "";
  std::string_view id = line.substr(at + 4);
  return id.substr(0, id.find_first_of(" ]"));
}

std::string FirstWord(std::string_view text) { return std::string(text.substr(0, text.find(' '))); }

std::string Quoted(std::string_view name) { return absl::StrCat("\"", Av(name), "\""); }

}  // namespace

std::string_view PppPhaseName(PppPhase phase) {
  switch (phase) {
    case PppPhase::kEstablishing: return "ESTABLISHING";
    case PppPhase::kAuthenticating: return "AUTHENTICATING";
    case PppPhase::kNetwork: return "NETWORK";
    case PppPhase::kDead: return "DEAD";
  }
  return "UNKNOWN";
}

bool PppdLogParser::Advance(PppPhase phase) {
  if (phase <= link_.phase) return false;
  link_.phase = phase;
  return true;
}

bool PppdLogParser::Feed(std::string_view line) {
  ConsumeSuffix(&line, "\r");
  std::string_view rest;

  // LCP is open once each side acked the other's ConfReq.
  if (line.starts_with("sent [LCP ConfAck") || line.starts_with("rcvd [LCP ConfAck")) {
    (line[0] == 's' ? sent_lcp_ack_ : received_lcp_ack_) = true;
    return sent_lcp_ack_ && received_lcp_ack_ && Advance(PppPhase::kAuthenticating);
  }

  // The peer's user name: PAP and older or newer pppd say it in words.
  rest = line;
  if (ConsumePrefix(&rest, "PAP peer authentication succeeded for ") ||
      ConsumePrefix(&rest, "CHAP peer authentication succeeded for ")) {
    link_.peer_user = Unescape(rest);
    return false;
  }
  rest = line;
  if (ConsumePrefix(&rest, "Peer ") && rest.find(" authenticated with ") != std::string_view::npos) {
    link_.peer_user = Unescape(rest.substr(0, rest.rfind(" authenticated with ")));
    return false;
  }
  // pppd 2.4.9's CHAP: the name in the Response we answered with Success.
  if (line.starts_with("rcvd [CHAP Response ")) {
    const size_t at = line.find(", name = ");
    chap_response_name_.clear();
    chap_response_id_ = std::string(PacketId(line));
    if (at == std::string_view::npos || !QuotedAtStart(line.substr(at + 9), &chap_response_name_)) {
      chap_response_id_.clear();
    }
    return false;
  }
  if (line.starts_with("sent [CHAP Success ")) {
    if (!chap_response_id_.empty() && PacketId(line) == chap_response_id_) {
      link_.peer_user = chap_response_name_;
    }
    return false;
  }

  // Authentication failures, the first one told.
  std::string failure;
  rest = line;
  if (ConsumePrefix(&rest, "PAP peer authentication failed for ")) {
    failure = absl::StrCat("the peer ", Quoted(Unescape(rest)), " failed PAP authentication");
  } else if (ConsumePrefix(&rest, "No CHAP secret found for authenticating ") &&
             !rest.starts_with("us to ")) {
    no_secret_for_ = Unescape(rest);
  } else if (rest = line;
             ConsumePrefix(&rest, "Peer ") && ConsumeSuffix(&rest, " failed CHAP authentication")) {
    const std::string name = Unescape(rest);
    failure = absl::StrCat("the peer ", Quoted(name), " failed CHAP authentication",
                           name == no_secret_for_ ? " (no secret for that name)" : "");
  } else if (line.starts_with("peer refused to authenticate")) {
    failure = "the peer refused to authenticate";
  } else if (line.starts_with("PAP authentication of peer failed (protocol-reject)")) {
    failure = "the peer refused to authenticate with PAP";
  } else if (rest = line; ConsumePrefix(&rest, "Remote message: ")) {
    remote_message_ = std::string(rest.substr(0, 128));
  } else if (line == "PAP authentication failed") {
    failure = "we failed to authenticate to the peer with PAP";
    if (!remote_message_.empty()) absl::StrAppend(&failure, ": ", Quoted(remote_message_));
  } else if (line == "PAP authentication failed due to protocol-reject") {
    failure = "we failed to authenticate to the peer: it refused PAP";
  } else if (line == "No response to PAP authenticate-requests") {
    failure = "we failed to authenticate to the peer: it did not answer our PAP requests";
  } else if (line == "CHAP authentication failed due to protocol-reject") {
    failure = "we failed to authenticate to the peer: it refused CHAP";
  } else if (rest = line; ConsumePrefix(&rest, "CHAP authentication failed: ")) {
    remote_message_ = std::string(rest.substr(0, 128));
  } else if (line == "CHAP authentication failed") {
    failure = "we failed to authenticate to the peer with CHAP";
    if (!remote_message_.empty()) absl::StrAppend(&failure, ": ", Quoted(remote_message_));
  }
  if (!failure.empty()) {
    if (link_.auth_failure.empty()) link_.auth_failure = std::move(failure);
    return false;
  }

  // A negotiation the peer never answered (fsm.c: "PROTO: timeout sending
  // Config-Requests"), the first one told.
  rest = line;
  if (ConsumeSuffix(&rest, ": timeout sending Config-Requests")) {
    if (link_.gave_up.empty()) link_.gave_up = std::string(rest) + " got no answer to its Configure-Requests";
    return false;
  }

  rest = line;
  if (ConsumePrefix(&rest, "Using interface ")) {
    link_.interface = FirstWord(rest);
    return false;
  }
  if (ConsumePrefix(&rest, "primary   DNS address ")) {
    link_.dns.resize(std::max<size_t>(link_.dns.size(), 1));
    link_.dns[0] = FirstWord(rest);
    return false;
  }
  if (ConsumePrefix(&rest, "secondary DNS address ")) {
    if (link_.dns.empty()) {
      link_.dns.push_back(FirstWord(rest));  // no primary logged
    } else {
      link_.dns.resize(2);
      link_.dns[1] = FirstWord(rest);
    }
    return false;
  }
  // IPCP is up once both addresses are logged; "... changed to" on a
  // renegotiation only updates them.
  if (ConsumePrefix(&rest, "local  IP address ") || ConsumePrefix(&rest, "Local IP address changed to ")) {
    link_.local_address = FirstWord(rest);
  } else if (ConsumePrefix(&rest, "remote IP address ") ||
             ConsumePrefix(&rest, "Remote IP address changed to ")) {
    link_.remote_address = FirstWord(rest);
  } else {
    return false;
  }
  return !link_.local_address.empty() && !link_.remote_address.empty() && Advance(PppPhase::kNetwork);
}

}  // namespace l2tp::ppp
