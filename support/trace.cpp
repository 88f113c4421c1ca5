#include "support/trace.h"

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace kiln {
namespace {

double now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Static initialization: close enough to the start of main().
const double kStartMs = now_ms();

}  // namespace

bool trace_enabled() {
  static const bool enabled = std::getenv("KILN_TRACE") != nullptr;
  return enabled;
}

void trace(const llvm::Twine& what) {
  if (!trace_enabled()) {
    return;
  }
  std::string text = what.str();
  std::fprintf(stderr, "kiln-trace +%.3fms %s\n", now_ms() - kStartMs, text.c_str());
}

}  // namespace kiln
