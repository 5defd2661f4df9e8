// The chap-secrets and pap-secrets files of one call's pppd (pppd reads
// them from /etc/ppp; pppd_process.h shows it the call's own). Pure.
//
// The format (man pppd, AUTHENTICATION): one secret per line, `client server
// secret [addresses...]`, words as in pppd_words.h. What pppd would also
// take from such a file and an LNS's user may not give it:
//  - words after "--" in the address list: pppd applies them as options,
//    privileged ones included (plugin, ...), once the peer authenticated;
//  - a secret "@/path": pppd reads the secret from that file, as root.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/ppp/ppp_options.h"

namespace l2tp::ppp {

struct PppdSecretsFiles {
  std::string chap_secrets;
  std::string pap_secrets;
};

// LAC: one line, `"user" * "password" *` (any server; the address list does
// not matter to the side that authenticates itself), in both files.
// LNS: the user's secrets text as given, in both files, once
// CheckSecretsText accepted it. Errors as ValidatePppOptions.
absl::StatusOr<PppdSecretsFiles> BuildSecretsFiles(const PppOptions& options);

// Checks `text` as the secrets an LNS's pppd authenticates peers with:
// every line that is not empty or a comment is `client server secret
// address...`, with at least one address word (with none pppd lets that
// client use no IP address at all, so the call could never come up), each
// *, -, or [!]a.b.c.d[/n[+]]; no "--" options; no "@/" secrets; names up to
// 255 bytes and secrets up to 256; no NUL. Errors name `field` and the
// line, never quoting a secret.
absl::Status CheckSecretsText(std::string_view field, std::string_view text);

}  // namespace l2tp::ppp
