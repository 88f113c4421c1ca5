// `kiln inspect NAME`: a container or, when no container has that name or ID,
// an image, as `docker inspect` without --type shows it.
#pragma once

#include <optional>
#include <string>
#include <vector>

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

/// `kiln inspect`'s output for `names`: `text` is a JSON array (4-space indent)
/// of each object found, or with a Go template `format` ("" or "json": the
/// array) one line per object found; `errors` holds, in order, each name not
/// found and each object the template failed on ("template parsing error: ...").
/// Fails as a whole only when `format` does not parse.
struct InspectOutput {
  std::string text;
  std::vector<llvm::Error> errors;
};
llvm::Expected<InspectOutput> inspect_text(cache::ImageStore& store, llvm::StringRef root,
                                           const std::vector<std::string>& names,
                                           llvm::StringRef platform, llvm::StringRef format);

}  // namespace kiln::containers
