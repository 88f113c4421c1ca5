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

llvm::Expected<int> run_ps(const GlobalOptions& globals, PsFlags flags) {
  if (flags.format == "{{json .}}") {
    flags.format = "json";
  }
  auto store = containers::ContainerStore::open(globals.root);
  auto lines = store ? containers::ps_rows(*store, flags.options, containers::now_ns())
                     : llvm::Expected<std::vector<nlohmann::ordered_json>>(store.takeError());
  if (!lines) {
    return lines.takeError();
  }
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
  for (const auto& line : *lines) {
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
    if (auto err = print_rows(std::cout, flags.format, *lines, containers::ps_header())) {
      return err;
    }
    return 0;
  }
  print_table(std::cout, rows);
  return 0;
}

CommandBody setup_ps(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<PsFlags>();
  sub.add_flag("-a,--all", flags->options.all, "Show all containers (default shows just running)");
  sub.add_flag("-q,--quiet", flags->quiet, "Only display container IDs");
  sub.add_flag("--no-trunc", flags->options.no_trunc, "Don't truncate output");
  sub.add_option("-f,--filter", flags->options.filters,
                 "Filter output (name=, id=, status=, label=KEY[=VALUE], ancestor=, network=)")
      ->allow_extra_args(false);
  sub.add_option("--format", flags->format,
                 "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
  return [flags, &globals]() { return run_ps(globals, *flags); };
}

CommandRegistration reg{{"ps", "List containers", setup_ps, 21}};

}  // namespace
}  // namespace kiln::cli
