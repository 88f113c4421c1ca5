// `kiln pull [--platform] REF`: downloads an image (layers in parallel) into the
// store and names it, printing docker's lines.

#include <iostream>

#include "cache/image_store.h"
#include "cli/command.h"
#include "cli/image_pull.h"
#include "cli/registry_store.h"
#include "cli/store_open.h"
#include "exporter/store_transfer.h"
#include "oci/reference.h"

namespace kiln::cli {
namespace {

struct PullFlags {
  std::string reference;
  std::string platform = "linux/amd64";
  bool quiet = false;
  RegistryFlags registry;
};

llvm::Expected<int> run_pull(const PullFlags& flags, const GlobalOptions& globals,
                             std::ostream& out = std::cout) {
  llvm::Expected<oci::Reference> ref = oci::parse_reference(flags.reference);
  if (!ref) {
    return ref.takeError();
  }
  registry::PullOptions options;
  llvm::Expected<oci::Platform> platform = oci::parse_platform(flags.platform);
  if (!platform) {
    return platform.takeError();
  }
  options.platform = *platform;
  llvm::Expected<std::unique_ptr<cache::ImageStore>> store = open_store(globals);
  if (!store) {
    return store.takeError();
  }
  llvm::Expected<std::unique_ptr<registry::Client>> client = make_registry_client(flags.registry);
  if (!client) {
    return client.takeError();
  }
  LayerProgressPrinter printer(out, exporter::LayerDirection::pull);
  if (!flags.quiet) {
    out << exporter::pull_header_text(*ref) << std::flush;
    options.progress = [&printer](const registry::BlobProgress& e) { printer(e); };
  }
  llvm::Expected<exporter::StorePull> pulled =
      exporter::pull_to_store(**store, **client, *ref, options);
  if (!pulled) {
    return pulled.takeError();
  }
  if (!flags.quiet) {
    out << exporter::pull_summary_text(*ref, *pulled);
  }
  out << ref->str() << "\n";
  return 0;
}

CommandBody setup_pull(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<PullFlags>();
  sub.add_option("REF", flags->reference, "Image to pull (NAME[:TAG|@DIGEST])")->required();
  sub.add_option("--platform", flags->platform, "Platform of a multi-platform image");
  sub.add_flag("-q,--quiet", flags->quiet, "Print only the image name");
  add_registry_flags(sub, flags->registry);
  return [flags, &globals]() { return run_pull(*flags, globals); };
}

CommandRegistration reg{{"pull", "Download an image from a registry", setup_pull, 40}};

}  // namespace

llvm::Error pull_if_missing(const GlobalOptions& globals, const std::string& reference) {
  {
    llvm::Expected<std::unique_ptr<cache::ImageStore>> store = open_store(globals);
    if (!store) {
      return store.takeError();
    }
    llvm::Expected<cache::ImageRecord> record = (*store)->resolve(reference);
    if (record) {
      return llvm::Error::success();
    }
    llvm::consumeError(record.takeError());
  }
  llvm::Expected<oci::Reference> ref = oci::parse_reference(reference);
  if (!ref) {
    return ref.takeError();
  }
  std::cerr << "Unable to find image '" << ref->familiar_str() << "' locally\n";
  PullFlags flags;
  flags.reference = reference;
  llvm::Expected<int> pulled = run_pull(flags, globals, std::cerr);
  if (!pulled) {
    return pulled.takeError();
  }
  return llvm::Error::success();
}
}  // namespace kiln::cli
