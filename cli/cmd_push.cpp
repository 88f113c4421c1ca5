// `kiln push REF`: uploads a stored image (blobs in parallel, skipping what the
// registry has) and tags it there, printing docker's lines.

#include <iostream>

#include "cache/image_store.h"
#include "cli/command.h"
#include "cli/registry_store.h"
#include "cli/store_open.h"
#include "oci/reference.h"
#include "registry/transfer.h"
#include "support/error.h"

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
  std::string context = "push " + quote(ref->familiar_str());
  llvm::Expected<std::unique_ptr<cache::ImageStore>> store = open_store(globals);
  if (!store) {
    return store.takeError();
  }
  llvm::Expected<cache::ImageRecord> image = (*store)->resolve(ref->str());
  if (!image) {
    return with_context(image.takeError(), context);
  }
  llvm::Expected<std::unique_ptr<registry::Client>> client = make_registry_client(flags.registry);
  if (!client) {
    return client.takeError();
  }
  std::ostream& out = std::cout;
  if (!flags.quiet) {
    out << "The push refers to repository [" << ref->name() << "]\n" << std::flush;
  }
  LayerProgressPrinter printer(out, LayerProgressPrinter::Direction::push);
  registry::PushOptions options;
  if (!flags.quiet) {
    options.progress = [&printer](const registry::BlobProgress& e) { printer(e); };
  }
  ContentBlobStore blobs((*store)->content());
  llvm::Expected<registry::PushResult> pushed =
      registry::push_image(**client, *ref, blobs, image->manifest, options);
  if (!pushed) {
    return with_context(pushed.takeError(), context);
  }
  if (flags.quiet) {
    out << ref->str() << "\n";
    return 0;
  }
  out << (ref->tag.empty() ? ref->digest : ref->tag) << ": digest: " << pushed->digest.str()
      << " size: " << pushed->size << "\n";
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
