// `kiln tag SOURCE TARGET`: give an image another name, like `docker tag`.

#include "cli/command.h"
#include "cli/store_open.h"
#include "oci/reference.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

llvm::Expected<int> run_tag(const GlobalOptions& globals, const std::string& source,
                            const std::string& target) {
  auto ref = oci::parse_reference(target);
  if (!ref) {
    return with_context(ref.takeError(), "tag " + quote(target));
  }
  if (!ref->digest.empty()) {
    return llvm::make_error<UsageError>("refusing to create a tag with a digest reference");
  }
  auto store = open_store(globals);
  if (!store) {
    return store.takeError();
  }
  auto image = (*store)->resolve(source);
  if (!image) {
    return image.takeError();
  }
  if (auto err = (*store)->tag(image->manifest, ref->str())) {
    return err;
  }
  return 0;
}

CommandBody setup_tag(CLI::App& sub, const GlobalOptions& globals) {
  auto source = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  sub.add_option("source", *source, "SOURCE_IMAGE[:TAG]")->required();
  sub.add_option("target", *target, "TARGET_IMAGE[:TAG]")->required();
  return [&globals, source, target]() { return run_tag(globals, *source, *target); };
}

CommandRegistration reg{
    {"tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", setup_tag, 21}};

}  // namespace
}  // namespace kiln::cli
