#define CATCH_CONFIG_RUNNER
#include <csignal>

#include <catch2/catch.hpp>

#include "tests/testutil/skip.h"

namespace {

/// Counts the test cases that start and those that skip (tests/testutil/skip.h).
struct SkipCounter : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo&) override { kiln::testutil::case_started(); }
  void testCaseEnded(const Catch::TestCaseStats&) override { kiln::testutil::case_ended(); }
};

}  // namespace

CATCH_REGISTER_LISTENER(SkipCounter)

int main(int argc, char* argv[]) {
  // Tests write to child processes' stdin; a child that exits early must not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  int failed = Catch::Session().run(argc, argv);
  // ctest runs one test case per process: one that skipped reports SKIP_RETURN_CODE.
  if (failed == 0 && kiln::testutil::started_cases() > 0 &&
      kiln::testutil::skipped_cases() == kiln::testutil::started_cases()) {
    return kiln::testutil::kSkipExitCode;
  }
  return failed;
}
