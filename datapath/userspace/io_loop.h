// One I/O thread. It waits for events in one of two ways:
//   io_uring  (Linux 6.7+): TAPs and tunnel sockets are read through the
//             thread's Uring (multishot reads and receives, see uring.h);
//             the other fds (reorder timer, wake-up) stay on an epoll set,
//             which the ring polls.
//   epoll     everything on the epoll set; used where io_uring is missing
//             or refused (e.g. by a container's seccomp profile).
// Everything the loop's objects hold is touched only on this thread; the
// control plane reaches in with RunSync(), which runs a closure between event
// batches (never while a batch is being dispatched, so handlers stay valid
// during it). The thread blocks when idle: no busy polling.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datapath/userspace/uring.h"

namespace l2tp::userspace {

enum class IoMode {
  kAuto,   // io_uring where it works, else epoll
  kUring,  // io_uring or fail
  kEpoll,
};
// "auto", "io_uring" or "epoll" (the flags' spelling).
absl::StatusOr<IoMode> ParseIoMode(std::string_view name);

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

  // Starts the thread; in io_uring mode it sets up its ring with `buffers`
  // first. kAuto falls back to epoll (uring_status() says why).
  absl::Status Start(IoMode mode = IoMode::kAuto, const Uring::Buffers& buffers = {});
  // Ends the thread (after pending RunSync calls). Idempotent.
  void Stop();

  // The thread's ring; null in epoll mode. Loop thread only.
  Uring* uring() { return uring_.get(); }
  // Whether the thread runs on io_uring (set before Start returns).
  bool uses_uring() const { return uses_uring_; }
  // Why io_uring is not used (OK when it is, or when epoll was asked for).
  const absl::Status& uring_status() const { return uring_status_; }

  // Loop thread only (or before Start). Level-triggered.
  absl::Status Watch(int fd, uint32_t events, EventHandler* handler);
  void Unwatch(int fd);
  // A handler that returns before draining its fd calls this, so the loop
  // looks at the epoll set again before it sleeps (the ring's poll of the
  // set only fires on new readiness).
  void NotDrained() { epoll_again_ = true; }
  // Runs after every dispatched batch, on the loop thread.
  void SetAfterBatchHook(std::function<void()> hook) { after_batch_ = std::move(hook); }

  // Any thread: runs `fn` on the loop thread and waits for its result.
  absl::Status RunSync(std::function<absl::Status()> fn);
  // Any thread: runs `fn` on the loop thread between batches, without
  // waiting for it; in order with other posted and RunSync closures. Closures
  // posted once the thread has ended are dropped unrun.
  void Post(std::function<void()> fn);

  bool OnLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Task {
    std::function<absl::Status()> fn;
    absl::Status* result;  // null: posted, nobody waits
    bool* done;
  };
  class Waker : public EventHandler {
   public:
    explicit Waker(IoLoop* loop) : loop_(loop) {}
    void OnEvent(uint32_t) override;

   private:
    IoLoop* loop_;
  };
  // io_uring mode: the ring's multishot poll of the epoll set.
  class EpollBridge : public CompletionHandler {
   public:
    explicit EpollBridge(IoLoop* loop) : loop_(loop) {}
    void OnCompletion(const Completion& c) override;

   private:
    IoLoop* loop_;
  };

  void Run(IoMode mode, Uring::Buffers buffers, std::promise<absl::Status>* started);
  void RunEpoll();
  void RunUring();
  void DispatchEpoll(int timeout_ms);
  void EndBatch();
  void RunTasks();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  Waker waker_{this};
  EpollBridge epoll_bridge_{this};
  uint64_t epoll_token_ = 0;
  bool epoll_again_ = false;
  std::unique_ptr<Uring> uring_;
  bool uses_uring_ = false;
  absl::Status uring_status_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::function<void()> after_batch_;

  std::mutex mu_;
  std::condition_variable done_cv_;
  std::vector<Task> tasks_;
};

}  // namespace l2tp::userspace
