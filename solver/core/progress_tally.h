// A build's progress events added up: each step's number, state and last output
// lines as a progress view shows them, and the summary at the end (steps run and
// cached, the critical path).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "solver/core/progress.h"

namespace kiln::solver::core {

/// What one step did, as its events tell.
struct StepStats {
  std::string name;
  bool cached = false;
  bool ran = false;
  bool failed = false;
  std::chrono::system_clock::time_point started;
  /// The epoch while the step runs.
  std::chrono::system_clock::time_point finished;
};

/// The steps of one build, from its events. Not thread-safe: the caller
/// serializes record() with the readers.
class ProgressTally {
 public:
  /// Adds `event` to its step's facts; returns the step's number (1 for the first
  /// vertex seen, then 2, ...). A step keeps the name of its first event.
  int record(const ProgressEvent& event);

  /// The steps' vertices in the order first seen.
  const std::vector<Digest>& order() const { return order_; }
  /// The facts of a step seen before.
  const StepStats& step(const Digest& vertex) const { return steps_.at(vertex); }
  /// The last (at most 4) output lines of a step that has not finished.
  const std::deque<std::string>& tail(const Digest& vertex) const;
  /// How many steps are cached or have finished (done, failed or canceled).
  size_t finished() const;
  /// How many steps ran (not from the cache).
  size_t ran() const;
  /// How many steps came from the cache.
  size_t cached() const;
  /// The longest chain of steps that ran, first step first: from the step that
  /// ended last, back through the step that ended last before each one started
  /// (5ms of slack). Pointers into this tally, valid until the next record().
  std::vector<const StepStats*> critical_path() const;

 private:
  std::map<Digest, int> numbers_;
  std::map<Digest, StepStats> steps_;
  std::map<Digest, std::deque<std::string>> tails_;
  std::vector<Digest> order_;
};

}  // namespace kiln::solver::core
