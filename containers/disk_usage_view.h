// `system df` as docker shows it: the summary rows and the `-v` tables and JSON
// of a DiskUsageReport (containers/system_prune.h), with docker's sizes (4
// significant digits) and ages.
#pragma once

#include <vector>

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

}  // namespace kiln::containers
