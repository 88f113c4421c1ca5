// The store's configuration file, ROOT/store.toml, and the automatic garbage
// collection that it sets up (BuildKit's GC policies, with a hard cap):
//
//   [gc]
//   enabled = true              # false: builds never collect
//   reservedSpace = "10%"       # defaults for the policies' limits: bytes,
//   maxUsedSpace  = "60%"       # "512MB"/"10GB" (binary units, like
//   minFreeSpace  = "20%"       # docker's), or "%" of the file system
//   [[gc.policy]]               # in order; none given: the default below
//   all = false
//   filters = ["type==exec.cachemount", "until=24h", "id=abc"]
//   keepDuration = "48h"        # "90s", "30m", "48h", "60d", or seconds
//   reservedSpace = "1GB"
//   maxUsedSpace = "512MB"
//   minFreeSpace = "10%"
//
// The default, as BuildKit's: (1) cache mounts unused for 48h while they take
// more than 512MB; (2) anything unused for 60 days; (3) cache records and
// unreferenced blobs, then (4) everything (all), down to the limits. A "%"
// is of the store's file system; reservedSpace defaults to 10% (at most 10GB),
// maxUsedSpace to 60% (at most 100GB), minFreeSpace to 20%.
//
// The smallest maxUsedSpace of the unfiltered policies is a hard cap: after
// the policies, when the store is still above it, everything unused goes
// (least recently used first, dangling images last), whatever the keepDuration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/gc.h"
#include "cache/image_store.h"

namespace kiln::cache {

struct GcConfig {
  bool enabled = true;
  std::vector<GcPolicy> policies;
  /// The hard cap in bytes (0: none).
  int64_t hard_cap = 0;
};

/// Parses a size: bytes ("1048576"), with a unit ("512MB", "10GiB", "1.5g"; units
/// are binary, as docker's --keep-storage), or a percentage of `fs_size`.
llvm::Expected<int64_t> parse_space(llvm::StringRef text, int64_t fs_size);
/// Parses a duration: Go's "1h30m", "90s", plus "d" for days; a bare number is
/// seconds.
llvm::Expected<int64_t> parse_duration(llvm::StringRef text);
/// Adds a filter ("type==X", "type=X", "id=X", "until=DURATION") to `filters`.
llvm::Error add_gc_filter(llvm::StringRef text, GcFilters& filters);

/// Reads ROOT/store.toml (the defaults when it is missing), with percentages of
/// `fs_size`. Errors name the file and the key.
llvm::Expected<GcConfig> load_gc_config(llvm::StringRef root, int64_t fs_size);

/// What an automatic collection did (nothing when it found the store within
/// its limits and ran its time-based policies less than a minute ago).
struct AutoGcReport {
  bool ran = false;
  GcReport report;
  /// The hard cap and, when the store is still above it, the total (what
  /// images, containers and running builds use).
  int64_t hard_cap = 0;
  bool over_cap = false;
};

/// Whether the store of `images` is above the hard cap of ROOT/store.toml (false
/// without one, or when GC is disabled). Cheap when the whole file system is
/// below the cap; takes no lease (measuring is safe beside builds).
llvm::Expected<bool> over_hard_cap(ImageStore& images);

/// The collection after a build: runs the policies of ROOT/store.toml over the
/// store of `images`. The caller holds the exclusive StoreLease. Cheap when
/// nothing is to be done (one measure of the store, which remembers sizes).
llvm::Expected<AutoGcReport> run_auto_gc(ImageStore& images);

}  // namespace kiln::cache
