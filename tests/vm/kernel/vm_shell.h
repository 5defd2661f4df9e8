// Helpers for tests that run inside the test VM: shell commands (iproute2 is
// the independent witness of what the kernel holds), its JSON output, and
// running code inside a network namespace.
#pragma once

#include <google/protobuf/struct.pb.h>

#include <functional>
#include <string>

namespace l2tp::vmtest {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
CommandResult Run(const std::string& command);

// `ip -j ...` output (a JSON array). Fails the test and returns an empty list
// when the command fails or prints something else.
google::protobuf::ListValue IpJson(const std::string& args);

// The first element of `list` whose `key` is the number `value`, or nullptr.
const google::protobuf::Struct* FindByNumber(const google::protobuf::ListValue& list, const std::string& key,
                                             double value);

// Runs `fn` with this thread in network namespace /run/netns/`ns`; sockets
// opened meanwhile stay in that namespace.
void InNetns(const std::string& ns, const std::function<void()>& fn);

}  // namespace l2tp::vmtest
