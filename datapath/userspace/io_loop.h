// One I/O thread: epoll over the fds of the tunnels and sessions it owns.
// Everything those objects hold is touched only on this thread; the control
// plane reaches in with RunSync(), which runs a closure between event batches
// (never while a batch is being dispatched, so handlers stay valid during it).
// The thread blocks in epoll_wait when idle: no busy polling.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace l2tp::userspace {

class EventHandler {
 public:
  virtual ~EventHandler() = default;
  virtual void OnEvent(uint32_t epoll_events) = 0;
};

class IoLoop {
 public:
  IoLoop();
  ~IoLoop();  // stops the thread
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  absl::Status Start();
  // Ends the thread (after pending RunSync calls). Idempotent.
  void Stop();

  // Loop thread only (or before Start).
  absl::Status Watch(int fd, uint32_t events, EventHandler* handler);
  void Unwatch(int fd);
  // Runs after every dispatched batch, on the loop thread.
  void SetAfterBatchHook(std::function<void()> hook) { after_batch_ = std::move(hook); }

  // Any thread: runs `fn` on the loop thread and waits for its result.
  absl::Status RunSync(std::function<absl::Status()> fn);

  bool OnLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Task {
    std::function<absl::Status()> fn;
    absl::Status* result;
    bool* done;
  };
  class Waker : public EventHandler {
   public:
    explicit Waker(IoLoop* loop) : loop_(loop) {}
    void OnEvent(uint32_t) override;

   private:
    IoLoop* loop_;
  };

  void Run();
  void RunTasks();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  Waker waker_{this};
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::function<void()> after_batch_;

  std::mutex mu_;
  std::condition_variable done_cv_;
  std::vector<Task> tasks_;
};

}  // namespace l2tp::userspace
