// One call's pppd options (ppp::PppOptions) from the control plane's
// PppCallStart: the PppSpec's fields for the call's side, its defaults, the
// session's ids and interface, and the secrets read from their files now,
// at the call's start (docs/ppp.md: a changed file counts from the next call).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "agent/control/ppp_call_runner.h"
#include "agent/ppp/ppp_options.h"

namespace l2tp {

// An LNS secrets file (PppSpec.secrets_file) may hold this many bytes, as
// the API's validation allows (agent/state/validation.h).
inline constexpr size_t kMaxPppSecretsTextBytes = size_t{1} << 20;

// The text of an LNS secrets file: a regular file, 1 to
// kMaxPppSecretsTextBytes bytes. Errors say why in words ("cannot read the
// secrets file: No such file or directory") without quoting the content.
absl::StatusOr<std::string> ReadPppSecretsText(const std::string& path);

// `call`'s options; `remote_address` is the LNS call's pool address ("" for
// an LAC). Reads the LAC's password_file (common/secret_file.h) and the
// LNS's secrets_file. Errors name the field ("ppp.password_file: the secret
// file is empty"). The options are not validated here (PppdProcess::Start
// does); the caller wipes the secrets they hold when done
// (WipePppSecrets).
absl::StatusOr<ppp::PppOptions> BuildCallOptions(const PppCallStart& call, const std::string& remote_address);

// Overwrites the password and the secrets text before they are freed.
void WipePppSecrets(ppp::PppOptions& options);

}  // namespace l2tp
