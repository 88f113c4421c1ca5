// Progress events the scheduler streams to a request's callback.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "support/digest.h"

namespace kiln::solver::core {

enum class ProgressKind {
  started,   ///< exec began
  cached,    ///< the result came from the cache store or an earlier build
  log,       ///< one line of output; `text` holds it
  done,      ///< exec finished successfully
  error,     ///< exec (or key/cache work) failed; `text` holds the message
  canceled,  ///< exec was stopped because no request wanted it any more
};

/// The kind's name in kiln's JSON progress ("started", "cached", "log", "done",
/// "error", "canceled").
inline const char* progress_kind_name(ProgressKind kind) {
  switch (kind) {
    case ProgressKind::started:
      return "started";
    case ProgressKind::cached:
      return "cached";
    case ProgressKind::log:
      return "log";
    case ProgressKind::done:
      return "done";
    case ProgressKind::error:
      return "error";
    case ProgressKind::canceled:
      return "canceled";
  }
  return "unknown";
}

/// One event about one vertex.
struct ProgressEvent {
  ProgressKind kind = ProgressKind::started;
  /// The vertex's digest and name.
  Digest vertex;
  std::string name;
  std::chrono::system_clock::time_point time;
  std::string text;
};

/// Receives a request's events, one at a time (calls are serialized per
/// request) but from worker threads. Must not call back into the scheduler.
using ProgressCallback = std::function<void(const ProgressEvent&)>;

}  // namespace kiln::solver::core
