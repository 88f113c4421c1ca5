// The store as a whole, for `kiln system df`, `kiln builder|image|container|
// system prune`: the accounting of cache/store_usage.h joined with what the
// containers are doing, and the prunes, each under the store's exclusive
// StoreLease (it waits for running builds) and each reporting the space it
// truly reclaimed (the store measured before and after).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/gc.h"
#include "cache/store_usage.h"
#include "containers/container_store.h"

namespace kiln::containers {

/// One of `system df`'s rows: docker's TYPE TOTAL ACTIVE SIZE RECLAIMABLE.
struct UsageRow {
  std::string type;
  int64_t total = 0;
  int64_t active = 0;
  int64_t size = 0;
  int64_t reclaimable = 0;
};

/// A container with its state and size.
struct ContainerDiskUsage {
  ContainerSpec spec;
  ContainerState state;
  int64_t size = 0;
};

/// A build cache record as `system df -v` lists it.
struct CacheRecordUsage {
  std::string id;
  std::string type;  ///< "regular", "exec.cachemount", "internal"
  int64_t size = 0;
  int64_t created = 0;
  /// 0: never used by a build after it was made.
  int64_t last_used = 0;
  int64_t usage_count = 0;
  bool shared = false;
  bool in_use = false;
};

/// Everything `system df` shows.
struct DiskUsageReport {
  cache::StoreUsage store;
  std::vector<ContainerDiskUsage> containers;
  std::vector<cache::VolumeUsage> volumes;
  std::vector<CacheRecordUsage> build_cache;
  /// Images, Containers, Local Volumes, Build Cache; their sizes add up to
  /// the store's total (its du).
  std::vector<UsageRow> rows;
};

/// Measures the store at `root` (kiln.db remembers what it learns unless the
/// store is read-only).
llvm::Expected<DiskUsageReport> system_disk_usage(llvm::StringRef root);

/// `kiln builder prune`'s flags, as given.
struct BuilderPruneFlags {
  bool all = false;
  /// "type==X", "type=X", "id=X", "until=DURATION" (cache::add_gc_filter()).
  std::vector<std::string> filters;
  /// Sizes ("512MB") or percentages of the store's file system; empty when not
  /// given. `keep_storage` is docker's old name of `max_used`.
  std::string max_used, keep_storage, reserved, min_free;
};
/// The policy of `flags` for the store at `root` (created when missing, to
/// measure its file system). Fails with a UsageError on a bad filter or size
/// (naming the flag: "--reserved-space: ...").
llvm::Expected<cache::GcPolicy> builder_prune_policy(llvm::StringRef root,
                                                     const BuilderPruneFlags& flags);

/// `kiln image prune`'s options from `all` and its filters: "until=DURATION",
/// "label=KEY[=VALUE]", "label!=KEY[=VALUE]". Fails with a UsageError on any
/// other filter ("invalid filter 'x' (choose from until, label, label!)") or a
/// bad duration.
llvm::Expected<cache::ImagePruneOptions> image_prune_options(
    bool all, const std::vector<std::string>& filters);

/// `kiln container prune`'s filters: "until=DURATION" (the last one given
/// counts), as seconds. Fails with a UsageError on any other filter.
llvm::Expected<std::optional<int64_t>> container_prune_until(
    const std::vector<std::string>& filters);

/// `kiln builder prune`: runs `policy` (cache::collect_garbage()).
llvm::Expected<cache::GcReport> prune_build_cache(llvm::StringRef root,
                                                  const cache::GcPolicy& policy);
/// `kiln image prune`.
llvm::Expected<cache::ImagePruneReport> prune_images(llvm::StringRef root,
                                                     const cache::ImagePruneOptions& options);

struct ContainerPruneReport {
  std::vector<std::string> deleted;
  int64_t reclaimed = 0;
};
/// `kiln container prune`: removes every container that is not running (and,
/// with `until`, created at least that many seconds ago).
llvm::Expected<ContainerPruneReport> prune_containers(llvm::StringRef root,
                                                      std::optional<int64_t> until = std::nullopt);

struct SystemPruneReport {
  ContainerPruneReport containers;
  std::vector<std::string> volumes;
  cache::ImagePruneReport images;
  cache::GcReport build_cache;
  int64_t reclaimed = 0;
};
/// `kiln system prune [-a] [--volumes]`: stopped containers, unused volumes
/// (with `volumes`), dangling images (every unused one with `all`), and the
/// build cache (all of it with `all`). Creates `root` when it is missing.
llvm::Expected<SystemPruneReport> prune_system(llvm::StringRef root, bool all, bool volumes);

/// What a prune removes, for its warning.
enum class PruneTarget { build_cache, images, containers, system, volumes, networks };

/// docker's warning before prune `target` asks to go on (cli/ asks "Are you
/// sure...?" after it): "WARNING! This will remove all dangling build cache. ",
/// "WARNING! This will remove all dangling images.\n", ..., each as docker words it
/// with `all` (-a) and, for the system prune, `volumes` (--volumes).
std::string prune_warning(PruneTarget target, bool all, bool volumes = false);

/// One of docker's "Deleted ...:" sections: `title`, the lines, then a blank line;
/// "" when `lines` is empty.
std::string deleted_section(const std::string& title, const std::vector<std::string>& lines);

/// The last line of a prune's report: "Total reclaimed space: 1.5MB\n" (0B when
/// `reclaimed` is negative).
std::string reclaimed_line(int64_t reclaimed);

/// `builder prune`'s report: "Deleted build cache objects:" (the records' IDs),
/// then the reclaimed space.
std::string prune_report_text(const cache::GcReport& report);
/// `image prune`'s report: "Deleted Images:" ("untagged: NAME" lines, then
/// "deleted: ID" lines), then the reclaimed space.
std::string prune_report_text(const cache::ImagePruneReport& report);
/// `container prune`'s report: "Deleted Containers:", then the reclaimed space.
std::string prune_report_text(const ContainerPruneReport& report);
/// `system prune`'s report: the containers, volumes, images and build cache
/// records deleted, each section as the prunes above print it, then the total.
std::string prune_report_text(const SystemPruneReport& report);

}  // namespace kiln::containers
