#include "support/cancel.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "support/signal_watch.h"

using kiln::CancelToken;
using kiln::SignalWatch;

TEST_CASE("a cancel reaches every copy of the token and runs its callbacks once") {
  CancelToken token;
  CancelToken copy = token;
  int runs = 0;
  uint64_t kept = copy.on_cancel([&runs] { ++runs; });
  uint64_t removed = copy.on_cancel([&runs] { runs += 100; });
  copy.remove_callback(removed);
  (void)kept;
  CHECK_FALSE(token.cancelled());
  token.cancel();
  token.cancel();
  CHECK(copy.cancelled());
  CHECK(runs == 1);
  copy.on_cancel([&runs] { runs += 10; });  // already cancelled: runs at once
  CHECK(runs == 11);
}

TEST_CASE("a forwarded signal is taken once, the last one wins, and does not cancel") {
  CancelToken token;
  CHECK(token.take_forwarded() == 0);
  token.forward(SIGINT);
  token.forward(SIGUSR1);
  CHECK(token.take_forwarded() == SIGUSR1);
  CHECK(token.take_forwarded() == 0);
  CHECK_FALSE(token.cancelled());
}

TEST_CASE("a signal sent while a SignalWatch lives becomes a call on its thread") {
  CancelToken token;
  std::atomic<int> seen{0};
  {
    SignalWatch watch({SIGUSR1}, [&](int signal) {
      seen = signal;
      token.cancel();
    });
    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
    for (int i = 0; i < 500 && !token.cancelled(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  CHECK(token.cancelled());
  CHECK(seen == SIGUSR1);
  struct sigaction now {};
  ::sigaction(SIGUSR1, nullptr, &now);
  CHECK(now.sa_handler == SIG_DFL);  // the old handler is back
}
