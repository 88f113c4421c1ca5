// The build tables of kiln.db: layer blobs packed from snapshots, and the cache-key
// index (step cache key -> snapshot chain).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/store_db.h"
#include "support/digest.h"

namespace kiln::cache {

/// A layer blob packed from a snapshot.
struct LayerBlobRecord {
  Digest blob;
  uint64_t size = 0;
};

/// What a cache key resolved to.
struct CachedStep {
  /// The snapshot chain; nullopt for the empty file system.
  std::optional<Digest> chain;
};

/// One connection to kiln.db shared by the solver's worker threads (calls are
/// serialized by a mutex). Safe against other processes using the same store.
class BuildDb {
 public:
  /// Opens ROOT/kiln.db (running migrations).
  static llvm::Expected<std::unique_ptr<BuildDb>> open(llvm::StringRef root);

  /// Records that layer `diff_id` packed with `compression` ("gzip", "zstd", "none")
  /// is the blob `blob` of `size` bytes.
  llvm::Error record_layer(const Digest& diff_id, llvm::StringRef compression,
                           const LayerBlobRecord& blob);
  /// The blob recorded for `diff_id` and `compression`, if any.
  llvm::Expected<std::optional<LayerBlobRecord>> find_layer(const Digest& diff_id,
                                                            llvm::StringRef compression);
  /// Records the result of the step with cache key `key`.
  llvm::Error save_key(const Digest& key, const CachedStep& step);
  /// The result recorded for `key`, if any.
  llvm::Expected<std::optional<CachedStep>> load_key(const Digest& key);

 private:
  explicit BuildDb(std::unique_ptr<StoreDb> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<StoreDb> db_;
};

}  // namespace kiln::cache
