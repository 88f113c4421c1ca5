// `kiln history IMAGE`: the image's history entries, newest first, like docker.

#include <iostream>

#include "cache/image_inspect.h"
#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/store_open.h"

namespace kiln::cli {
namespace {

struct HistoryOptions {
  std::string image;
  bool quiet = false;
  std::string format;
  std::string platform;
  cache::HistoryFormat rows;
};

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
  if (auto err = print_rows(
          std::cout, list_format(options.format, cache::kImageHistoryTable, options.quiet),
          cache::image_history_rows(*history, options.rows), cache::image_history_header())) {
    return err;
  }
  return 0;
}

CommandBody setup_history(CLI::App& sub, const GlobalOptions& globals) {
  auto options = std::make_shared<HistoryOptions>();
  sub.add_flag("--no-trunc", options->rows.no_trunc, "Don't truncate output");
  sub.add_option("--platform", options->platform,
                 "Show history for the given platform of a multi-platform image");
  sub.add_flag("-q,--quiet", options->quiet, "Only show image IDs");
  sub.add_option("-H,--human", options->rows.human,
                 "Print sizes and dates in human readable format");
  sub.add_option("--format", options->format,
                 "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
  sub.add_option("image", options->image, "IMAGE")->required();
  return [&globals, options]() { return run_history(globals, *options); };
}

CommandRegistration reg{{"history", "Show the history of an image", setup_history, 24}};

}  // namespace
}  // namespace kiln::cli
