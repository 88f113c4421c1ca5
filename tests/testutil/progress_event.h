// Progress events for the tests of what adds them up and shows them
// (solver/core/progress_tally.h, builder/progress_text.h).
#pragma once

#include <chrono>
#include <string>

#include "solver/core/progress.h"
#include "support/digest.h"

namespace kiln::testutil {

/// `ms` milliseconds past a fixed hour (not the epoch, so that differences
/// before the first event stay positive).
inline std::chrono::system_clock::time_point at_ms(int ms) {
  return std::chrono::system_clock::time_point{} + std::chrono::hours(1) +
         std::chrono::milliseconds(ms);
}

/// An event of step `name` (its vertex the digest of the name) at at_ms(`ms`).
inline solver::core::ProgressEvent progress_event(const std::string& name,
                                                  solver::core::ProgressKind kind, int ms,
                                                  const std::string& text = "") {
  solver::core::ProgressEvent e;
  e.vertex = Digest::of(name);
  e.name = name;
  e.kind = kind;
  e.time = at_ms(ms);
  e.text = text;
  return e;
}

}  // namespace kiln::testutil
