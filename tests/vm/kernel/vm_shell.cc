#include "tests/vm/kernel/vm_shell.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <google/protobuf/util/json_util.h>
#include <sched.h>
#include <unistd.h>

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>

extern char** environ;

namespace l2tp::vmtest {

// Under bash, not /bin/sh: the VM's busybox sh would run its own `ip` applet
// instead of iproute2's.
CommandResult Run(const std::string& command) {
  CommandResult r;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  const std::string script = command;
  char* argv[] = {const_cast<char*>("bash"), const_cast<char*>("-c"), const_cast<char*>(script.c_str()),
                  nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/bash", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    r.output = "cannot start /bin/bash";
    return r;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) r.output.append(buf, static_cast<size_t>(n));
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

google::protobuf::ListValue IpJson(const std::string& args) {
  google::protobuf::ListValue list;
  CommandResult r = Run("ip -j " + args);
  EXPECT_EQ(r.exit_code, 0) << "ip -j " << args << ": " << r.output;
  if (r.exit_code != 0) return list;
  std::string json = r.output;
  if (json.find_first_not_of(" \n") == std::string::npos) json = "[]";  // some commands print nothing
  auto st = google::protobuf::util::JsonStringToMessage(json, &list);
  EXPECT_TRUE(st.ok()) << "ip -j " << args << " printed no JSON array: " << json;
  return list;
}

const google::protobuf::Struct* FindByNumber(const google::protobuf::ListValue& list, const std::string& key,
                                             double value) {
  for (const auto& v : list.values()) {
    if (!v.has_struct_value()) continue;
    const auto& fields = v.struct_value().fields();
    auto it = fields.find(key);
    if (it != fields.end() && it->second.number_value() == value) return &v.struct_value();
  }
  return nullptr;
}

void InNetns(const std::string& ns, const std::function<void()>& fn) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(self, 0);
  ASSERT_GE(target, 0) << "no network namespace " << ns;
  ASSERT_EQ(setns(target, CLONE_NEWNET), 0) << "setns " << ns;
  fn();
  EXPECT_EQ(setns(self, CLONE_NEWNET), 0);
  close(target);
  close(self);
}

}  // namespace l2tp::vmtest
