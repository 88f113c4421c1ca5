#include "tests/testutil/skip.h"

#include <sys/stat.h>

#include <cstdlib>

namespace kiln::testutil {
namespace {

int started = 0;
int skipped = 0;
bool current_skipped = false;

}  // namespace

std::string shared_dir() {
  const char* env = std::getenv("KILN_SHARED_DIR");
  return env ? env : KILN_SHARED_DIR;
}

void mark_skipped() { current_skipped = true; }

bool present_or_skip(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    return true;
  }
  mark_skipped();
  return false;
}

void case_started() {
  ++started;
  current_skipped = false;
}

void case_ended() {
  if (current_skipped) {
    ++skipped;
  }
}

int started_cases() { return started; }
int skipped_cases() { return skipped; }

}  // namespace kiln::testutil
