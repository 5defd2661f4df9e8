// IoLoop in both modes: RunSync, Post, epoll-watched fds (in io_uring mode through
// the ring's poll of the epoll set), handlers that leave their fd undrained,
// and the mode it ends up in.
#include "datapath/userspace/io_loop.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace l2tp::userspace {
namespace {

// Reads one datagram per event, and says so when more may be waiting.
struct OneAtATime : EventHandler {
  IoLoop* loop = nullptr;
  int fd = -1;
  std::atomic<int> got{0};
  void OnEvent(uint32_t) override {
    char b[64];
    if (read(fd, b, sizeof b) > 0) {
      ++got;
      loop->NotDrained();
    }
  }
};

class IoLoopTest : public ::testing::TestWithParam<IoMode> {
 protected:
  void SetUp() override {
    absl::Status st = loop_.Start(GetParam(), {.count = 8, .size = 4096, .headroom = 0});
    if (GetParam() == IoMode::kUring && !st.ok()) GTEST_SKIP() << "io_uring unusable here: " << st;
    ASSERT_TRUE(st.ok()) << st;
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    loop_.Stop();
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  bool UsesRing() {
    bool ring = false;
    EXPECT_TRUE(loop_
                    .RunSync([&] {
                      ring = loop_.uring() != nullptr;
                      return absl::OkStatus();
                    })
                    .ok());
    return ring;
  }

  IoLoop loop_;
  int fds_[2] = {-1, -1};
};

TEST_P(IoLoopTest, RunsInTheModeAskedFor) {
  EXPECT_EQ(UsesRing(), GetParam() == IoMode::kUring);
  EXPECT_TRUE(loop_.uring_status().ok());
}

TEST_P(IoLoopTest, RunSyncRunsOnTheLoopThreadAndReturnsItsStatus) {
  std::thread::id where;
  absl::Status st = loop_.RunSync([&] {
    where = std::this_thread::get_id();
    return absl::NotFoundError("x");
  });
  EXPECT_TRUE(absl::IsNotFound(st));
  EXPECT_NE(where, std::this_thread::get_id());
}

// Posted closures run on the loop thread, in the order posted, and in order
// with RunSync calls; each is woken for even when the loop sleeps between.
TEST_P(IoLoopTest, PostedClosuresRunOnTheLoopThreadInOrder) {
  std::vector<int> order;  // touched on the loop thread only
  std::atomic<bool> off_thread{false};
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 100; ++i) {
    loop_.Post([&, i] {
      if (std::this_thread::get_id() == caller) off_thread = true;
      order.push_back(i);
    });
    if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // let it sleep
  }
  size_t seen = 0;
  ASSERT_TRUE(loop_
                  .RunSync([&] {
                    seen = order.size();  // RunSync comes after every earlier post
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(seen, 100u);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(order[i], i);
  EXPECT_FALSE(off_thread);

  // Alone, after the loop went to sleep: the post wakes it.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::atomic<bool> ran{false};
  loop_.Post([&] { ran = true; });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!ran && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(ran);
}

TEST_P(IoLoopTest, UndrainedHandlersAreCalledAgainWithoutNewEvents) {
  OneAtATime h;
  h.loop = &loop_;
  h.fd = fds_[0];
  // Queued before the fd is watched: the epoll set signals readiness once, so
  // in io_uring mode only NotDrained() brings the loop back for the rest.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(write(fds_[1], "d", 1), 1);
  ASSERT_TRUE(loop_.RunSync([&] { return loop_.Watch(fds_[0], EPOLLIN, &h); }).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (h.got < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(h.got, 5);
  ASSERT_TRUE(loop_
                  .RunSync([&] {
                    loop_.Unwatch(fds_[0]);
                    return absl::OkStatus();
                  })
                  .ok());
}

INSTANTIATE_TEST_SUITE_P(Modes, IoLoopTest, ::testing::Values(IoMode::kUring, IoMode::kEpoll),
                         [](const auto& info) {
                           return info.param == IoMode::kUring ? std::string("io_uring")
                                                               : std::string("epoll");
                         });

TEST(IoModeTest, ParsesTheFlagSpellings) {
  EXPECT_EQ(*ParseIoMode("auto"), IoMode::kAuto);
  EXPECT_EQ(*ParseIoMode("io_uring"), IoMode::kUring);
  EXPECT_EQ(*ParseIoMode("epoll"), IoMode::kEpoll);
  auto bad = ParseIoMode("uring");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("got \"uring\""), std::string::npos);
}

}  // namespace
}  // namespace l2tp::userspace
