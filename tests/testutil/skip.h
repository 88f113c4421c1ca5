// Skipping a test whose input lives outside the repository (the shared conformance
// corpus in ../shared). A skipped test passes in Catch2 but exits with
// kSkipExitCode when every test case the run started skipped, so ctest reports it as
// "Skipped" (SKIP_RETURN_CODE) with the reason in its output.
#pragma once

#include <string>

#include <catch2/catch.hpp>

namespace kiln::testutil {

/// The shared conformance corpus's parent (`../shared` next to the checkout), or
/// the KILN_SHARED_DIR environment variable when set (an empty or missing
/// directory makes the tests that read it skip).
std::string shared_dir();

/// The exit code of a test run whose every test case skipped; ctest's SKIP_RETURN_CODE.
constexpr int kSkipExitCode = 77;

/// Marks the running test case skipped.
void mark_skipped();
/// Whether `path` exists; if not, marks the running test case skipped.
bool present_or_skip(const std::string& path);
/// test_main's listener: a test case starts, a test case ends.
void case_started();
void case_ended();
/// How many test cases were started and how many of them skipped.
int started_cases();
int skipped_cases();

}  // namespace kiln::testutil

/// Returns from the test case, with a warning naming `path`, when `path` is missing.
#define KILN_SKIP_UNLESS_PRESENT(path)                                                  \
  do {                                                                                  \
    if (!kiln::testutil::present_or_skip(path)) {                                       \
      WARN("skipped: '" << std::string(path)                                            \
                        << "' is absent (the shared conformance corpus is not next to " \
                           "this checkout)");                                           \
      return;                                                                           \
    }                                                                                   \
  } while (0)
