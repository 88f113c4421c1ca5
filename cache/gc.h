// Garbage collection: removing the build cache records, unreferenced blobs,
// cache mounts and dangling images that nothing uses, least recently used
// first, down to the limits of a policy (BuildKit's GC policies), and the
// image prune. The caller holds the store's exclusive StoreLease
// (cache/gc_lock.h), so no build uses the store meanwhile; what images and
// containers use (and their snapshots' ancestors) is never removed, nor what
// this process's running build noted (chains_in_use()).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"
#include "cache/store_usage.h"

namespace kiln::cache {

/// Which records a prune or policy may remove.
struct GcFilters {
  /// Only records last used at least this many seconds ago (`until=`).
  std::optional<int64_t> until;
  /// Only records of these types ("regular", "exec.cachemount", "internal");
  /// empty: every type.
  std::set<std::string> types;
  /// Only records whose ID starts with one of these (`id=`); empty: any.
  std::vector<std::string> ids;
};

/// One pass of collection (a prune's flags, or one policy of the config).
struct GcPolicy {
  /// Also cache mounts and step history (`--all`); otherwise only cache
  /// records and blobs.
  bool all = false;
  GcFilters filters;
  /// Records used within this many seconds stay (the record itself only: its
  /// ancestors are kept only as far as a kept snapshot needs them).
  int64_t keep_duration = 0;
  /// Limits in bytes; 0 is unset. With none set, everything the filters match
  /// is removed; otherwise removal stops once the store's total is at or below
  /// max_used_space and the file system has min_free_space free, and never
  /// takes the total below reserved_space.
  int64_t max_used_space = 0;
  int64_t reserved_space = 0;
  int64_t min_free_space = 0;
  /// May also remove dangling images that no container uses (automatic
  /// collection's last resort under a hard cap).
  bool dangling_images = false;
};

/// What a collection did.
struct GcReport {
  /// IDs of the removed records, in removal order.
  std::vector<std::string> removed;
  /// Dangling images removed (image IDs).
  std::vector<Digest> removed_images;
  /// The store's total before and after (so the reclaimed space is true).
  int64_t total_before = 0;
  int64_t total_after = 0;
  int64_t reclaimed() const { return total_before - total_after; }
};

/// The record ID `system df -v` and `builder prune` show for a snapshot, blob
/// or cache directory: 12 hex digits (the name for a history file).
std::string cache_record_id(const Digest& digest);

/// Runs `policy` over the store of `images`. The caller holds the exclusive
/// StoreLease. Fails when a removal fails (what was removed stays removed).
llvm::Expected<GcReport> collect_garbage(ImageStore& images, const GcPolicy& policy);

/// Bytes free for unprivileged users on the file system of `path` and its size.
llvm::Expected<std::pair<int64_t, int64_t>> fs_space(llvm::StringRef path);

/// `kiln image prune`: images that no container uses; dangling ones only
/// unless `all`. `until` (seconds) keeps images created more recently;
/// `labels` are docker's label filters ("key", "key=value", "!key", ...
/// given as `label=` or `label!=` values with `negate`).
struct ImagePruneOptions {
  bool all = false;
  std::optional<int64_t> until;
  /// (key, optional value, negate)
  struct Label {
    std::string key;
    std::optional<std::string> value;
    bool negate = false;
  };
  std::vector<Label> labels;
};
struct ImagePruneReport {
  std::vector<std::string> untagged;
  std::vector<Digest> deleted;
  int64_t reclaimed = 0;
};
/// The caller holds the exclusive StoreLease.
llvm::Expected<ImagePruneReport> prune_images(ImageStore& images, const ImagePruneOptions& options);

}  // namespace kiln::cache
