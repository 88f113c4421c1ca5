// The generic parallel scheduler: cache keys, cache lookups, deduplicated
// parallel execution, progress events and cancellation (DESIGN.md, solver/).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <llvm/Support/Error.h>

#include "solver/core/cache_key.h"
#include "solver/core/cache_store.h"
#include "solver/core/progress.h"
#include "solver/core/vertex.h"

namespace kiln::solver::core {

/// Whether the scheduler consults the cache store before running a step
/// (`--no-cache` is `no`; results are still saved).
enum class CacheLookup { yes, no };

/// What one step's cache key was computed from (compute_cache_key's inputs).
struct KeyInfo {
  CacheKey key;
  Digest op_digest;
  std::vector<KeyInput> inputs;
};

/// Told each step's key once it is known, with one of the vertices of the step
/// (for records of what a build's keys were made of: cache export, explaining
/// misses). Called from worker threads, possibly at once; must not call back
/// into the scheduler.
using KeyObserver = std::function<void(const Vertex& vertex, const KeyInfo& info)>;

struct SchedulerOptions {
  /// How many `container` execs may run at once; 0 means one per CPU.
  unsigned jobs = 0;
  /// The cache index; nullptr runs every step and records nothing. Borrowed:
  /// must outlive the scheduler.
  CacheStore* store = nullptr;
  /// Cross-process step locks; nullptr when only this process uses the store.
  /// Borrowed: must outlive the scheduler.
  StepLocks* locks = nullptr;
  CacheLookup lookup = CacheLookup::yes;
  /// Optional; see KeyObserver.
  KeyObserver on_key;
  /// Start each wanted vertex's helper (Vertex::helper()) at once rather than
  /// when the vertex turns out to need running. Faster when the vertex misses;
  /// wasted work when the vertex hits and its helper does not (e.g. a cache
  /// imported without helper results).
  bool speculate = false;
};

struct SolveOptions {
  /// Receives this request's events; may be empty.
  ProgressCallback progress;
  /// When set and cancelled (Ctrl-C), the request stops and fails with
  /// CancelledError. Borrowed for the duration of solve().
  const CancelToken* cancel = nullptr;
};

/// The outcome of one request: the root's result and its cache key.
struct Solved {
  ResultPtr result;
  CacheKey key;
};

/// Solves vertex graphs. Vertices with equal digests run once per scheduler,
/// also across concurrent solve() calls, and their results are kept for the
/// scheduler's lifetime (a failed or cancelled step is retried by the next
/// request). Thread-safe: solve() may be called from several threads at once.
class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options);
  /// Waits for every queued or running task; no solve() may be in progress.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Builds `root` and everything it needs, reusing cached results, and
  /// blocks until done. On the first failing step the request's other steps
  /// are cancelled (running ones through their token; queued ones never
  /// start) and that step's error is returned, once nothing of this request
  /// runs any more. The graph of `root` must stay alive until solve returns.
  llvm::Expected<Solved> solve(const Vertex& root, const SolveOptions& options = {});

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::solver::core
