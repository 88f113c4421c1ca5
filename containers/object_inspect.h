// `kiln inspect NAME`: a container or, when no container has that name or ID,
// an image, as `docker inspect` without --type shows it.
#pragma once

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

#include "cache/image_store.h"

namespace kiln::containers {

/// The inspect JSON of what `text` names: the container of the store at `root`
/// (containers/container_view.h), else the image of `store`
/// (cache/image_inspect.h, `platform`'s config of an index, its Size the layers
/// uncompressed). Fails when neither has it or either cannot be read.
llvm::Expected<nlohmann::ordered_json> inspect_object(cache::ImageStore& store,
                                                      llvm::StringRef root, llvm::StringRef text,
                                                      llvm::StringRef platform);

}  // namespace kiln::containers
