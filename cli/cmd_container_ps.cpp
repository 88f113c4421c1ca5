// `kiln ps [-a] [-q] [--no-trunc] [--filter F] [--format json|table|TEMPLATE]`: the
// containers (containers/container_view.h) in docker's columns (CONTAINER ID, IMAGE,
// COMMAND, CREATED, STATUS, PORTS, NAMES).
#include <iostream>

#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/store_open.h"
#include "containers/container_view.h"

namespace kiln::cli {
namespace {

struct PsFlags {
  containers::PsOptions options;
  bool quiet = false;
  std::string format;
};

llvm::Expected<int> run_ps(PsFlags& flags, const GlobalOptions& globals) {
  if (flags.format == "{{json .}}") {
    flags.format = "json";
  }
  KILN_TRY(auto store, containers::ContainerStore::open(globals.root));
  KILN_TRY(auto lines, containers::ps_rows(store, flags.options, containers::now_ns()));
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
  for (const auto& line : lines) {
    if (flags.quiet || flags.format == "json") {
      std::cout << (flags.quiet ? line["ID"].get<std::string>() : line.dump()) << "\n";
    } else {
      rows.push_back({});
      for (const char* key : {"ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"}) {
        rows.back().push_back(line[key].get<std::string>());
      }
    }
  }
  if (flags.quiet || flags.format == "json") {
    return 0;
  }
  if (is_template_format(flags.format)) {
    KILN_CHECK(print_rows(std::cout, flags.format, lines, containers::ps_header()));
    return 0;
  }
  print_table(std::cout, rows);
  return 0;
}

Command<PsFlags> reg{
    "ps", "List containers", 21,
    [](CLI::App& sub, PsFlags& f) {
      sub.add_flag("-a,--all", f.options.all, "Show all containers (default shows just running)");
      sub.add_flag("-q,--quiet", f.quiet, "Only display container IDs");
      sub.add_flag("--no-trunc", f.options.no_trunc, "Don't truncate output");
      add_list(sub, "-f,--filter", f.options.filters,
               "Filter output (name=, id=, status=, label=KEY[=VALUE], ancestor=, network=)");
      sub.add_option("--format", f.format,
                     "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
    },
    run_ps};

}  // namespace
}  // namespace kiln::cli
