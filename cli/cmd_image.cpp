// The image commands, docker's output for each: `kiln images` (the store's
// images; --tree: a multi-platform image's platforms), `history IMAGE` (newest
// first), `inspect IMAGE|CONTAINER...` (a JSON array, or a Go template per
// object), `tag SOURCE TARGET`, `rmi [-f] IMAGE...` (refusing an image a
// container uses unless forced; NAME@DIGEST untags NAME's names on DIGEST),
// `import FILE|- [REPOSITORY[:TAG]]` (a rootfs tarball becomes a one-layer
// image), `save` and `load` (docker-archive / OCI layout tars).
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cache/image_archive.h"
#include "cache/image_import.h"
#include "cache/image_inspect.h"
#include "cache/image_list.h"
#include "cli/command.h"
#include "containers/image_remove.h"
#include "containers/object_inspect.h"
#include "oci/archive_writer.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct ListFlags {
  std::string image;  // history's IMAGE
  bool quiet = false;
  bool digests = false;
  bool all = false;
  bool tree = false;
  std::string format;
  std::string platform;
  cache::ImageListOptions list;
  cache::HistoryFormat history;
};

const char* const kFormatHelp = "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE";

llvm::Expected<int> images(ListFlags& f, const GlobalOptions& globals) {
  KILN_TRY(auto store, open_store_read_only(globals));
  KILN_TRY(auto rows, f.tree ? cache::image_tree_rows(*store, f.list)
                             : cache::image_list_rows(*store, f.list));
  std::string format = f.tree ? cache::kImageTreeTable
                              : list_format(f.format, cache::image_list_table(f.digests), f.quiet);
  KILN_CHECK(print_rows(std::cout, format, rows,
                        f.tree ? cache::image_tree_header() : cache::image_list_header()));
  return 0;
}

Command<ListFlags> images_reg{
    "images", "List images", 20,
    [](CLI::App& sub, ListFlags& f) {
      sub.add_flag("-q,--quiet", f.quiet, "Only show image IDs");
      sub.add_flag("--digests", f.digests, "Show digests");
      sub.add_flag("-a,--all", f.all, "Show all images (intermediate ones too)");
      sub.add_flag("--no-trunc", f.list.no_trunc, "Don't truncate output");
      sub.add_flag("--tree", f.tree, "List multi-platform images as a tree");
      sub.add_option("--format", f.format, kFormatHelp);
      sub.add_option("repository", f.list.filter, "REPOSITORY[:TAG] to list");
    },
    images};

llvm::Expected<int> history(ListFlags& f, const GlobalOptions& globals) {
  KILN_TRY(auto store, open_store_read_only(globals));
  KILN_TRY(auto image, store->resolve(f.image));
  KILN_TRY(auto entries, cache::image_history(*store, image, f.platform));
  KILN_CHECK(print_rows(std::cout, list_format(f.format, cache::kImageHistoryTable, f.quiet),
                        cache::image_history_rows(entries, f.history),
                        cache::image_history_header()));
  return 0;
}

Command<ListFlags> history_reg{
    "history", "Show the history of an image", 24,
    [](CLI::App& sub, ListFlags& f) {
      sub.add_flag("--no-trunc", f.history.no_trunc, "Don't truncate output");
      sub.add_option("--platform", f.platform,
                     "Show history for the given platform of a multi-platform image");
      sub.add_flag("-q,--quiet", f.quiet, "Only show image IDs");
      sub.add_option("-H,--human", f.history.human,
                     "Print sizes and dates in human readable format");
      sub.add_option("--format", f.format, kFormatHelp);
      sub.add_option("image", f.image, "IMAGE")->required();
    },
    history};

struct InspectFlags {
  std::vector<std::string> names;
  std::string format;
  std::string platform;
};

llvm::Expected<int> run_inspect(InspectFlags& f, const GlobalOptions& globals) {
  KILN_TRY(auto store, open_store_read_only(globals));
  KILN_TRY(auto out, containers::inspect_text(*store, globals.root, f.names, f.platform, f.format));
  std::cout << out.text << std::flush;
  int code = 0;
  for (llvm::Error& err : out.errors) {
    code = print_error(std::move(err), std::cerr);
  }
  return code;
}

Command<InspectFlags> inspect_reg{
    "inspect", "Display detailed information on images and containers", 23,
    [](CLI::App& sub, InspectFlags& f) {
      sub.add_option("-f,--format", f.format, "Format output using a Go template");
      sub.add_option("--platform", f.platform,
                     "Inspect a specific platform of a multi-platform image (os/arch[/variant])");
      sub.add_option("images", f.names, "IMAGE...")->required();
    },
    run_inspect};

struct TagArgs {
  std::string source;
  std::string target;
};

llvm::Expected<int> run_tag(TagArgs& args, const GlobalOptions& globals) {
  KILN_TRY(auto ref, with_context(oci::parse_reference(args.target), "tag " + quote(args.target)));
  if (!ref.digest.empty()) {
    return llvm::make_error<UsageError>("refusing to create a tag with a digest reference");
  }
  KILN_TRY(auto store, open_store(globals));
  KILN_TRY(auto image, store->resolve(args.source));
  KILN_CHECK(store->tag(image.manifest, ref.str()));
  return 0;
}

Command<TagArgs> tag_reg{"tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", 21,
                         [](CLI::App& sub, TagArgs& args) {
                           sub.add_option("source", args.source, "SOURCE_IMAGE[:TAG]")->required();
                           sub.add_option("target", args.target, "TARGET_IMAGE[:TAG]")->required();
                         },
                         run_tag};

struct RmiFlags {
  std::vector<std::string> images;
  bool force = false;
  bool no_prune = false;
};

llvm::Expected<int> run_rmi(RmiFlags& f, const GlobalOptions& globals) {
  KILN_TRY(auto store, open_store(globals));
  return for_each_name(f.images, EchoName::no, [&](const std::string& text) -> llvm::Error {
    KILN_TRY(auto removed,
             containers::remove_image(*store, globals.root, text,
                                      f.force ? cache::Force::yes : cache::Force::no));
    for (const std::string& name : removed.untagged) {
      std::cout << "Untagged: " << familiar_name(name) << "\n";
    }
    for (const Digest& id : removed.deleted) {
      std::cout << "Deleted: " << id.str() << "\n";
    }
    return llvm::Error::success();
  });
}

Command<RmiFlags> rmi_reg{"rmi", "Remove one or more images", 22,
                          [](CLI::App& sub, RmiFlags& f) {
                            sub.add_flag("-f,--force", f.force, "Force removal of the image");
                            sub.add_flag("--no-prune", f.no_prune,
                                         "Do not delete untagged parents (kiln has none)");
                            sub.add_option("images", f.images, "IMAGE...")->required();
                          },
                          run_rmi};

struct ImportArgs {
  std::string file;
  std::string name;
  std::string message;
};

llvm::Expected<int> run_import(ImportArgs& args, const GlobalOptions& globals) {
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  KILN_TRY(auto options, cache::import_options(args.name, args.message, epoch ? epoch : ""));
  KILN_TRY(auto store, open_store(globals));
  KILN_TRY(auto image, cache::import_rootfs_file(*store, args.file, options));
  std::cout << image.config.str() << "\n";
  return 0;
}

Command<ImportArgs> import_reg{
    "import", "Import the contents from a tarball to create a filesystem image", 27,
    [](CLI::App& sub, ImportArgs& args) {
      sub.add_option("-m,--message", args.message, "Set commit message for imported image");
      sub.add_option("file", args.file, "FILE or - (a tar, plain or gzip/xz/bzip2/zstd)")
          ->required();
      sub.add_option("repository", args.name, "REPOSITORY[:TAG]");
    },
    run_import};

struct ArchiveFlags {
  std::string file;  // save's --output, load's --input
  std::string format = "docker";
  std::vector<std::string> images;
  bool quiet = false;
};

llvm::Expected<int> save(ArchiveFlags& f, const GlobalOptions& globals) {
  oci::ArchiveFormat format;
  if (f.format == "docker") {
    format = oci::ArchiveFormat::docker;
  } else if (f.format == "oci") {
    format = oci::ArchiveFormat::oci;
  } else {
    return llvm::make_error<UsageError>("invalid --format " + quote(f.format) +
                                        " (valid: 'docker', 'oci')");
  }
  bool to_stdout = f.file.empty() || f.file == "-";
  if (to_stdout && ::isatty(STDOUT_FILENO)) {
    return llvm::make_error<UsageError>(
        "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  KILN_TRY(auto store, open_store_read_only(globals));
  KILN_CHECK(cache::save_images(*store, f.images, format, to_stdout ? "" : f.file));
  return 0;
}

llvm::Expected<int> load(ArchiveFlags& f, const GlobalOptions& globals) {
  bool from_stdin = f.file.empty() || f.file == "-";
  if (from_stdin && ::isatty(STDIN_FILENO)) {
    return llvm::make_error<UsageError>(
        "requested load from stdin, but stdin is empty; use -i or redirect");
  }
  KILN_TRY(auto store, open_store(globals));
  KILN_TRY(auto loaded, cache::load_archive_file(*store, from_stdin ? "" : f.file));
  for (const std::string& line : cache::load_report_lines(loaded, f.quiet)) {
    std::cout << line << "\n";
  }
  return 0;
}

Command<ArchiveFlags> save_reg{
    "save", "Save one or more images to a tar archive (streamed to STDOUT by default)", 25,
    [](CLI::App& sub, ArchiveFlags& f) {
      sub.add_option("-o,--output", f.file, "Write to a file, instead of STDOUT");
      sub.add_option("--format", f.format, "Archive format: 'docker' (default) or 'oci'");
      sub.add_option("images", f.images, "IMAGE...")->required();
    },
    save};

Command<ArchiveFlags> load_reg{"load", "Load an image from a tar archive or STDIN", 26,
                               [](CLI::App& sub, ArchiveFlags& f) {
                                 sub.add_option("-i,--input", f.file,
                                                "Read from tar archive file, instead of STDIN");
                                 sub.add_flag("-q,--quiet", f.quiet, "Suppress the load output");
                               },
                               load};

}  // namespace
}  // namespace kiln::cli
