// `kiln history IMAGE`: the image's history entries, newest first, like docker.

#include <iostream>

#include <nlohmann/json.hpp>

#include "cache/image_inspect.h"
#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/store_open.h"
#include "oci/image_config.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct HistoryOptions {
  std::string image;
  bool no_trunc = false;
  bool quiet = false;
  bool human = true;
  std::string format;
  std::string platform;
};

// docker's column names of the history fields, for `table` templates.
const nlohmann::ordered_json kHistoryHeader = {{"Comment", "COMMENT"},
                                               {"CreatedAt", "CREATED AT"},
                                               {"CreatedBy", "CREATED BY"},
                                               {"CreatedSince", "CREATED"},
                                               {"ID", "IMAGE"},
                                               {"Size", "SIZE"}};

// docker's stringutils.Ellipsis: at most `width` code points, the last one "…".
std::string ellipsis(const std::string& text, size_t width) {
  std::vector<size_t> starts;  // byte offsets of code points
  for (size_t i = 0; i < text.size(); ++i) {
    if ((text[i] & 0xC0) != 0x80) {
      starts.push_back(i);
    }
  }
  if (starts.size() <= width) {
    return text;
  }
  return text.substr(0, starts[width - 1]) + "…";
}

std::string created_column(const std::string& created, bool human) {
  if (created.empty()) {
    return "N/A";
  }
  if (!human) {
    return created;
  }
  auto seconds = cache::parse_rfc3339(created);
  if (!seconds) {
    llvm::consumeError(seconds.takeError());
    return created;
  }
  return since(*seconds);
}

llvm::Expected<int> run_history(const GlobalOptions& globals, const HistoryOptions& options) {
  auto store = open_store_read_only(globals);
  if (!store) {
    return store.takeError();
  }
  auto image = (*store)->resolve(options.image);
  if (!image) {
    return image.takeError();
  }
  auto history = cache::image_history(**store, *image, options.platform);
  if (!history) {
    return history.takeError();
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<nlohmann::ordered_json> templated;
  for (const cache::HistoryRow& row : history->rows) {
    const oci::HistoryEntry& entry = row.entry;
    std::string created_by = entry.created_by;
    std::replace(created_by.begin(), created_by.end(), '\t', ' ');
    if (!options.no_trunc) {
      created_by = ellipsis(created_by, 45);
    }
    rows.push_back({"<missing>", created_column(entry.created, options.human), created_by,
                    options.human ? human_size(row.size) : std::to_string(row.size),
                    entry.comment});
    templated.push_back({{"Comment", entry.comment},
                         {"CreatedAt", entry.created},
                         {"CreatedBy", created_by},
                         {"CreatedSince", rows.back()[1]},
                         {"ID", "<missing>"},
                         {"Size", rows.back()[3]}});
  }
  std::reverse(rows.begin(), rows.end());
  std::reverse(templated.begin(), templated.end());
  if (!rows.empty()) {
    rows.front()[0] = options.no_trunc ? history->config.str() : history->config.short_hex();
    templated.front()["ID"] = rows.front()[0];
  }
  if ((is_template_format(options.format) || options.format == "json") && !options.quiet) {
    std::string format = options.format == "json" ? "{{json .}}" : options.format;
    if (auto err = print_rows(std::cout, format, templated, kHistoryHeader)) {
      return err;
    }
    return 0;
  }
  if (options.quiet) {
    for (const auto& row : rows) {
      std::cout << row[0] << "\n";
    }
    return 0;
  }
  rows.insert(rows.begin(), {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
  print_table(std::cout, rows);
  return 0;
}

CommandBody setup_history(CLI::App& sub, const GlobalOptions& globals) {
  auto options = std::make_shared<HistoryOptions>();
  sub.add_flag("--no-trunc", options->no_trunc, "Don't truncate output");
  sub.add_option("--platform", options->platform,
                 "Show history for the given platform of a multi-platform image");
  sub.add_flag("-q,--quiet", options->quiet, "Only show image IDs");
  sub.add_option("-H,--human", options->human, "Print sizes and dates in human readable format");
  sub.add_option("--format", options->format,
                 "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
  sub.add_option("image", options->image, "IMAGE")->required();
  return [&globals, options]() { return run_history(globals, *options); };
}

CommandRegistration reg{{"history", "Show the history of an image", setup_history, 24}};

}  // namespace
}  // namespace kiln::cli
