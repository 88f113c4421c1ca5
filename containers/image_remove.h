// `kiln rmi` with what containers use: docker's conflicts for an image a
// container was created from, and NAME@DIGEST references.
#pragma once

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/image_store.h"

namespace kiln::containers {

/// Removes what `text` names from `images` (the store at `root`), like `docker
/// rmi`: cache::ImageStore::remove(), except that without `force`
///  - removing the last name of an image a container uses fails with docker's
///    "conflict: unable to remove repository reference "NAME" (must force) -
///    container ID is using its referenced image IMAGE-ID";
///  - removing it by ID fails with "conflict: unable to delete IMAGE-ID (must be
///    forced) - image is being used by stopped container ID" ("cannot be forced"
///    and "running container" for a running one, even with `force`);
/// and NAME@DIGEST untags the names of NAME's repository that point at the
/// manifest DIGEST (the image is deleted when it has no names left).
llvm::Expected<cache::RemoveResult> remove_image(cache::ImageStore& images, llvm::StringRef root,
                                                 llvm::StringRef text, cache::Force force);

}  // namespace kiln::containers
