// The cache store of one build: the store's own cache index first, then the
// caches imported with `--cache-from`; it remembers what every key resolved to,
// for the cache export and for explaining misses.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "cache/build_db.h"
#include "solver/core/cache_store.h"
#include "solver/ops/cache_index.h"

namespace kiln::solver::ops {

/// Results imported from elsewhere. The CLI implements it over the exporter's
/// cache importer. Must be thread-safe.
class ImportedResults {
 public:
  virtual ~ImportedResults() = default;
  /// Makes the imported result of `key` local (its snapshot chain unpacked and
  /// the key recorded in kiln.db) and returns it; nullopt when there is none or
  /// it could not be fetched (then the step runs). `step` names it in warnings.
  virtual llvm::Expected<std::optional<cache::CachedStep>> load(const core::CacheKey& key,
                                                                const std::string& step) = 0;
};

/// What a key came to in this build.
struct KeyOutcome {
  /// The file system (nullopt: empty); set when `hit` or `ran`.
  std::optional<Digest> chain;
  /// Found in the local index or an imported cache.
  bool hit = false;
  /// Found in an imported cache (not the local index).
  bool imported = false;
  /// Looked up and not found.
  bool missed = false;
  /// Executed, giving a file system.
  bool ran = false;
};

/// Looks keys up locally, then in `imported` (may be null). Thread-safe.
class BuildCacheStore : public core::CacheStore {
 public:
  BuildCacheStore(SnapshotCacheStore& local, ImportedResults* imported)
      : local_(local), imported_(imported) {}
  llvm::Expected<core::ResultPtr> load(const core::Vertex& vertex,
                                       const core::CacheKey& key) override;
  llvm::Error save(const core::Vertex& vertex, const core::CacheKey& key,
                   const core::ResultPtr& result) override;

  /// Every key looked up or saved so far.
  std::map<core::CacheKey, KeyOutcome> outcomes() const;

 private:
  SnapshotCacheStore& local_;
  ImportedResults* imported_;
  mutable std::mutex mu_;
  std::map<core::CacheKey, KeyOutcome> outcomes_;
};

}  // namespace kiln::solver::ops
