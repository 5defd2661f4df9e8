#include "datapath/userspace/io_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace l2tp::userspace {

absl::StatusOr<IoMode> ParseIoMode(std::string_view name) {
  if (name == "auto") return IoMode::kAuto;
  if (name == "io_uring") return IoMode::kUring;
  if (name == "epoll") return IoMode::kEpoll;
  return absl::InvalidArgumentError(
      absl::StrCat("I/O mode must be auto, io_uring or epoll, got \"", std::string(name), "\""));
}

IoLoop::IoLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

IoLoop::~IoLoop() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

absl::Status IoLoop::Start(IoMode mode, const Uring::Buffers& buffers) {
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError("epoll/eventfd creation failed");
  if (auto st = Watch(wake_fd_, EPOLLIN, &waker_); !st.ok()) return st;
  // The ring belongs to the thread that uses it (single issuer), so the
  // thread makes it; we wait to learn whether that worked.
  std::promise<absl::Status> started;
  std::future<absl::Status> result = started.get_future();
  thread_ = std::thread([this, mode, buffers, &started] { Run(mode, buffers, &started); });
  absl::Status st = result.get();
  if (!st.ok()) thread_.join();
  return st;
}

void IoLoop::Stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  thread_.join();
}

absl::Status IoLoop::Watch(int fd, uint32_t events, EventHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    return absl::ErrnoToStatus(errno, "epoll_ctl add");
  }
  return absl::OkStatus();
}

void IoLoop::Unwatch(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

absl::Status IoLoop::RunSync(std::function<absl::Status()> fn) {
  if (!thread_.joinable() || OnLoopThread()) return fn();
  absl::Status result;
  bool done = false;
  std::unique_lock lock(mu_);
  tasks_.push_back(Task{std::move(fn), &result, &done});
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  done_cv_.wait(lock, [&] { return done; });
  return result;
}

void IoLoop::Post(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  const bool idle = tasks_.empty();
  tasks_.push_back(Task{[fn = std::move(fn)] {
                          fn();
                          return absl::OkStatus();
                        },
                        nullptr, nullptr});
  // One wake-up for a run of posts the loop has not picked up yet.
  if (idle) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
}

void IoLoop::Waker::OnEvent(uint32_t) {
  uint64_t count;
  (void)!read(loop_->wake_fd_, &count, sizeof count);
}

void IoLoop::EpollBridge::OnCompletion(const Completion& c) {
  loop_->epoll_again_ = true;
  // A multishot poll ends on errors or overflow: arm a new one.
  if (!c.more && !loop_->stopping_) loop_->uring_->PollMultishot(loop_->epoll_fd_, loop_->epoll_token_);
}

void IoLoop::RunTasks() {
  std::vector<Task> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(tasks_);
  }
  if (tasks.empty()) return;
  for (Task& t : tasks) {
    absl::Status st = t.fn();
    if (t.result == nullptr) continue;  // posted
    std::lock_guard lock(mu_);
    *t.result = std::move(st);
    *t.done = true;
  }
  done_cv_.notify_all();
}

void IoLoop::DispatchEpoll(int timeout_ms) {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  if (n < 0) {
    if (errno != EINTR) {
      L2TP_LOG(kError) << "userspace datapath: epoll_wait failed, errno " << errno;
    }
    return;
  }
  for (int i = 0; i < n; ++i) {
    static_cast<EventHandler*>(events[i].data.ptr)->OnEvent(events[i].events);
  }
  if (n == kMaxEvents) NotDrained();  // more may be ready than fitted
}

void IoLoop::EndBatch() {
  // Control-plane changes only between batches: handlers above stay valid.
  RunTasks();
  if (after_batch_) after_batch_();
}

void IoLoop::Run(IoMode mode, Uring::Buffers buffers, std::promise<absl::Status>* started) {
  if (mode != IoMode::kEpoll) {
    auto ring = Uring::Create(buffers);
    if (ring.ok()) {
      uring_ = std::move(*ring);
    } else if (mode == IoMode::kUring) {
      started->set_value(ring.status());
      return;
    } else {
      uring_status_ = ring.status();
    }
  }
  uses_uring_ = uring_ != nullptr;
  started->set_value(absl::OkStatus());  // `started` is gone after this
  if (uring_) {
    RunUring();
  } else {
    RunEpoll();
  }
  RunTasks();  // never leave a caller of RunSync waiting
  uring_.reset();
}

void IoLoop::RunEpoll() {
  while (!stopping_) {
    DispatchEpoll(-1);
    EndBatch();
  }
}

void IoLoop::RunUring() {
  epoll_token_ = uring_->Register(&epoll_bridge_);
  uring_->PollMultishot(epoll_fd_, epoll_token_);
  while (!stopping_) {
    // Sleep only when no handler left its fd undrained.
    bool look = epoll_again_;
    epoll_again_ = false;
    uring_->Submit(/*wait=*/!look);
    uring_->Dispatch();
    if (look || epoll_again_) {
      epoll_again_ = false;
      DispatchEpoll(0);
    }
    EndBatch();
  }
  uring_->Unregister(epoll_token_);
}

}  // namespace l2tp::userspace
