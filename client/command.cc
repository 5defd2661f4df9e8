#include "client/command.h"

#include <ostream>

namespace l2tp::cli {

int CommandContext::UsageError(const std::string& message) const {
  *err << "error: " << message << "\n"
       << "Run 'l2tpctl " << command << " --help' for usage.\n";
  return kExitUsage;
}

int CommandContext::Fail(const std::string& message) const {
  *err << "error: " << message << "\n";
  return kExitFailure;
}

int CommandContext::RpcFailed(const Connection& connection, const grpc::Status& status) const {
  return Fail(connection.DescribeError(status));
}

}  // namespace l2tp::cli
