#include "containers/disk_usage_view.h"

#include <algorithm>

#include "containers/container_view.h"
#include "oci/reference.h"
#include "support/docker_format.h"
#include "support/units.h"

namespace kiln::containers {
namespace {

using Json = nlohmann::ordered_json;

std::string reclaimable_text(const UsageRow& row) {
  std::string text = human_size(row.reclaimable, 4);
  if (row.type != "Build Cache" && row.size > 0) {
    text += " (" + std::to_string(row.reclaimable * 100 / row.size) + "%)";
  }
  return text;
}

std::string size4(int64_t bytes) { return human_size(bytes, 4); }

// A build cache record's age: empty for a time not known (0).
std::string ago(int64_t then) { return then > 0 ? human_since(then) : ""; }

}  // namespace

std::vector<Json> disk_usage_rows(const DiskUsageReport& report) {
  std::vector<Json> rows;
  for (const UsageRow& row : report.rows) {
    rows.push_back({{"Active", std::to_string(row.active)},
                    {"Reclaimable", reclaimable_text(row)},
                    {"Size", size4(row.size)},
                    {"TotalCount", std::to_string(row.total)},
                    {"Type", row.type}});
  }
  return rows;
}

DiskUsageTables disk_usage_tables(const DiskUsageReport& report) {
  DiskUsageTables out;
  for (const auto& image : report.store.images) {
    std::vector<std::pair<std::string, std::string>> names;
    for (const auto& n : image.record.names) {
      names.push_back(oci::familiar_repo_tag(n));
    }
    if (names.empty()) {
      names.emplace_back("<none>", "<none>");
    }
    for (const auto& [repo, tag] : names) {
      out.images.push_back({{"Repository", repo},
                            {"Tag", tag},
                            {"ID", image.record.config.short_hex()},
                            {"CreatedSince", human_since(image.record.created)},
                            {"Size", size4(image.size)},
                            {"SharedSize", size4(image.shared_size)},
                            {"UniqueSize", size4(image.size - image.shared_size)},
                            {"Containers", std::to_string(image.containers)}});
    }
  }
  int64_t now = now_ns();
  for (const auto& c : report.containers) {
    std::string command = command_text(c.spec);
    if (command.size() > 20) {
      command = command.substr(0, 19) + "…";
    }
    out.containers.push_back({{"ID", c.spec.id.substr(0, 12)},
                              {"Image", c.spec.image},
                              {"Command", "\"" + command + "\""},
                              {"LocalVolumes", "0"},
                              {"Size", size4(c.size)},
                              {"RunningFor", human_since(c.spec.created_ns / 1000000000)},
                              {"Status", status_text(c.state, now)},
                              {"Names", c.spec.name}});
  }
  for (const auto& v : report.volumes) {
    out.volumes.push_back(
        {{"Name", v.name}, {"Links", std::to_string(v.links)}, {"Size", size4(v.size)}});
  }
  out.build_cache_size = size4(report.rows[3].size);
  auto records = report.build_cache;
  std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return std::max(a.last_used, a.created) > std::max(b.last_used, b.created);
  });
  for (const auto& r : records) {
    out.build_cache.push_back({{"ID", r.id},
                               {"CacheType", r.type},
                               {"Size", size4(r.size)},
                               {"CreatedSince", ago(r.created)},
                               {"LastUsedSince", ago(r.last_used)},
                               {"UsageCount", std::to_string(r.usage_count)},
                               {"Shared", r.shared ? "true" : "false"}});
  }
  return out;
}

Json disk_usage_json(const DiskUsageReport& report) {
  Json out;
  out["Images"] = Json::array();
  for (const auto& image : report.store.images) {
    out["Images"].push_back({{"Containers", std::to_string(image.containers)},
                             {"CreatedSince", human_since(image.record.created)},
                             {"ID", image.record.config.str()},
                             {"SharedSize", size4(image.shared_size)},
                             {"Size", size4(image.size)},
                             {"UniqueSize", size4(image.size - image.shared_size)}});
  }
  out["Containers"] = Json::array();
  for (const auto& c : report.containers) {
    out["Containers"].push_back({{"ID", c.spec.id},
                                 {"Image", c.spec.image},
                                 {"Names", c.spec.name},
                                 {"Size", size4(c.size)},
                                 {"Status", status_text(c.state, now_ns())}});
  }
  out["Volumes"] = Json::array();
  for (const auto& v : report.volumes) {
    out["Volumes"].push_back(
        {{"Links", std::to_string(v.links)}, {"Name", v.name}, {"Size", size4(v.size)}});
  }
  out["BuildCache"] = Json::array();
  for (const auto& r : report.build_cache) {
    out["BuildCache"].push_back({{"CacheType", r.type},
                                 {"CreatedSince", ago(r.created)},
                                 {"ID", r.id},
                                 {"InUse", r.in_use},
                                 {"LastUsedSince", ago(r.last_used)},
                                 {"Shared", r.shared},
                                 {"Size", size4(r.size)},
                                 {"UsageCount", r.usage_count}});
  }
  return out;
}

const nlohmann::ordered_json& disk_usage_header() {
  static const nlohmann::ordered_json header = {{"Active", "ACTIVE"},
                                                {"Reclaimable", "RECLAIMABLE"},
                                                {"Size", "SIZE"},
                                                {"TotalCount", "TOTAL"},
                                                {"Type", "TYPE"}};
  return header;
}

llvm::Expected<std::string> disk_usage_verbose_text(const DiskUsageReport& report) {
  DiskUsageTables tables = disk_usage_tables(report);
  struct Section {
    std::string title, id, format;
    const std::vector<nlohmann::ordered_json>& rows;
  };
  const Section sections[] = {
      {"Images space usage:\n\n", "IMAGE ID",
       "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
       "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
       tables.images},
      {"\nContainers space usage:\n\n", "CONTAINER ID",
       "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
       "{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
       tables.containers},
      {"\nLocal Volumes space usage:\n\n", "", "table {{.Name}}\t{{.Links}}\t{{.Size}}",
       tables.volumes},
      {"\nBuild cache usage: " + tables.build_cache_size + "\n\n", "CACHE ID",
       "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
       "{{.UsageCount}}\t{{.Shared}}",
       tables.build_cache}};
  nlohmann::ordered_json header = {{"CacheType", "CACHE TYPE"},
                                   {"Command", "COMMAND"},
                                   {"Containers", "CONTAINERS"},
                                   {"CreatedSince", "CREATED"},
                                   {"Image", "IMAGE"},
                                   {"LastUsedSince", "LAST USED"},
                                   {"Links", "LINKS"},
                                   {"LocalVolumes", "LOCAL VOLUMES"},
                                   {"Name", "VOLUME NAME"},
                                   {"Names", "NAMES"},
                                   {"Repository", "REPOSITORY"},
                                   {"RunningFor", "CREATED"},
                                   {"Shared", "SHARED"},
                                   {"SharedSize", "SHARED SIZE"},
                                   {"Size", "SIZE"},
                                   {"Status", "STATUS"},
                                   {"Tag", "TAG"},
                                   {"UniqueSize", "UNIQUE SIZE"},
                                   {"UsageCount", "USAGE"}};
  std::string text;
  for (const Section& section : sections) {
    header["ID"] = section.id;
    llvm::Expected<std::string> table = support::format_rows(section.format, section.rows, header);
    if (!table) {
      return table.takeError();
    }
    text += section.title + *table;
  }
  return text;
}

}  // namespace kiln::containers
