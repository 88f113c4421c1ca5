// `kiln ps [-a] [-q] [--no-trunc] [--format json|table]`: the containers in docker's
// columns (CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES).
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/store_open.h"
#include "containers/container_filter.h"
#include "containers/container_view.h"
#include "support/error.h"
#include "support/go_template.h"

namespace kiln::cli {
namespace {

using containers::ContainerStore;
using containers::ContainerView;
using containers::now_ns;

struct PsFlags {
  bool all = false;
  bool quiet = false;
  bool no_trunc = false;
  std::string format;
  std::vector<std::string> filters;
};

// go-units/stringutils Ellipsis: at most `max` characters, the last one '…'.
std::string ellipsis(const std::string& text, size_t max) {
  std::vector<size_t> starts;  // byte offset of each code point
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      starts.push_back(i);
    }
  }
  if (starts.size() <= max) {
    return text;
  }
  return text.substr(0, starts[max - 1]) + "…";
}

std::string labels_text(const containers::ContainerSpec& spec) {
  std::string out;
  for (const auto& [key, value] : spec.labels) {
    out += (out.empty() ? "" : ",") + key + "=" + value;
  }
  return out;
}

std::string networks_text(const containers::ContainerSpec& spec) {
  if (spec.networks.empty()) {
    return spec.network_mode;
  }
  std::string out;
  for (const auto& n : spec.networks) {
    out += (out.empty() ? "" : ",") + n.name;
  }
  return out;
}

// docker's column names of the container fields, for `table` templates.
const nlohmann::ordered_json kPsHeader = {
    {"Command", "COMMAND"}, {"CreatedAt", "CREATED AT"}, {"ID", "CONTAINER ID"},
    {"Image", "IMAGE"},     {"Labels", "LABELS"},        {"LocalVolumes", "LOCAL VOLUMES"},
    {"Mounts", "MOUNTS"},   {"Names", "NAMES"},          {"Networks", "NETWORKS"},
    {"Ports", "PORTS"},     {"RunningFor", "CREATED"},   {"Size", "SIZE"},
    {"State", "STATE"},     {"Status", "STATUS"}};

llvm::Expected<int> run_ps(const GlobalOptions& globals, PsFlags flags) {
  if (flags.format == "{{json .}}") {
    flags.format = "json";
  }
  auto store = ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  // docker never lists a --rm container that has ended; one whose runner died is
  // removed here (best effort).
  if (auto removed = store->reclaim_lost(); !removed) {
    llvm::consumeError(removed.takeError());
  }
  auto views = list_containers(*store);
  if (!views) {
    return views.takeError();
  }
  int64_t now = now_ns();
  std::vector<nlohmann::ordered_json> templated;
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
  auto filter = containers::parse_container_filters(flags.filters);
  if (!filter) {
    return filter.takeError();
  }
  for (const ContainerView& v : *views) {
    if (!flags.all && !filter->has_status() && !v.state.running()) {
      continue;
    }
    if (!containers::filter_matches(*filter, v.spec, v.state)) {
      continue;
    }
    std::string id = flags.no_trunc ? v.spec.id : v.spec.id.substr(0, 12);
    if (flags.quiet) {
      std::cout << id << "\n";
      continue;
    }
    std::string command = command_text(v.spec);
    command = support::go_quote(flags.no_trunc ? command : ellipsis(command, 20));
    int64_t created = v.spec.created_ns / 1000000000;
    if (flags.format == "json" || is_template_format(flags.format)) {
      nlohmann::ordered_json line = {{"Command", command},
                                     {"CreatedAt", go_time_string(created)},
                                     {"ID", id},
                                     {"Image", v.spec.image},
                                     {"Labels", labels_text(v.spec)},
                                     {"LocalVolumes", "0"},
                                     {"Mounts", ""},
                                     {"Names", v.spec.name},
                                     {"Networks", networks_text(v.spec)},
                                     {"Ports", ports_text(v)},
                                     {"RunningFor", since(created)},
                                     {"Size", "0B"},
                                     {"State", containers::state_name(v.state).str()},
                                     {"Status", status_text(v.state, now)}};
      if (flags.format == "json") {
        std::cout << line.dump() << "\n";
      } else {
        templated.push_back(std::move(line));
      }
      continue;
    }
    rows.push_back({id, v.spec.image, command, since(created), status_text(v.state, now),
                    ports_text(v), v.spec.name});
  }
  if (!flags.quiet && is_template_format(flags.format)) {
    if (auto err = print_rows(std::cout, flags.format, templated, kPsHeader)) {
      return err;
    }
  } else if (!flags.quiet && flags.format != "json") {
    print_table(std::cout, rows);
  }
  return 0;
}

CommandBody setup_ps(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<PsFlags>();
  sub.add_flag("-a,--all", flags->all, "Show all containers (default shows just running)");
  sub.add_flag("-q,--quiet", flags->quiet, "Only display container IDs");
  sub.add_flag("--no-trunc", flags->no_trunc, "Don't truncate output");
  sub.add_option("-f,--filter", flags->filters,
                 "Filter output (name=, id=, status=, label=KEY[=VALUE], ancestor=, network=)")
      ->allow_extra_args(false);
  sub.add_option("--format", flags->format,
                 "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
  return [flags, &globals]() { return run_ps(globals, *flags); };
}

CommandRegistration reg{{"ps", "List containers", setup_ps, 21}};

}  // namespace
}  // namespace kiln::cli
