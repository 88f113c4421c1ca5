// Snapshot store: unpacked layers keyed by OCI chain ID, and mutable snapshots
// (an overlayfs upper dir over a chain, or a full copy when overlay is missing).
//
// On disk, under ROOT:
//   snapshots/<chain-id hex>/fs        the layer in overlay form (a lower dir), or a
//                                      symlink ../<hex>/fs to the same layer's
//                                      snapshot as a base (SnapshotStore::lay_over)
//   snapshots/<chain-id hex>/diff_id   "sha256:..." of the layer's tar
//   snapshots/<chain-id hex>/parent    the parent's chain ID, empty for a base layer
//   snapshots/tmp-XXXXXX/              a mutable snapshot (upper/, work/ or rootfs/)
//   tmp/                               unpacks in progress, renamed into snapshots/
// Every immutable snapshot appears by one rename of a complete directory, so a
// crash leaves only temp dirs and concurrent writers of one chain ID are fine
// (the first rename wins).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/atomic_file.h"

#include "support/digest.h"
#include "support/file_lock.h"

namespace kiln::cache {

/// ChainID(parent, layer) = sha256(parent.str() + " " + diff_id.str()).
Digest chain_id(const Digest& parent_chain_id, const Digest& diff_id);
/// The chain IDs of `diff_ids` (bottom layer first): ChainID(L0) = DiffID(L0).
std::vector<Digest> chain_ids(llvm::ArrayRef<Digest> diff_ids);

/// How mutable snapshots are made.
enum class Snapshotter {
  overlay,  ///< overlayfs upper dir over the chain; the upper dir is the diff
  native,   ///< a full copy of the chain; the diff is computed by comparison
};

/// `native` when KILN_SNAPSHOTTER=native or when overlayfs is not in
/// /proc/filesystems, `overlay` otherwise.
Snapshotter default_snapshotter();

/// A layer blob to unpack: the file and its expected DiffID.
struct LayerBlob {
  std::string path;
  Digest diff_id;
};

class MutableSnapshot;

/// See MutableSnapshot::set_durability().
enum class Durability { synced, volatile_ };

/// The snapshots under one root. Cheap to copy; all methods are thread-safe and
/// safe against other processes using the same root.
class SnapshotStore {
 public:
  /// Opens the store under `root`, creating ROOT/snapshots and ROOT/tmp.
  static llvm::Expected<SnapshotStore> open(llvm::StringRef root,
                                            Snapshotter snapshotter = default_snapshotter());

  /// ROOT/snapshots/<hex>/fs (whether or not it exists).
  std::string fs_dir(const Digest& chain_id) const;
  /// True when the snapshot `chain_id` is complete on disk.
  bool contains(const Digest& chain_id) const;
  /// The parent chain ID of `chain_id`, or nullopt for a base layer.
  llvm::Expected<std::optional<Digest>> parent(const Digest& chain_id) const;
  /// The DiffID of the top layer of `chain_id`.
  llvm::Expected<Digest> diff_id(const Digest& chain_id) const;
  /// When the snapshot was committed (its diff_id record's mtime), as unix
  /// seconds and nanoseconds: stable for as long as the snapshot exists.
  llvm::Expected<std::pair<int64_t, int64_t>> created(const Digest& chain_id) const;
  /// The fs dirs of `chain_id` and its ancestors, topmost first (overlay's
  /// lowerdir order). Fails when a snapshot of the chain is missing.
  llvm::Expected<std::vector<std::string>> lower_dirs(const Digest& chain_id) const;

  /// lower_dirs() as overlayfs must get them: cut after a layer whose root is
  /// opaque (overlayfs ignores an opaque lower root, so the layers below it
  /// must be left out).
  llvm::Expected<std::vector<std::string>> merged_lowers(const Digest& chain_id) const;

  /// Unpacks the missing layers of an image (bottom layer first) in parallel,
  /// verifying each DiffID, and returns the chain IDs. Existing snapshots are
  /// reused; on failure nothing partial is left in snapshots/.
  llvm::Expected<std::vector<Digest>> unpack_chain(llvm::ArrayRef<LayerBlob> layers) const;

  /// Adds the overlay-form directory `dir` (moved, not copied: it must be on the
  /// store's file system) as the snapshot of `diff_id` over `parent`. Returns the
  /// chain ID; when it already exists `dir` is removed and the existing one kept.
  llvm::Expected<Digest> add_dir(llvm::StringRef dir, std::optional<Digest> parent,
                                 const Digest& diff_id) const;

  /// A new mutable snapshot over `parent` (nullopt: an empty file system), made
  /// by this store's snapshotter.
  llvm::Expected<MutableSnapshot> create_mutable(std::optional<Digest> parent) const;

  /// Opens again a mutable snapshot that MutableSnapshot::persist() left at
  /// `dir`, unmounted. Like any MutableSnapshot it is removed on destruction
  /// unless persisted again (persist(`dir`) keeps it where it is). Takes no lock:
  /// the caller makes sure that one process at a time uses it (e.g. a
  /// container's own lock).
  llvm::Expected<MutableSnapshot> open_mutable(llvm::StringRef dir) const;

  /// Cleans up after processes that died: removes the mutable snapshots
  /// ROOT/snapshots/tmp-* that no live process holds (an exclusive FileLock
  /// on the directory) and whose ctime is at least `min_age_seconds` old (a younger one
  /// may be between mkdtemp() and flock()), unmounting (lazily) an overlay or
  /// bind mount still made from one. Returns how many were removed.
  llvm::Expected<unsigned> remove_stale(int64_t min_age_seconds = 10) const;

  /// The snapshot of the one-layer chain `layer` laid over `parent` (its fs dir is
  /// a symlink to the layer's, so nothing is copied or packed), when that
  /// equals writing the layer's entries into `parent`'s file system: each entry
  /// is absent there, or is a directory there too with the same mode and owner
  /// (see lays_over_cleanly()), and `dest` (when not empty: the copy's
  /// destination) is absent there or an empty directory. nullopt when it is not.
  /// BuildKit's `COPY --link` always lays over; kiln does it only when the
  /// result is the same.
  llvm::Expected<std::optional<Digest>> lay_over(const Digest& layer, std::optional<Digest> parent,
                                                 llvm::StringRef dest = {}) const;
  /// Whether `path` (absolute or relative to the root) is absent from the file
  /// system of `chain`, or is an empty directory there (nullopt: the empty file
  /// system). A cheap test of whether a copy to `path` may lay over.
  llvm::Expected<bool> absent_or_empty_dir(std::optional<Digest> chain, llvm::StringRef path) const;

  /// Removes the snapshot `chain_id` (not its parents). Missing is fine. The
  /// caller makes sure that nothing mounts it.
  llvm::Error remove(const Digest& chain_id) const;

  const std::string& root() const { return root_; }
  Snapshotter snapshotter() const { return snapshotter_; }

 private:
  SnapshotStore(std::string root, Snapshotter snapshotter)
      : root_(std::move(root)), snapshotter_(snapshotter) {}
  std::string snapshot_dir(const Digest& chain_id) const;

  std::string root_;
  Snapshotter snapshotter_;
};

/// A writable file system over a chain of snapshots. Move-only. mount() shows
/// it at a target; commit() turns its changes into an immutable snapshot; the
/// destructor (or drop()) unmounts what it mounted and removes its directories,
/// it never commits. Not thread-safe.
class MutableSnapshot {
 public:
  MutableSnapshot(MutableSnapshot&& other) noexcept;
  MutableSnapshot& operator=(MutableSnapshot&& other) noexcept;
  MutableSnapshot(const MutableSnapshot&) = delete;
  MutableSnapshot& operator=(const MutableSnapshot&) = delete;
  ~MutableSnapshot();

  /// Mounts the file system at the existing directory `target`: overlayfs
  /// (lowerdir = the chain, topmost first; when the options exceed a page, the
  /// lower dirs are named by short symlinks DIR/l/<n> and mounted with relative
  /// paths from DIR, up to overlayfs' 500 layers), or a bind mount of the
  /// copy for the native snapshotter. One target at a time.
  llvm::Error mount(llvm::StringRef target);
  /// Whether the file system must reach the disk when unmounted. `volatile_`
  /// (overlayfs "volatile") skips the sync of the whole upper file system that
  /// an overlay unmount does, which can take tens of milliseconds on a busy
  /// disk; the changes are then lost if the host crashes before writing them
  /// back. For throwaway file systems such as containers. Applies to the next
  /// mount().
  void set_durability(Durability durability) { durability_ = durability; }
  /// Unmounts the target of mount(); a no-op when not mounted.
  llvm::Error unmount();
  /// The changes in overlay form, for cache::pack_layer(): the upper dir, or
  /// (native) a directory computed by comparing the copy with the chain. Call
  /// after unmount(). The directory stays valid until commit() or drop().
  llvm::Expected<std::string> diff_dir();
  /// Unmounts, and stores the diff as the immutable snapshot of `diff_id` (which
  /// the caller got by packing diff_dir()) over the parent. Returns the chain ID.
  /// The mutable snapshot is empty afterwards.
  llvm::Expected<Digest> commit(const Digest& diff_id);
  /// Unmounts and removes everything. Safe to call twice.
  llvm::Error drop();
  /// Unmounts and moves the snapshot's directory to `dir` (which must not exist,
  /// or be its current place, on the store's file system, outside ROOT/snapshots so that
  /// remove_stale() leaves it alone), for SnapshotStore::open_mutable() in a later process. This
  /// object is empty afterwards; nothing is removed.
  llvm::Error persist(llvm::StringRef dir);

  Snapshotter snapshotter() const { return snapshotter_; }
  /// The parent chain ID (nullopt for an empty base).
  const std::optional<Digest>& parent() const { return parent_; }
  /// Overlay lower dirs, topmost first (an empty dir when there is no parent).
  const std::vector<std::string>& lower_dirs() const { return lowers_; }
  /// Overlay upper and work dirs (empty strings for the native snapshotter).
  std::string upper_dir() const;
  std::string work_dir() const;
  /// The mounted target, empty when not mounted.
  const std::string& mounted_at() const { return target_; }

 private:
  friend class SnapshotStore;
  MutableSnapshot(SnapshotStore store, std::optional<Digest> parent, std::string dir,
                  std::vector<std::string> lowers, Snapshotter snapshotter,
                  std::optional<FileLock> lock)
      : store_(std::move(store)),
        parent_(std::move(parent)),
        dir_(std::move(dir)),
        lowers_(std::move(lowers)),
        snapshotter_(snapshotter),
        lock_(std::move(lock)) {}
  llvm::Error mount_overlay(const std::string& target);

  SnapshotStore store_;
  std::optional<Digest> parent_;
  std::string dir_;  // ROOT/snapshots/tmp-XXXXXX; empty once committed or dropped
  std::vector<std::string> lowers_;
  Snapshotter snapshotter_;
  std::string target_;
  std::optional<FileLock> lock_;  // on dir_, until commit() or drop()
  Durability durability_ = Durability::synced;
};

/// Overlay form: a whiteout is a char device 0:0.
bool is_whiteout(const struct stat& st);
/// Overlay form: an opaque directory has trusted.overlay.opaque=y.
bool is_opaque_dir(const std::string& path);

/// What a path is in the merged view of overlay-form layer dirs.
enum class MergedKind { absent, dir, other };
struct MergedEntry {
  MergedKind kind = MergedKind::absent;
  struct stat st {};
  std::string path;  ///< where it was found (the topmost layer that has it)
};
/// Looks up the relative path `rel` in the merged view of `lowers` (topmost
/// first), as overlayfs shows it: whiteouts, opaque dirs and files hiding the
/// layers below.
MergedEntry merged_lookup(llvm::ArrayRef<std::string> lowers, llvm::StringRef rel);
/// Whether directory `rel` (a directory in the merged view) shows no entries.
bool merged_dir_empty(llvm::ArrayRef<std::string> lowers, llvm::StringRef rel);

/// Whether every entry below `rel` of the overlay-form tree `layer` (which has no
/// whiteouts) is absent from the merged `lowers`, or is a directory with the
/// same mode and owner and no xattrs in both, recursively.
bool lays_over_cleanly(const std::string& layer, llvm::ArrayRef<std::string> lowers,
                       const std::string& rel);

/// Copies the overlay-form layer dirs `lowers` (topmost first) into `dest` as one
/// merged tree: whiteouts and opaque dirs applied, metadata and hard links kept.
/// With Overwrite::yes an entry already at a path is replaced (a directory where a
/// directory goes is kept and merged into, as BuildKit's local exporter); else an
/// existing entry fails the copy.
llvm::Error copy_merged(llvm::ArrayRef<std::string> lowers, llvm::StringRef dest,
                        Overwrite overwrite = Overwrite::no);

/// Writes into the new directory `diff` the changes that turn the merged
/// `lowers` into `rootfs`, in overlay form (whiteouts for deletions). An entry is
/// changed when its type, mode, owner, xattrs, link target, size or mtime
/// differs, or (mtime without nanoseconds) its content; the parents of changed
/// entries are included. Regular files are hard-linked from `rootfs`.
llvm::Error compute_diff(llvm::ArrayRef<std::string> lowers, llvm::StringRef rootfs,
                         llvm::StringRef diff);

}  // namespace kiln::cache
