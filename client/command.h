// What every l2tpctl command is made of: its help text, its flags and the
// function that runs it against the context the dispatcher prepared.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/cli_args.h"
#include "client/connection.h"

namespace l2tp::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // a failed call, an unreadable file
inline constexpr int kExitUsage = 2;    // bad command line

struct CommandContext {
  std::string command = {};            // e.g. "get", for usage hints
  std::vector<std::string> args = {};  // positional arguments after the command
  ParsedArgs flags = {};               // the command's and the global flags
  ConnectionOptions connection = {};
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  absl::Time now = {};  // for ages

  // "error: <message>" plus a pointer to --help; returns kExitUsage.
  int UsageError(const std::string& message) const;
  // "error: <message>"; returns kExitFailure.
  int Fail(const std::string& message) const;
  // A failed RPC, explained by `connection`; returns kExitFailure.
  int RpcFailed(const Connection& connection, const grpc::Status& status) const;

  // One unary call on a new connection with the --timeout deadline, e.g.
  // Call(&Stub::Apply, request, &response): kExitOk, or the failure explained.
  template <typename Method, typename Request, typename Response>
  int Call(Method method, const Request& request, Response* response) const {
    Connection conn(connection);
    grpc::ClientContext call;
    conn.SetDeadline(&call);
    grpc::Status status = (conn.stub().*method)(&call, request, response);
    return status.ok() ? kExitOk : RpcFailed(conn, status);
  }
};

using Stub = ::l2tpagent::v1::L2tpAgent::Stub;

struct CommandSpec {
  std::string name;
  std::string summary;          // one line for the command list
  std::string usage;            // after "l2tpctl ", e.g. "get KIND [NAME] [flags]"
  std::string description;      // paragraphs for --help
  std::vector<FlagSpec> flags;  // the command's own flags (not the global ones)
  std::string examples;         // one per line, without the leading indentation
  std::function<int(const CommandContext&)> run;
};

}  // namespace l2tp::cli
