#include "datapath/kernel/module_loader.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/log.h"

extern char** environ;

namespace l2tp::kernel {
namespace {

const char* FindModprobe() {
  for (const char* path : {"/sbin/modprobe", "/usr/sbin/modprobe", "/bin/modprobe", "/usr/bin/modprobe"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return nullptr;
}

bool RunQuietly(const char* program, const char* module) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  char* argv[] = {const_cast<char*>(program), const_cast<char*>("-q"), const_cast<char*>(module), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, program, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

std::vector<std::string> LoadL2tpModules() {
  std::vector<std::string> failed;
  const char* modprobe = FindModprobe();
  if (modprobe == nullptr) {
    L2TP_LOG(kDebug) << "kernel: no modprobe; relying on built-in or autoloaded L2TP modules";
    return failed;
  }
  // l2tp_ppp brings pppox and ppp_generic (/dev/ppp) for PPP pseudowires.
  for (const char* module : {"l2tp_netlink", "l2tp_eth", "l2tp_ip", "l2tp_ip6", "l2tp_ppp"}) {
    // Already loaded (a restarted agent): no modprobe process, which costs
    // tens of milliseconds each on a slow machine.
    if (access((std::string("/sys/module/") + module).c_str(), F_OK) == 0) continue;
    if (!RunQuietly(modprobe, module)) failed.emplace_back(module);
  }
  return failed;
}

}  // namespace l2tp::kernel
