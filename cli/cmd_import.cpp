// `kiln import FILE|- [REPOSITORY[:TAG]]`: a rootfs tarball becomes a one-layer image.

#include <cstdlib>
#include <iostream>

#include "cache/image_import.h"
#include "cli/command.h"
#include "cli/store_open.h"
#include "oci/reference.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct ImportArgs {
  std::string file;
  std::string name;
  std::string message;
};

llvm::Expected<int> run_import(ImportArgs& args, const GlobalOptions& globals) {
  cache::ImportOptions options;
  if (!args.name.empty()) {
    auto ref = oci::parse_reference(args.name);
    if (!ref) {
      return with_context(ref.takeError(), "import");
    }
    if (!ref->digest.empty()) {
      return llvm::make_error<UsageError>(
          "import: refusing to create a tag with a digest reference");
    }
    options.name = ref->str();
  }
  if (!args.message.empty()) {
    options.comment = args.message;
  }
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    if (llvm::StringRef(epoch).getAsInteger(10, options.created) || options.created < 0) {
      return llvm::make_error<UsageError>("invalid SOURCE_DATE_EPOCH " + quote(epoch));
    }
  }
  KILN_TRY(auto store, open_store(globals));
  KILN_TRY(auto image, cache::import_rootfs_file(*store, args.file, options));
  std::cout << image.config.str() << "\n";
  return 0;
}

Command<ImportArgs> reg{
    "import", "Import the contents from a tarball to create a filesystem image", 27,
    [](CLI::App& sub, ImportArgs& args) {
      sub.add_option("-m,--message", args.message, "Set commit message for imported image");
      sub.add_option("file", args.file, "FILE or - (a tar, plain or gzip/xz/bzip2/zstd)")
          ->required();
      sub.add_option("repository", args.name, "REPOSITORY[:TAG]");
    },
    run_import};

}  // namespace
}  // namespace kiln::cli
