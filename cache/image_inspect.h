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

/// How `docker history` writes its rows.
struct HistoryFormat {
  /// Full image ID and CREATED BY (else 12 hex digits, and CREATED BY's tabs as
  /// spaces cut to 45 code points with a final "…").
  bool no_trunc = false;
  /// CreatedSince as "3 days ago" and Size as "1.2MB" (else the config's time as
  /// written and the size in bytes).
  bool human = true;
};

/// docker's historyContext rows of `history`, newest first, as JSON (Comment,
/// CreatedAt, CreatedBy, CreatedSince, ID, Size: all strings); ID is the image ID
/// on the newest row and "<missing>" on the others, as docker shows a pulled image.
std::vector<nlohmann::ordered_json> image_history_rows(const ImageHistory& history,
                                                       const HistoryFormat& format);

/// `history`'s default table: IMAGE CREATED CREATED BY SIZE COMMENT.
inline constexpr char kImageHistoryTable[] =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// docker's column names of image_history_rows()' fields, for `table` templates.
const nlohmann::ordered_json& image_history_header();

}  // namespace kiln::cache
