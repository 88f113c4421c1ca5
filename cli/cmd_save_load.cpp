// `kiln save` and `kiln load`: images to and from docker-archive / OCI layout tars.

#include <unistd.h>

#include <iostream>

#include "cache/image_archive.h"
#include "cli/command.h"
#include "cli/store_open.h"
#include "oci/archive_writer.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct SaveOptions {
  std::string output;
  std::string format = "docker";
  std::vector<std::string> images;
};

llvm::Expected<int> run_save(const GlobalOptions& globals, const SaveOptions& options) {
  oci::ArchiveFormat format;
  if (options.format == "docker") {
    format = oci::ArchiveFormat::docker;
  } else if (options.format == "oci") {
    format = oci::ArchiveFormat::oci;
  } else {
    return llvm::make_error<UsageError>("invalid --format " + quote(options.format) +
                                        " (valid: 'docker', 'oci')");
  }
  bool to_stdout = options.output.empty() || options.output == "-";
  if (to_stdout && ::isatty(STDOUT_FILENO)) {
    return llvm::make_error<UsageError>(
        "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  auto store = open_store_read_only(globals);
  if (!store) {
    return store.takeError();
  }
  if (auto err =
          cache::save_images(**store, options.images, format, to_stdout ? "" : options.output)) {
    return err;
  }
  return 0;
}

llvm::Expected<int> run_load(const GlobalOptions& globals, const std::string& input, bool quiet) {
  bool from_stdin = input.empty() || input == "-";
  if (from_stdin && ::isatty(STDIN_FILENO)) {
    return llvm::make_error<UsageError>(
        "requested load from stdin, but stdin is empty; use -i or redirect");
  }
  auto store = open_store(globals);
  if (!store) {
    return store.takeError();
  }
  auto loaded = cache::load_archive_file(**store, from_stdin ? "" : input);
  if (!loaded) {
    return loaded.takeError();
  }
  for (const std::string& line : cache::load_report_lines(*loaded, quiet)) {
    std::cout << line << "\n";
  }
  return 0;
}

CommandBody setup_save(CLI::App& sub, const GlobalOptions& globals) {
  auto options = std::make_shared<SaveOptions>();
  sub.add_option("-o,--output", options->output, "Write to a file, instead of STDOUT");
  sub.add_option("--format", options->format, "Archive format: 'docker' (default) or 'oci'");
  sub.add_option("images", options->images, "IMAGE...")->required();
  return [&globals, options]() { return run_save(globals, *options); };
}

CommandBody setup_load(CLI::App& sub, const GlobalOptions& globals) {
  auto input = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  sub.add_option("-i,--input", *input, "Read from tar archive file, instead of STDIN");
  sub.add_flag("-q,--quiet", *quiet, "Suppress the load output");
  return [&globals, input, quiet]() { return run_load(globals, *input, *quiet); };
}

CommandRegistration save_reg{
    {"save", "Save one or more images to a tar archive (streamed to STDOUT by default)", setup_save,
     25}};
CommandRegistration load_reg{{"load", "Load an image from a tar archive or STDIN", setup_load, 26}};

}  // namespace
}  // namespace kiln::cli
