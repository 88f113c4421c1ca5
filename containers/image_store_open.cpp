#include "containers/image_store_open.h"

#include "containers/container_store.h"

namespace kiln::containers {

llvm::Expected<std::unique_ptr<cache::ImageStore>> open_image_store(llvm::StringRef root,
                                                                    cache::StoreAccess access) {
  auto store = cache::ImageStore::open(root, access);
  if (store) {
    reclaim_lost_containers(root);
  }
  return store;
}

}  // namespace kiln::containers
