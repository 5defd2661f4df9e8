// SIGTERM and SIGINT, from the first line of main to the last. During
// start-up (loading state, applying --config, which can take long) a signal
// ends the process at once: nothing is serving yet, and the state store is
// safe against a stop at any point. Once serving, a signal starts the
// graceful shutdown that Wait() returns for.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace l2tp {

class ShutdownSignal {
 public:
  // Blocks SIGTERM and SIGINT in this thread (and so in every thread created
  // after) and starts the thread that waits for them. Call before any other
  // thread exists.
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Start-up is over: from now on a signal is reported to Wait().
  void Serving();
  // Blocks until a signal arrives after Serving(); returns it.
  int Wait();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  bool serving_ = false;
  int signal_ = 0;
  std::thread thread_;
};

}  // namespace l2tp
