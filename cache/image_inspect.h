// A stored image as `docker image inspect` and `docker history` show it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <nlohmann/json.hpp>

#include "cache/image_store.h"
#include "oci/image_config.h"

namespace kiln::cache {

/// The JSON object `docker image inspect` gives for `image` (Id, RepoTags,
/// RepoDigests, Created, Config, Architecture, Os, Size, RootFS, ...), with
/// `image.size` as its Size. For an image index, or with `platform`
/// (os/arch[/variant]), the config shown is that platform's (the host's by
/// default) and the index's platforms are listed under Manifests. Fails when a
/// blob is missing or the config is not JSON.
llvm::Expected<nlohmann::ordered_json> inspect_image(const ImageStore& store,
                                                     const ImageRecord& image,
                                                     llvm::StringRef platform);

/// One entry of an image's history and the size of the layer it made (0 for an
/// empty layer).
struct HistoryRow {
  oci::HistoryEntry entry;
  int64_t size = 0;
};

/// `docker history` of `image`: its config digest (the image ID) and its history
/// entries, oldest first. For an image index, or with `platform`, the platform's
/// (the host's by default).
struct ImageHistory {
  Digest config;
  std::vector<HistoryRow> rows;
};
llvm::Expected<ImageHistory> image_history(const ImageStore& store, const ImageRecord& image,
                                           llvm::StringRef platform);

}  // namespace kiln::cache
