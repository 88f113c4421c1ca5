// Rendering build progress for people and scripts: BuildKit's plain format, a
// compact live view on a terminal, or one JSON event per line.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "solver/core/progress.h"

namespace kiln::cli {

/// How progress is shown (`--progress`).
enum class ProgressMode { tty, plain, rawjson, quiet };

/// Parses "auto", "tty", "plain", "rawjson" or "quiet"; auto picks tty when
/// `out` is a terminal, else plain.
llvm::Expected<ProgressMode> parse_progress_mode(llvm::StringRef text, FILE* out);

/// Per-vertex facts the summary needs.
struct StepStats {
  std::string name;
  bool cached = false;
  bool ran = false;
  bool failed = false;
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point finished;
};

/// Receives scheduler events (from worker threads, serialized per build) and
/// prints them to `out`. Thread-safe.
class ProgressPrinter {
 public:
  ProgressPrinter(ProgressMode mode, FILE* out);
  ~ProgressPrinter();
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  /// Handles one scheduler event.
  void on_event(const solver::core::ProgressEvent& event);
  /// Prints a step of kiln's own (exporting, naming) as a finished vertex.
  void note(const std::string& name, const std::string& detail);
  /// Stops the live view and prints the final summary: total time, steps run
  /// and cached, and the longest chain of steps that ran (the critical path).
  void finish(bool success);
  /// What each step did, by vertex digest.
  std::map<Digest, StepStats> stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::cli
