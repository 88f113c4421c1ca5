// Reading a build cache (`--cache-from`) lazily: only the cache config is read
// up front; a layer blob is fetched when a step that needs it is a hit, then
// unpacked into the snapshot store and recorded in kiln.db so later builds hit
// locally. A blob that is missing or corrupt, or a registry that does not
// answer, turns the hit into a miss with a warning: the step runs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "cache/build_db.h"
#include "cache/content_store.h"
#include "cache/snapshot.h"
#include "exporter/cache_config.h"
#include "oci/reference.h"
#include "registry/blob_store.h"
#include "registry/client.h"

namespace kiln::exporter {

/// Receives problems that do not stop the build. Called from worker threads,
/// one call at a time (the importer serializes them).
using CacheWarning = std::function<void(const std::string& message)>;

/// Where an imported cache lives. Implementations are thread-safe.
class CacheSource {
 public:
  virtual ~CacheSource();
  /// "local cache '/ci/cache'", "registry cache 'reg/app:cache'", for messages.
  virtual std::string name() const = 0;
  /// Reads the cache config (and nothing else).
  virtual llvm::Expected<CacheConfig> read_config() = 0;
  /// Copies `blob` into `content`, verifying its digest and size.
  virtual llvm::Error fetch(const oci::Descriptor& blob, const cache::ContentStore& content) = 0;
};

/// The OCI layout at `dir` written by export_cache_local (manifest tagged `tag`).
std::unique_ptr<CacheSource> local_cache_source(std::string dir, std::string tag = "latest");

/// Repository `ref` of a registry: a kiln cache manifest, or an image whose
/// config holds an inline cache (kInlineCacheField). `client` and `blobs` (the
/// local content store as the client's BlobStore) are borrowed.
std::unique_ptr<CacheSource> registry_cache_source(registry::Client& client,
                                                   registry::BlobStore& blobs, oci::Reference ref);

/// An image of the local store (manifest `manifest` in `content`) with an
/// inline cache; `name` is for messages.
std::unique_ptr<CacheSource> stored_image_cache_source(cache::ContentStore content, Digest manifest,
                                                       std::string name);

/// The caches of `--cache-from`, in the order given (the first that records a
/// key wins). Thread-safe.
class CacheImporter {
 public:
  CacheImporter(cache::ContentStore content, cache::SnapshotStore snapshots, cache::BuildDb& db,
                CacheWarning warn);
  ~CacheImporter();

  /// Reads the config of `source`. When that fails the source is skipped with a
  /// warning, or, when `ignore_error` is false, the error is returned.
  llvm::Error add(std::unique_ptr<CacheSource> source, bool ignore_error = true);
  bool empty() const { return sources_.empty(); }

  /// The layers a source records for `key` (bottom first), without any I/O.
  std::optional<std::vector<CacheLayer>> layers(const Digest& key) const;

  /// Makes the imported result of `key` local: fetches the blobs that are
  /// missing, unpacks the missing snapshots of the chain, records the layers and
  /// the key in kiln.db. nullopt when no source records `key`, or when that
  /// failed (warned, naming `step`; the key is not tried again) — unless the
  /// source was added with `ignore_error` false, then the error is returned.
  llvm::Expected<std::optional<cache::CachedStep>> load(const Digest& key, llvm::StringRef step);

  /// Makes sure blob `digest` of some source is in the content store.
  llvm::Error fetch_blob(const Digest& digest);

  /// Unpacks the imported contents of cache mount `id` into the empty directory
  /// `dest`; false when no source has that mount.
  llvm::Expected<bool> seed_cache_mount(const std::string& id, const std::string& dest);

  /// The step records (raw JSON arrays) of the sources that have them.
  std::vector<std::string> step_records() const;

  /// Blobs fetched from sources so far.
  int blobs_fetched() const;
  /// Blobs that could not be fetched (missing or corrupt in their source), so
  /// that an export to the same place writes them anew.
  std::set<Digest> bad_blobs() const;

 private:
  struct Source;
  const Source* source_of_blob(const Digest& digest) const;
  llvm::Error fetch(const Source& source, const oci::Descriptor& blob);
  llvm::Expected<cache::CachedStep> materialize(const Source& source,
                                                const std::vector<CacheLayer>& layers,
                                                const Digest& key);

  cache::ContentStore content_;
  cache::SnapshotStore snapshots_;
  cache::BuildDb& db_;
  CacheWarning warn_;
  std::vector<std::unique_ptr<Source>> sources_;

  std::mutex warn_mu_;
  mutable std::mutex mu_;
  std::set<Digest> failed_;
  std::set<Digest> bad_;
  std::map<Digest, std::shared_ptr<std::mutex>> fetching_;
  int fetched_ = 0;
};

}  // namespace kiln::exporter
