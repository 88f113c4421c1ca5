// Opening the image store for a command: the store of a kiln root, rid first of
// what dead `kiln` processes left of their containers.
#pragma once

#include <memory>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"

namespace kiln::containers {

/// cache::ImageStore::open() of the kiln root `root` with `access`, then (once it
/// is open, under the store lock) reclaim_lost_containers(): the containers a
/// kill -9 left mounted, or --rm ones not removed. Fails as ImageStore::open().
llvm::Expected<std::unique_ptr<cache::ImageStore>> open_image_store(
    llvm::StringRef root, cache::StoreAccess access = cache::StoreAccess::read_write);

}  // namespace kiln::containers
