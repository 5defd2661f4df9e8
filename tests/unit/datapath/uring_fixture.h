// A fixture for Uring on the running kernel: a ring (or a skip), a socket pair, a completion pump.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "datapath/userspace/uring.h"

namespace l2tp::userspace::uring_fixture {

class UringSocketPairTest : public ::testing::Test {
 protected:
  // Makes the ring with `buffers` and the socket pair. Skips the test where
  // io_uring is unusable: a SetUp calling it returns when IsSkipped() or
  // HasFatalFailure().
  void SetUpRing(const Uring::Buffers& buffers) {
    auto r = Uring::Create(buffers);
    if (!r.ok()) GTEST_SKIP() << "io_uring unusable here: " << r.status();
    ring_ = std::move(*r);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    ring_.reset();  // before the fds: it may still hold requests on them
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  // Submits and dispatches until `done` (at most 3 s: a missing completion
  // fails the test instead of hanging it).
  void PumpUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "completions missing";
      ring_->Submit(/*wait=*/false);
      ring_->Dispatch();
      if (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::unique_ptr<Uring> ring_;
  int fds_[2] = {-1, -1};
};

}  // namespace l2tp::userspace::uring_fixture
