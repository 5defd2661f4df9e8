#include "agent/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace l2tp {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this] { Loop(); });
}

ShutdownSignal::~ShutdownSignal() {
  // The waiting thread is detached rather than joined: it may be in
  // sigwait for good, and the process is ending.
  if (thread_.joinable()) thread_.detach();
}

void ShutdownSignal::Serving() {
  std::lock_guard lock(mu_);
  serving_ = true;
}

int ShutdownSignal::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return signal_ != 0; });
  return signal_;
}

void ShutdownSignal::Loop() {
  const sigset_t set = ShutdownSignals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    std::unique_lock lock(mu_);
    if (!serving_) {
      // Still starting: stop now. Only async-signal-safe calls from here.
      const char* text = sig == SIGTERM ? "SIGTERM" : "SIGINT";
      const char* parts[] = {"l2tp-agent: received ", text, " while starting; stopped\n"};
      for (const char* p : parts) (void)!write(STDERR_FILENO, p, strlen(p));
      _exit(0);
    }
    if (signal_ == 0) {
      signal_ = sig;
      cv_.notify_all();
    }
  }
}

}  // namespace l2tp
