// `kiln save` and `kiln load`: images to and from docker-archive / OCI layout tars.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
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
  auto images = cache::resolve_for_save(**store, options.images);
  if (!images) {
    return with_context(images.takeError(), "save");
  }
  // Blobs are read from the store by path: hold the lease so rmi cannot delete them.
  auto lease = (*store)->content().lease(cache::LeaseMode::shared);
  if (!lease) {
    return lease.takeError();
  }
  if (to_stdout) {
    if (auto err = cache::save_archive(**store, *images, format, STDOUT_FILENO)) {
      return with_context(std::move(err), "save");
    }
    return 0;
  }
  int fd = ::open(options.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_io_error("save: create", options.output, errno);
  }
  llvm::Error err = cache::save_archive(**store, *images, format, fd);
  if (::close(fd) != 0 && !err) {
    err = make_io_error("save: write", options.output, errno);
  }
  if (err) {
    ::unlink(options.output.c_str());
    return with_context(std::move(err), "save");
  }
  return 0;
}

llvm::Expected<int> run_load(const GlobalOptions& globals, const std::string& input, bool quiet) {
  int fd = STDIN_FILENO;
  if (!input.empty() && input != "-") {
    fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return make_io_error("load: open", input, errno);
    }
  } else if (::isatty(STDIN_FILENO)) {
    return llvm::make_error<UsageError>(
        "requested load from stdin, but stdin is empty; use -i or redirect");
  }
  auto store = open_store(globals);
  if (!store) {
    return store.takeError();
  }
  auto loaded = cache::load_archive(**store, fd);
  if (fd != STDIN_FILENO) {
    ::close(fd);
  }
  if (!loaded) {
    return with_context(loaded.takeError(), "load");
  }
  for (const cache::LoadedRecord& record : *loaded) {
    for (const auto& [name, old_id] : record.replaced) {
      if (!quiet) {
        std::cout << "The image " << familiar_name(name) << " already exists, renaming the old "
                  << "one with ID " << old_id.str() << " to empty string\n";
      }
    }
    for (const std::string& name : record.names) {
      std::cout << "Loaded image: " << familiar_name(name) << "\n";
    }
    if (record.names.empty()) {
      std::cout << "Loaded image ID: " << record.image.config.str() << "\n";
    }
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
