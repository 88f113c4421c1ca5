// `kiln system df [-v] [--format json|TEMPLATE]`: docker's disk usage summary and
// its per-object tables; `kiln system check` lives in cmd_system_check.cpp and
// the prunes in cmd_prune.cpp.
#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cmd_system.h"
#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/store_open.h"
#include "containers/container_view.h"
#include "containers/system_prune.h"
#include "support/error.h"
#include "support/units.h"

namespace kiln::cli {

using containers::now_ns;

namespace {

struct DfFlags {
  bool verbose = false;
  std::string format;
};

std::string reclaimable_text(const containers::UsageRow& row) {
  std::string text = human_size(row.reclaimable, 4);
  if (row.type != "Build Cache" && row.size > 0) {
    text += " (" + std::to_string(row.reclaimable * 100 / row.size) + "%)";
  }
  return text;
}

nlohmann::ordered_json row_json(const containers::UsageRow& row) {
  return {{"Active", std::to_string(row.active)},
          {"Reclaimable", reclaimable_text(row)},
          {"Size", human_size(row.size, 4)},
          {"TotalCount", std::to_string(row.total)},
          {"Type", row.type}};
}

std::string ago(int64_t then) { return then > 0 ? since(then) : ""; }

void print_verbose(const containers::DiskUsageReport& report) {
  std::vector<std::vector<std::string>> images{{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE",
                                                "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"}};
  for (const auto& image : report.store.images) {
    std::vector<std::pair<std::string, std::string>> names;
    for (const auto& n : image.record.names) {
      names.push_back(familiar_repo_tag(n));
    }
    if (names.empty()) {
      names.emplace_back("<none>", "<none>");
    }
    for (const auto& [repo, tag] : names) {
      images.push_back({repo, tag, image.record.config.short_hex(), since(image.record.created),
                        human_size(image.size, 4), human_size(image.shared_size, 4),
                        human_size(image.size - image.shared_size, 4),
                        std::to_string(image.containers)});
    }
  }
  std::cout << "Images space usage:\n\n";
  print_table(std::cout, images);
  std::vector<std::vector<std::string>> containers{
      {"CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"}};
  int64_t now = now_ns();
  for (const auto& c : report.containers) {
    std::string command = command_text(c.spec);
    if (command.size() > 20) {
      command = command.substr(0, 19) + "…";
    }
    containers.push_back({c.spec.id.substr(0, 12), c.spec.image, "\"" + command + "\"", "0",
                          human_size(c.size, 4), since(c.spec.created_ns / 1000000000),
                          status_text(c.state, now), c.spec.name});
  }
  std::cout << "\nContainers space usage:\n\n";
  print_table(std::cout, containers);
  std::vector<std::vector<std::string>> volumes{{"VOLUME NAME", "LINKS", "SIZE"}};
  for (const auto& v : report.volumes) {
    volumes.push_back({v.name, std::to_string(v.links), human_size(v.size, 4)});
  }
  std::cout << "\nLocal Volumes space usage:\n\n";
  print_table(std::cout, volumes);
  std::cout << "\nBuild cache usage: " << human_size(report.rows[3].size, 4) << "\n\n";
  std::vector<std::vector<std::string>> cache{
      {"CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"}};
  auto records = report.build_cache;
  std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return std::max(a.last_used, a.created) > std::max(b.last_used, b.created);
  });
  for (const auto& r : records) {
    cache.push_back({r.id, r.type, human_size(r.size, 4), ago(r.created), ago(r.last_used),
                     std::to_string(r.usage_count), r.shared ? "true" : "false"});
  }
  print_table(std::cout, cache);
}

nlohmann::ordered_json verbose_json(const containers::DiskUsageReport& report) {
  nlohmann::ordered_json out;
  out["Images"] = nlohmann::ordered_json::array();
  for (const auto& image : report.store.images) {
    out["Images"].push_back({{"Containers", std::to_string(image.containers)},
                             {"CreatedSince", since(image.record.created)},
                             {"ID", image.record.config.str()},
                             {"SharedSize", human_size(image.shared_size, 4)},
                             {"Size", human_size(image.size, 4)},
                             {"UniqueSize", human_size(image.size - image.shared_size, 4)}});
  }
  out["Containers"] = nlohmann::ordered_json::array();
  for (const auto& c : report.containers) {
    out["Containers"].push_back({{"ID", c.spec.id},
                                 {"Image", c.spec.image},
                                 {"Names", c.spec.name},
                                 {"Size", human_size(c.size, 4)},
                                 {"Status", status_text(c.state, now_ns())}});
  }
  out["Volumes"] = nlohmann::ordered_json::array();
  for (const auto& v : report.volumes) {
    out["Volumes"].push_back(
        {{"Links", std::to_string(v.links)}, {"Name", v.name}, {"Size", human_size(v.size, 4)}});
  }
  out["BuildCache"] = nlohmann::ordered_json::array();
  for (const auto& r : report.build_cache) {
    out["BuildCache"].push_back({{"CacheType", r.type},
                                 {"CreatedSince", ago(r.created)},
                                 {"ID", r.id},
                                 {"InUse", r.in_use},
                                 {"LastUsedSince", ago(r.last_used)},
                                 {"Shared", r.shared},
                                 {"Size", human_size(r.size, 4)},
                                 {"UsageCount", r.usage_count}});
  }
  return out;
}

llvm::Expected<int> run_df(const GlobalOptions& globals, const DfFlags& flags) {
  auto report = containers::system_disk_usage(globals.root);
  if (!report) {
    return report.takeError();
  }
  if (flags.verbose && flags.format == "json") {
    std::cout << verbose_json(*report).dump() << "\n";
    return 0;
  }
  if (flags.verbose && flags.format.empty()) {
    print_verbose(*report);
    return 0;
  }
  std::vector<nlohmann::ordered_json> rows;
  for (const auto& row : report->rows) {
    rows.push_back(row_json(row));
  }
  std::string format = flags.format.empty() ? "table" : flags.format;
  if (format == "json") {
    for (const auto& row : rows) {
      std::cout << row.dump() << "\n";
    }
    return 0;
  }
  if (format == "table") {
    std::vector<std::vector<std::string>> table{{"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"}};
    for (const auto& row : report->rows) {
      table.push_back({row.type, std::to_string(row.total), std::to_string(row.active),
                       human_size(row.size, 4), reclaimable_text(row)});
    }
    print_table(std::cout, table);
    return 0;
  }
  const nlohmann::ordered_json header = {{"Active", "ACTIVE"},
                                         {"Reclaimable", "RECLAIMABLE"},
                                         {"Size", "SIZE"},
                                         {"TotalCount", "TOTAL"},
                                         {"Type", "TYPE"}};
  if (auto err = print_rows(std::cout, format, rows, header)) {
    return err;
  }
  return 0;
}

CommandBody setup_system(CLI::App& sub, const GlobalOptions& globals) {
  sub.require_subcommand(1);
  auto df = std::make_shared<DfFlags>();
  CLI::App* df_cmd = sub.add_subcommand("df", "Show kiln disk usage");
  df_cmd->add_flag("-v,--verbose", df->verbose, "Show detailed information on space usage");
  df_cmd->add_option("--format", df->format, "Format output: table, json or a Go template");
  auto prune = setup_system_prune(sub, globals);
  auto check = setup_system_check(sub, globals);
  return [&globals, df, df_cmd, prune, check]() -> llvm::Expected<int> {
    if (df_cmd->parsed()) {
      return run_df(globals, *df);
    }
    for (const ChosenBody& chosen : {prune, check}) {
      if (CommandBody body = chosen()) {
        return body();
      }
    }
    return 0;
  };
}

CommandRegistration reg{{"system", "Manage kiln (df, prune, check)", setup_system, 80}};

}  // namespace
}  // namespace kiln::cli
