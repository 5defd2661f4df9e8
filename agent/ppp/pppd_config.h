// pppd's command line and options file for one call (docs/ppp.md, "pppd").
// Pure: the text only; pppd_process.h writes and runs it.
//
// The command line holds what locates things (plugin, socket, ids,
// interface, the options file) and nothing secret: any user on the host can
// read it in /proc. Everything else is in the options file, from a curated
// set of options: nothing from the API picks an option, and each value
// written is checked and quoted (ValidatePppOptions, pppd_words.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/ppp/ppp_options.h"

namespace l2tp::ppp {

// argv for execv, argv[0] = `pppd_path`:
//   pppd plugin pppol2tp.so pppol2tp <fd> [pppol2tp_lns_mode]
//        [pppol2tp_tunnel_id <id>] [pppol2tp_session_id <id>]
//        nodetach ifname <interface> file <options_path>
// Both paths must be absolute.
absl::StatusOr<std::vector<std::string>> BuildPppdArguments(const PppOptions& options,
                                                            std::string_view pppd_path,
                                                            std::string_view options_path);

// The options file's text, one option per line.
absl::StatusOr<std::string> BuildPppdOptionsFile(const PppOptions& options);

}  // namespace l2tp::ppp
