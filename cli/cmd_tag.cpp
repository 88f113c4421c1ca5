// `kiln tag SOURCE TARGET`: give an image another name, like `docker tag`.

#include "cli/command.h"
#include "cli/store_open.h"
#include "oci/reference.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

struct TagArgs {
  std::string source;
  std::string target;
};

llvm::Expected<int> run_tag(TagArgs& args, const GlobalOptions& globals) {
  auto ref = oci::parse_reference(args.target);
  if (!ref) {
    return with_context(ref.takeError(), "tag " + quote(args.target));
  }
  if (!ref->digest.empty()) {
    return llvm::make_error<UsageError>("refusing to create a tag with a digest reference");
  }
  KILN_TRY(auto store, open_store(globals));
  KILN_TRY(auto image, store->resolve(args.source));
  KILN_CHECK(store->tag(image.manifest, ref->str()));
  return 0;
}

Command<TagArgs> reg{"tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", 21,
                     [](CLI::App& sub, TagArgs& args) {
                       sub.add_option("source", args.source, "SOURCE_IMAGE[:TAG]")->required();
                       sub.add_option("target", args.target, "TARGET_IMAGE[:TAG]")->required();
                     },
                     run_tag};

}  // namespace
}  // namespace kiln::cli
