// `kiln push REF`: uploads a stored image (blobs in parallel, skipping what the
// registry has) and tags it there, printing docker's lines.

#include <iostream>

#include "cache/image_store.h"
#include "cli/command.h"
#include "cli/registry_store.h"
#include "cli/store_open.h"
#include "exporter/store_transfer.h"
#include "oci/reference.h"

namespace kiln::cli {
namespace {

struct PushFlags {
  std::string reference;
  bool quiet = false;
  RegistryFlags registry;
};

llvm::Expected<int> run_push(const PushFlags& flags, const GlobalOptions& globals) {
  llvm::Expected<oci::Reference> ref = oci::parse_reference(flags.reference);
  if (!ref) {
    return ref.takeError();
  }
  llvm::Expected<std::unique_ptr<cache::ImageStore>> store = open_store(globals);
  if (!store) {
    return store.takeError();
  }
  std::ostream& out = std::cout;
  LayerProgressPrinter printer(out, exporter::LayerDirection::push);
  registry::PushOptions options;
  if (!flags.quiet) {
    options.progress = [&printer](const registry::BlobProgress& e) { printer(e); };
  }
  llvm::Expected<registry::PushResult> pushed =
      exporter::push_from_store(**store, flags.registry, *ref, options, [&] {
        if (!flags.quiet) {
          out << exporter::push_header_text(*ref) << std::flush;
        }
      });
  if (!pushed) {
    return pushed.takeError();
  }
  out << (flags.quiet ? ref->str() + "\n" : exporter::push_summary_text(*ref, *pushed));
  return 0;
}

CommandBody setup_push(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<PushFlags>();
  sub.add_option("REF", flags->reference, "Image to push (NAME[:TAG])")->required();
  sub.add_flag("-q,--quiet", flags->quiet, "Print only the image name");
  add_registry_flags(sub, flags->registry);
  return [flags, &globals]() { return run_push(*flags, globals); };
}

CommandRegistration reg{{"push", "Upload an image to a registry", setup_push, 41}};

}  // namespace
}  // namespace kiln::cli
