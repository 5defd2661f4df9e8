#include "datapath/userspace/io_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>

#include "common/log.h"

namespace l2tp::userspace {

IoLoop::IoLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

IoLoop::~IoLoop() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

absl::Status IoLoop::Start() {
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError("epoll/eventfd creation failed");
  if (auto st = Watch(wake_fd_, EPOLLIN, &waker_); !st.ok()) return st;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
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

void IoLoop::Waker::OnEvent(uint32_t) {
  uint64_t count;
  (void)!read(loop_->wake_fd_, &count, sizeof count);
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
    std::lock_guard lock(mu_);
    *t.result = std::move(st);
    *t.done = true;
  }
  done_cv_.notify_all();
}

void IoLoop::Run() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  while (!stopping_) {
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      L2TP_LOG(kError) << "userspace datapath: epoll_wait failed, errno " << errno;
      break;
    }
    for (int i = 0; i < n; ++i) {
      static_cast<EventHandler*>(events[i].data.ptr)->OnEvent(events[i].events);
    }
    // Control-plane changes only between batches: handlers above stay valid.
    RunTasks();
    if (after_batch_) after_batch_();
  }
  RunTasks();  // never leave a caller of RunSync waiting
}

}  // namespace l2tp::userspace
