// `kiln rmi [-f] IMAGE...`: untag and delete images, like `docker rmi` (refusing
// an image a container uses unless forced; NAME@DIGEST untags NAME's names on DIGEST).

#include <iostream>

#include "cli/command.h"
#include "cli/each_name.h"
#include "cli/store_open.h"
#include "containers/image_remove.h"

namespace kiln::cli {
namespace {

llvm::Expected<int> run_rmi(const GlobalOptions& globals, const std::vector<std::string>& images,
                            bool force) {
  auto store = open_store(globals);
  if (!store) {
    return store.takeError();
  }
  return for_each_name(images, EchoName::no, [&](const std::string& text) -> llvm::Error {
    auto removed = containers::remove_image(**store, globals.root, text,
                                            force ? cache::Force::yes : cache::Force::no);
    if (!removed) {
      return removed.takeError();
    }
    for (const std::string& name : removed->untagged) {
      std::cout << "Untagged: " << familiar_name(name) << "\n";
    }
    for (const Digest& id : removed->deleted) {
      std::cout << "Deleted: " << id.str() << "\n";
    }
    return llvm::Error::success();
  });
}

CommandBody setup_rmi(CLI::App& sub, const GlobalOptions& globals) {
  auto images = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  sub.add_flag("-f,--force", *force, "Force removal of the image");
  auto no_prune = std::make_shared<bool>(false);
  sub.add_flag("--no-prune", *no_prune, "Do not delete untagged parents (kiln has none)");
  sub.add_option("images", *images, "IMAGE...")->required();
  return [&globals, images, force, no_prune]() { return run_rmi(globals, *images, *force); };
}

CommandRegistration reg{{"rmi", "Remove one or more images", setup_rmi, 22}};

}  // namespace
}  // namespace kiln::cli
