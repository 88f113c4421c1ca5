// A persistent map from a file's stat identity to the sha256 of its contents,
// so that re-hashing an unchanged build context is one stat walk (DESIGN.md).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"

namespace kiln::cache {

/// The parts of a stat that identify one version of a file's contents.
struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint32_t mode = 0;
  bool operator==(const FileIdentity&) const = default;
};

/// The identity of the file `st` describes.
FileIdentity file_identity(const struct stat& st);

/// Content digests by absolute path, kept in one binary file written
/// atomically (`ROOT/statcache.bin`). A missing, truncated or corrupt file
/// reads as an empty cache: it is only a cache. Several processes may share
/// the file; the last save wins. Thread-safe: several hashers (build contexts)
/// may share one cache.
class StatCache {
 public:
  /// Files changed less than this before they were hashed are "racy": their
  /// timestamps may not change on a further edit within the same clock tick,
  /// so their entries are not trusted (as git's racy-clean rule).
  static constexpr int64_t kDefaultRacyWindowNs = 1'000'000'000;

  /// A cache stored at `path` (not read yet), with `racy_window_ns`.
  explicit StatCache(std::string path, int64_t racy_window_ns = kDefaultRacyWindowNs);

  /// Reads the file; a missing or unreadable-format file leaves the cache
  /// empty. Fails only on I/O errors other than "not found".
  llvm::Error load();
  /// Writes the file atomically when something changed since load/save.
  llvm::Error save();

  /// The content digest recorded for `path` when `id` matches exactly and the
  /// entry is not racy.
  std::optional<Digest> lookup(llvm::StringRef path, const FileIdentity& id) const;
  /// Records `digest` for `path` as it was at `id`; `hashed_at_ns` is the
  /// realtime clock read before the file was stat'ed.
  void record(llvm::StringRef path, const FileIdentity& id, const Digest& digest,
              int64_t hashed_at_ns);

  size_t size() const {
    std::shared_lock lock(mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    FileIdentity id;
    int64_t hashed_at_ns = 0;
    Digest digest;
  };
  std::string path_;
  int64_t racy_window_ns_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  bool dirty_ = false;
};

/// The realtime clock in nanoseconds.
int64_t realtime_ns();

}  // namespace kiln::cache
