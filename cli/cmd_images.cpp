// `kiln images`: list the images of the store like `docker images`.

#include <iostream>

#include <nlohmann/json.hpp>

#include "cache/image_size.h"
#include "cache/image_index.h"
#include "cli/command.h"
#include "cli/format_rows.h"
#include "cli/store_open.h"
#include "oci/reference.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct ImagesOptions {
  bool quiet = false;
  bool digests = false;
  bool all = false;
  bool no_trunc = false;
  bool tree = false;
  std::string format;
  std::string filter;  // REPOSITORY[:TAG]
};

struct Row {
  std::string repository, tag, digest, id, created_since, created_at, size;
};

// Rows of one image: one per name, or one <none> row for a dangling image.
void add_rows(const cache::ImageRecord& image, const ImagesOptions& options,
              std::vector<Row>& rows) {
  Row base;
  base.id = options.no_trunc ? image.config.str() : image.config.short_hex();
  base.created_since = since(image.created);
  base.created_at = go_time_string(image.created);
  base.size = human_size(image.size);
  base.digest = image.manifest.str();
  if (image.names.empty()) {
    base.repository = base.tag = "<none>";
    rows.push_back(base);
    return;
  }
  for (const std::string& name : image.names) {
    Row row = base;
    std::tie(row.repository, row.tag) = familiar_repo_tag(name);
    rows.push_back(std::move(row));
  }
}

// docker's column names of the image fields, for `table` templates.
const nlohmann::ordered_json kImagesHeader = {{"Containers", "CONTAINERS"},
                                              {"CreatedAt", "CREATED AT"},
                                              {"CreatedSince", "CREATED"},
                                              {"Digest", "DIGEST"},
                                              {"ID", "IMAGE ID"},
                                              {"Repository", "REPOSITORY"},
                                              {"SharedSize", "SHARED SIZE"},
                                              {"Size", "SIZE"},
                                              {"Tag", "TAG"},
                                              {"UniqueSize", "UNIQUE SIZE"},
                                              {"VirtualSize", "VIRTUAL SIZE"}};

bool matches(const Row& row, llvm::StringRef filter) {
  if (filter.empty()) {
    return true;
  }
  auto [repo, tag] = filter.rsplit(':');
  if (tag.contains('/')) {  // "localhost:5000/x": the colon was the port's
    repo = filter;
    tag = "";
  }
  auto ref = oci::parse_normalized_named(repo);
  if (!ref) {
    llvm::consumeError(ref.takeError());
    return false;
  }
  return ref->familiar_name() == row.repository && (tag.empty() || tag == row.tag);
}

// docker's imageContext as JSON: `{{json .}}` and the fields of --format templates.
nlohmann::ordered_json row_json(const Row& row) {
  return nlohmann::ordered_json{{"Containers", "N/A"},
                                {"CreatedAt", row.created_at},
                                {"CreatedSince", row.created_since},
                                {"Digest", row.repository == "<none>" ? "<none>" : row.digest},
                                {"ID", row.id},
                                {"Repository", row.repository},
                                {"SharedSize", "N/A"},
                                {"Size", row.size},
                                {"Tag", row.tag},
                                {"UniqueSize", "N/A"},
                                {"VirtualSize", row.size}};
}

// docker's `images --tree`: each image with, below it, the platforms of an index.
llvm::Expected<int> print_tree(cache::ImageStore& store,
                               const std::vector<cache::ImageRecord>& images,
                               const ImagesOptions& options) {
  std::vector<std::vector<std::string>> table = {{"IMAGE", "ID", "CREATED", "SIZE"}};
  for (const cache::ImageRecord& image : images) {
    std::vector<Row> rows;
    add_rows(image, options, rows);
    auto children = cache::index_manifests(store.content(), image.manifest);
    if (!children) {
      return children.takeError();
    }
    for (const Row& row : rows) {
      if (!matches(row, options.filter)) {
        continue;
      }
      std::string name = row.repository == "<none>" ? "<untagged>" : row.repository + ":" + row.tag;
      table.push_back({name, row.id, row.created_since, row.size});
      for (size_t i = 0; *children && i < (*children)->size(); ++i) {
        const cache::PlatformManifest& child = (**children)[i];
        std::string branch = i + 1 == (*children)->size() ? "└─ " : "├─ ";
        table.push_back({branch + child.platform.str(),
                         options.no_trunc ? child.manifest.str() : child.manifest.short_hex(), "",
                         ""});
      }
    }
  }
  print_table(std::cout, table);
  return 0;
}

llvm::Expected<int> run_images(const GlobalOptions& globals, const ImagesOptions& options) {
  auto store = open_store_read_only(globals);
  if (!store) {
    return store.takeError();
  }
  auto images = (*store)->list();
  if (!images) {
    return images.takeError();
  }
  if (options.tree) {
    return print_tree(**store, *images, options);
  }
  std::vector<Row> rows;
  for (cache::ImageRecord& image : *images) {
    // SIZE: the layers uncompressed, whatever the store keeps them as.
    auto size = cache::uncompressed_size(**store, image);
    if (!size) {
      return size.takeError();
    }
    image.size = *size;
    add_rows(image, options, rows);
  }
  if (is_template_format(options.format) && !options.quiet) {
    std::vector<nlohmann::ordered_json> selected;
    for (const Row& row : rows) {
      if (matches(row, options.filter)) {
        selected.push_back(row_json(row));
      }
    }
    if (auto err = print_rows(std::cout, options.format, selected, kImagesHeader)) {
      return err;
    }
    return 0;
  }
  std::vector<std::vector<std::string>> table;
  if (options.digests) {
    table.push_back({"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"});
  } else {
    table.push_back({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  }
  for (const Row& row : rows) {
    if (!matches(row, options.filter)) {
      continue;
    }
    if (options.quiet) {
      std::cout << row.id << "\n";
    } else if (options.format == "json") {
      std::cout << row_json(row).dump() << "\n";
    } else if (options.digests) {
      std::string digest = row.repository == "<none>" ? "<none>" : row.digest;
      table.push_back({row.repository, row.tag, digest, row.id, row.created_since, row.size});
    } else {
      table.push_back({row.repository, row.tag, row.id, row.created_since, row.size});
    }
  }
  if (!options.quiet && options.format != "json") {
    print_table(std::cout, table);
  }
  return 0;
}

CommandBody setup_images(CLI::App& sub, const GlobalOptions& globals) {
  auto options = std::make_shared<ImagesOptions>();
  sub.add_flag("-q,--quiet", options->quiet, "Only show image IDs");
  sub.add_flag("--digests", options->digests, "Show digests");
  sub.add_flag("-a,--all", options->all, "Show all images (intermediate ones too)");
  sub.add_flag("--no-trunc", options->no_trunc, "Don't truncate output");
  sub.add_flag("--tree", options->tree, "List multi-platform images as a tree");
  sub.add_option("--format", options->format,
                 "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
  sub.add_option("repository", options->filter, "REPOSITORY[:TAG] to list");
  return [&globals, options]() { return run_images(globals, *options); };
}

CommandRegistration reg{{"images", "List images", setup_images, 20}};

}  // namespace
}  // namespace kiln::cli
