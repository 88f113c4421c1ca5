// `kiln rmi [-f] IMAGE...`: untag and delete images, like `docker rmi` (refusing
// an image a container uses unless forced; NAME@DIGEST untags NAME's names on DIGEST).

#include <iostream>

#include "cli/command.h"
#include "cli/each_name.h"
#include "cli/store_open.h"
#include "containers/image_remove.h"

namespace kiln::cli {
namespace {

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

Command<RmiFlags> reg{"rmi", "Remove one or more images", 22,
                      [](CLI::App& sub, RmiFlags& f) {
                        sub.add_flag("-f,--force", f.force, "Force removal of the image");
                        sub.add_flag("--no-prune", f.no_prune,
                                     "Do not delete untagged parents (kiln has none)");
                        sub.add_option("images", f.images, "IMAGE...")->required();
                      },
                      run_rmi};

}  // namespace
}  // namespace kiln::cli
