// `kiln images`: list the images of the store like `docker images`.

#include <iostream>

#include "cache/image_list.h"
#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/store_open.h"

namespace kiln::cli {
namespace {

struct ImagesOptions {
  bool quiet = false;
  bool digests = false;
  bool all = false;
  bool tree = false;
  std::string format;
  cache::ImageListOptions list;
};

llvm::Expected<int> run_images(const GlobalOptions& globals, const ImagesOptions& options) {
  auto store = open_store_read_only(globals);
  if (!store) {
    return store.takeError();
  }
  auto rows = options.tree ? cache::image_tree_rows(**store, options.list)
                           : cache::image_list_rows(**store, options.list);
  if (!rows) {
    return rows.takeError();
  }
  std::string format =
      options.tree
          ? cache::kImageTreeTable
          : list_format(options.format, cache::image_list_table(options.digests), options.quiet);
  if (auto err =
          print_rows(std::cout, format, *rows,
                     options.tree ? cache::image_tree_header() : cache::image_list_header())) {
    return err;
  }
  return 0;
}

CommandBody setup_images(CLI::App& sub, const GlobalOptions& globals) {
  auto options = std::make_shared<ImagesOptions>();
  sub.add_flag("-q,--quiet", options->quiet, "Only show image IDs");
  sub.add_flag("--digests", options->digests, "Show digests");
  sub.add_flag("-a,--all", options->all, "Show all images (intermediate ones too)");
  sub.add_flag("--no-trunc", options->list.no_trunc, "Don't truncate output");
  sub.add_flag("--tree", options->tree, "List multi-platform images as a tree");
  sub.add_option("--format", options->format,
                 "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
  sub.add_option("repository", options->list.filter, "REPOSITORY[:TAG] to list");
  return [&globals, options]() { return run_images(globals, *options); };
}

CommandRegistration reg{{"images", "List images", setup_images, 20}};

}  // namespace
}  // namespace kiln::cli
