// What the store holds and what each thing costs on disk: the accounting behind
// `kiln system df`, the prune commands and automatic garbage collection.
//
// Sizes are disk usage (st_blocks), as du(1) counts them: every directory and
// file under ROOT once, hard links (and so the files link layers and local cache
// imports share) counted once, in the first object that has them (blobs, then
// snapshots by chain ID, then containers, cache mounts and the store's own
// files). Nothing on another file system (a running container's mounted rootfs)
// is counted. The sum of every object's size is the store's total, which equals
// `du -sx --block-size=1 ROOT`.
//
// The size, parent and link base of an immutable snapshot are remembered in
// kiln.db (`snapshot_usage`, keyed by chain and checked against the directory's
// inode), and the chains of an image config in `config_chains`, so that
// measuring a large store reads little more than two directories.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"
#include "support/digest.h"

namespace kiln::cache {

/// A blob of the content store.
struct BlobUsage {
  Digest digest;
  int64_t size = 0;
  /// Its mtime (unix seconds): when it was stored.
  int64_t created = 0;
  /// How many images hold it (blob_refs rows).
  int images = 0;
  /// How many step history files name it (file lists for --explain-cache).
  int history = 0;
};

/// An immutable snapshot and the cache records (cache keys) that name it.
struct SnapshotUsage {
  Digest chain;
  std::optional<Digest> parent;
  /// The snapshot whose fs/ this one's fs symlinks to (a laid-over link layer).
  std::optional<Digest> link_base;
  int64_t size = 0;
  /// When it was committed (unix seconds).
  int64_t created = 0;
  /// The last time a build used it (a cache hit), else `created`.
  int64_t last_used = 0;
  /// How many times builds used it (cache hits).
  int64_t use_count = 0;
  /// Cache keys whose result it is.
  std::vector<std::string> keys;
  /// Images whose layers include it, and containers whose file system lies on it.
  int images = 0;
  int containers = 0;
  /// Snapshots whose parent or link base it is.
  int dependents = 0;
};

/// An image and what it costs.
struct ImageUsage {
  ImageRecord record;
  /// Chain IDs of its layers, bottom first.
  std::vector<Digest> chains;
  /// Bytes of its blobs and of its layers' snapshots (those present).
  int64_t size = 0;
  /// Of `size`, what other images hold too.
  int64_t shared_size = 0;
  /// Containers created from it.
  int containers = 0;
};

/// A container directory (ROOT/containers/<id>).
struct ContainerUsage {
  std::string id;
  /// Its image's ID (config digest), from image.json.
  std::optional<Digest> image_id;
  /// The chains its file system lies on.
  std::vector<Digest> chains;
  int64_t size = 0;
};

/// Other things a build keeps: cache mounts, step history.
struct CacheDirUsage {
  /// "exec.cachemount" (ROOT/cache-mounts/<id>), "internal" (ROOT/history/<file>)
  /// or "source.git.checkout" (a git source's mirror, ROOT/git/<remote>-<format>).
  std::string type;
  /// The directory or file name.
  std::string id;
  std::string path;
  int64_t size = 0;
  /// mtime (unix seconds).
  int64_t last_used = 0;
  /// Blobs a history file names (its file lists); their sizes are in `size`.
  std::vector<Digest> blobs;
};

/// A local volume (ROOT/volumes/<name>/, containers/volume_store.h): its disk
/// usage here; `links` (the containers naming it) is filled by containers/.
struct VolumeUsage {
  std::string name;
  int64_t size = 0;
  int links = 0;
};

/// Everything in one store.
struct StoreUsage {
  std::vector<BlobUsage> blobs;
  std::vector<SnapshotUsage> snapshots;
  std::vector<ImageUsage> images;
  std::vector<ContainerUsage> containers;
  std::vector<CacheDirUsage> cache_dirs;
  std::vector<VolumeUsage> volumes;
  /// The store's own files: kiln.db, locks, the stat cache, temp dirs, runc
  /// state, directories.
  int64_t internal = 0;
  /// The sum of all sizes: the store's disk usage.
  int64_t total = 0;

  /// Snapshots in an image's chain or under a container, and their ancestors
  /// and link bases: what builder prune never removes.
  std::set<Digest> image_chains;
  std::set<Digest> container_chains;
};

/// Measures the store of `images` (its root, kiln.db and content store). With
/// StoreAccess::read_only, nothing learned is remembered in kiln.db.
llvm::Expected<StoreUsage> measure_store(ImageStore& images,
                                         StoreAccess access = StoreAccess::read_write);

/// The chains of `snapshot` and its ancestors and link bases in `usage` (with
/// `snapshot`), for protection.
void add_with_ancestors(const StoreUsage& usage, const Digest& snapshot, std::set<Digest>& out);

/// Disk usage of the tree at `path` (du -sx), counting inodes already in `seen`
/// (device, inode) no more, and adding new ones. Missing is 0.
int64_t disk_usage(llvm::StringRef path, std::set<std::pair<uint64_t, uint64_t>>& seen);

}  // namespace kiln::cache
