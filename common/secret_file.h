// Tunnel secrets live in files named by the spec (TunnelSpec.control
// .secret_file): the API, logs and the state file carry only the path.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace l2tp {

inline constexpr size_t kMaxSecretBytes = 256;

// The secret in `path`: the file's bytes without one trailing newline.
// Errors say why in words ("cannot read the secret file: No such file or
// directory", "the secret file is empty", "... is longer than 256 bytes")
// without quoting the content; the caller names the field or path.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace l2tp
