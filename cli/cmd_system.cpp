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
    auto text = containers::disk_usage_verbose_text(*report);
    if (!text) {
      return text.takeError();
    }
    std::cout << *text;
    return 0;
  }
  std::string format = list_format(flags.format, containers::kDiskUsageTable);
  if (auto err = print_rows(std::cout, format, containers::disk_usage_rows(*report),
                            containers::disk_usage_header())) {
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
