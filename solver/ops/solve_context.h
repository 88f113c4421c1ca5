// What the LLB ops of one build use: the stores, the executor, the local
// directories and secrets the user gave, and the layer options.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <llvm/Support/Error.h>

#include "cache/build_db.h"
#include "cache/content_store.h"
#include "cache/context_hash.h"
#include "cache/layer_pack.h"
#include "cache/snapshot.h"
#include "runtime/executor.h"
#include "solver/ops/results.h"
#include "support/cancel.h"

namespace kiln::solver::ops {

/// A local directory the build may read: the context ("context") or a named
/// context (`--build-context name=dir`). `filter` (.dockerignore) may be empty.
/// The hasher is shared by the steps that read the directory, under `mu`.
struct LocalDir {
  LocalDir(std::string dir, cache::PathFilter path_filter, cache::StatCache* stat_cache)
      : path(std::move(dir)),
        filter(path_filter),
        stat_cache(stat_cache),
        hasher(path, cache::ContextHashOptions{std::move(path_filter), stat_cache, {}}) {}
  const std::string path;
  const cache::PathFilter filter;
  /// The content digests of its files, as the hasher last saw them (may be null).
  cache::StatCache* const stat_cache;
  std::mutex mu;
  cache::ContextHasher hasher;
  /// Checksums already computed in this build, by (paths, allow_empty): a
  /// step and its link layer read the same paths, and the context is taken to
  /// stay as it is while the build runs (as BuildKit takes it).
  std::map<std::pair<std::vector<std::string>, bool>, Digest> sums;
};

/// A secret given with `--secret id=X,src=FILE|env=VAR`, already read.
struct Secret {
  std::string data;
};

/// Options of one build that change what the ops produce (the scheduler's own
/// are solver::core::SolveOptions).
struct OpOptions {
  /// Clamp file times in layers to this (SOURCE_DATE_EPOCH); enters the keys of
  /// the steps that make layers.
  std::optional<int64_t> source_date_epoch;
  cache::Compression compression = cache::Compression::gzip;
  /// Network for RUN steps that do not ask for one (`--network`).
  runtime::NetworkMode default_network = runtime::NetworkMode::host;
  /// Stages whose RUN and file steps ignore the cache (`--no-cache-filter`).
  std::set<std::string> no_cache_stages;
  /// `--no-cache`: nothing made by earlier builds is reused, not even the link
  /// layers of copies (see SnapshotStore::lay_over()).
  bool no_cache = false;
};

/// The image a reference names in the local store: its layers (bottom first).
struct StoredImage {
  Digest manifest;
  Digest config;
  std::vector<cache::LayerBlob> layers;
  std::vector<Digest> blob_digests;
  std::vector<std::string> media_types;
};

/// Resolves image references to stored images. The CLI implements it over the
/// image store (and, later, registries). Must be thread-safe.
class ImageSourceResolver {
 public:
  virtual ~ImageSourceResolver() = default;
  /// The image `ref` (normalized, or "name@sha256:...") for `platform`.
  virtual llvm::Expected<StoredImage> stored_image(const std::string& ref,
                                                   const std::string& platform) = 0;
};

/// Fills the new, empty directory `dest` of cache mount `id` with contents from
/// elsewhere (an imported build cache); false when there are none. Thread-safe.
using CacheMountSeeder =
    std::function<llvm::Expected<bool>(const std::string& id, const std::string& dest)>;

/// Everything the ops of one build share. Borrowed by every op vertex; must
/// outlive the solve. Thread-safe (members are, or are guarded).
struct SolveContext {
  std::string root;
  cache::ContentStore content;
  cache::SnapshotStore snapshots;
  cache::BuildDb* db = nullptr;
  runtime::Executor* executor = nullptr;
  ImageSourceResolver* images = nullptr;
  std::map<std::string, std::unique_ptr<LocalDir>> locals;
  std::map<std::string, Secret> secrets;
  /// `--ssh ID=SOCKET`: the ssh-agent socket of each id (absolute paths).
  std::map<std::string, std::string> ssh_agents;
  OpOptions options;
  /// Optional: seeds cache mounts this store does not have yet.
  CacheMountSeeder seed_cache_mount;
  /// Optional: the build's cancel token, for work done outside a step's exec
  /// (resolving a git source's ref while computing its cache key).
  const CancelToken* cancel = nullptr;
};

/// Packs the changes of `snapshot` into a layer blob in the content store,
/// records it in the build tables, and commits the snapshot (unmounting it).
/// Returns the new file system.
llvm::Expected<core::ResultPtr> commit_layer(const SolveContext& ctx,
                                             cache::MutableSnapshot& snapshot);

}  // namespace kiln::solver::ops
