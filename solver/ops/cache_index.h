// The scheduler's cache store and cross-process step locks over a kiln store:
// cache keys in kiln.db (cache/build_db.h), lock files under ROOT/locks.
#pragma once

#include <memory>
#include <string>

#include "cache/build_db.h"
#include "cache/snapshot.h"
#include "solver/core/cache_store.h"

namespace kiln::solver::ops {

/// Finds and records step results (snapshot chains) by cache key. A recorded
/// chain whose snapshot is gone is a miss. Thread-safe.
class SnapshotCacheStore : public core::CacheStore {
 public:
  SnapshotCacheStore(cache::BuildDb& db, cache::SnapshotStore snapshots)
      : db_(db), snapshots_(std::move(snapshots)) {}
  llvm::Expected<core::ResultPtr> load(const core::Vertex& vertex,
                                       const core::CacheKey& key) override;
  llvm::Error save(const core::Vertex& vertex, const core::CacheKey& key,
                   const core::ResultPtr& result) override;

 private:
  cache::BuildDb& db_;
  cache::SnapshotStore snapshots_;
};

/// Step locks as flock()ed files ROOT/locks/<key hex>, so two kiln processes
/// building the same step wait for each other. Thread-safe.
class FileStepLocks : public core::StepLocks {
 public:
  explicit FileStepLocks(std::string root) : dir_(std::move(root) + "/locks") {}
  llvm::Expected<std::unique_ptr<core::StepLock>> acquire(const core::CacheKey& key,
                                                          const core::CancelToken& cancel) override;

 private:
  std::string dir_;
};

}  // namespace kiln::solver::ops
