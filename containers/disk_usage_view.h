// `system df` as docker shows it: the summary rows and the `-v` tables and JSON
// of a DiskUsageReport (containers/system_prune.h), with docker's sizes (4
// significant digits) and ages.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include <nlohmann/json.hpp>

#include "containers/system_prune.h"

namespace kiln::containers {

/// The summary rows, Images, Containers, Local Volumes, Build Cache, as docker's
/// diskUsageContext JSON: Active, Reclaimable ("1.2MB (50%)"), Size, TotalCount,
/// Type, all strings.
std::vector<nlohmann::ordered_json> disk_usage_rows(const DiskUsageReport& report);

/// The four tables of `system df -v`, each a list of JSON rows of strings.
struct DiskUsageTables {
  /// Repository, Tag, ID (12 hex), CreatedSince, Size, SharedSize, UniqueSize,
  /// Containers: one row per name (one <none> row for a dangling image).
  std::vector<nlohmann::ordered_json> images;
  /// ID (12), Image, Command (quoted, cut to 20 bytes), LocalVolumes, Size,
  /// RunningFor, Status, Names.
  std::vector<nlohmann::ordered_json> containers;
  /// Name, Links, Size.
  std::vector<nlohmann::ordered_json> volumes;
  /// ID, CacheType, Size, CreatedSince, LastUsedSince, UsageCount, Shared; the
  /// most recently used or made first.
  std::vector<nlohmann::ordered_json> build_cache;
  /// The build cache's total, as "Build cache usage: SIZE" shows it.
  std::string build_cache_size;
};
DiskUsageTables disk_usage_tables(const DiskUsageReport& report);

/// `system df -v --format json`: {"Images": [...], "Containers": [...],
/// "Volumes": [...], "BuildCache": [...]} with docker's fields.
nlohmann::ordered_json disk_usage_json(const DiskUsageReport& report);

/// `system df`'s default format: the table TYPE TOTAL ACTIVE SIZE RECLAIMABLE.
inline constexpr char kDiskUsageTable[] =
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

/// docker's column names of the summary rows' fields (disk_usage_rows()), for
/// `table` templates.
const nlohmann::ordered_json& disk_usage_header();

/// `system df -v`'s text: "Images space usage:", "Containers space usage:",
/// "Local Volumes space usage:" and "Build cache usage: SIZE", each with its
/// table (disk_usage_tables()) in docker's columns. Fails only if a template
/// does not run (support::format_rows()).
llvm::Expected<std::string> disk_usage_verbose_text(const DiskUsageReport& report);

}  // namespace kiln::containers
