// `kiln system df [-v] [--format json|TEMPLATE]`: docker's disk usage summary and
// its per-object tables; `kiln system check` lives in cmd_system_check.cpp and
// the prunes in cmd_prune.cpp.
#include <iostream>

#include "cli/cmd_system.h"
#include "cli/command.h"
#include "cli/format_rows.h"
#include "containers/disk_usage_view.h"

namespace kiln::cli {
namespace {

struct DfFlags {
  bool verbose = false;
  std::string format;
};

// docker's column names of the fields of `system df`'s summary.
const nlohmann::ordered_json kDfHeader = {{"Active", "ACTIVE"},
                                          {"Reclaimable", "RECLAIMABLE"},
                                          {"Size", "SIZE"},
                                          {"TotalCount", "TOTAL"},
                                          {"Type", "TYPE"}};

// `system df -v`: a title and a table for images, containers, volumes, build cache.
llvm::Error print_verbose(const containers::DiskUsageReport& report) {
  auto tables = containers::disk_usage_tables(report);
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
  for (const Section& section : sections) {
    std::cout << section.title;
    header["ID"] = section.id;
    if (auto err = print_rows(std::cout, section.format, section.rows, header)) {
      return err;
    }
  }
  return llvm::Error::success();
}

llvm::Expected<int> run_df(const GlobalOptions& globals, const DfFlags& flags) {
  auto report = containers::system_disk_usage(globals.root);
  if (!report) {
    return report.takeError();
  }
  if (flags.verbose && flags.format == "json") {
    std::cout << containers::disk_usage_json(*report).dump() << "\n";
    return 0;
  }
  if (flags.verbose && flags.format.empty()) {
    if (auto err = print_verbose(*report)) {
      return err;
    }
    return 0;
  }
  std::string format = list_format(
      flags.format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}");
  if (auto err = print_rows(std::cout, format, containers::disk_usage_rows(*report), kDfHeader)) {
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
