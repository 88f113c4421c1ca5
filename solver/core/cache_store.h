// Where the scheduler finds and records results by cache key, and how two
// processes sharing one store avoid building the same step twice.
#pragma once

#include <memory>

#include <llvm/Support/Error.h>

#include "solver/core/vertex.h"

namespace kiln::solver::core {

/// The cache index (the real one lives on SQLite; tests use a fake). Must be
/// thread-safe: the scheduler calls it from worker threads.
class CacheStore {
 public:
  virtual ~CacheStore();
  /// The result recorded for `key`, or nullptr when there is none. `vertex`
  /// is the step asking, so the store can rebuild its kind of result.
  virtual llvm::Expected<ResultPtr> load(const Vertex& vertex, const CacheKey& key) = 0;
  /// Records `result` as the result of `vertex` under `key`.
  virtual llvm::Error save(const Vertex& vertex, const CacheKey& key, const ResultPtr& result) = 0;
};

/// A held exclusive right to build one cache key; released on destruction.
class StepLock {
 public:
  virtual ~StepLock();
};

/// Cross-process step locks: before building a missed key, the scheduler takes
/// its lock, then looks the key up again, so a step another process is
/// building is waited for, not built twice. Must be thread-safe.
class StepLocks {
 public:
  virtual ~StepLocks();
  /// Blocks until the lock for `key` is held, or fails with CancelledError
  /// once `cancel` fires.
  virtual llvm::Expected<std::unique_ptr<StepLock>> acquire(const CacheKey& key,
                                                            const CancelToken& cancel) = 0;
};

}  // namespace kiln::solver::core
