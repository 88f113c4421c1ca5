#include "cli/store_open.h"

#include "containers/image_store_open.h"
#include "support/docker_format.h"

namespace kiln::cli {

llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store(const GlobalOptions& globals) {
  return containers::open_image_store(globals.root);
}

llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store_read_only(
    const GlobalOptions& globals) {
  return containers::open_image_store(globals.root, cache::StoreAccess::read_only);
}

std::string since(int64_t then) { return human_since(then); }

void print_table(std::ostream& os, const std::vector<std::vector<std::string>>& rows) {
  os << support::tabwrite(rows);
}

}  // namespace kiln::cli
