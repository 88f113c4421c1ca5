// Image assembly: a build result (a snapshot chain and the stage's image config)
// becomes config and manifest blobs in the content store, and an image in the
// local store under its names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "cache/build_db.h"
#include "cache/image_store.h"
#include "cache/layer_pack.h"
#include "cache/snapshot.h"
#include "oci/image_config.h"
#include "oci/types.h"

namespace kiln::exporter {

/// Which media types the manifest uses.
enum class MediaTypes { docker, oci };

/// What to assemble.
struct ImageAssembly {
  /// The file system; nullopt for an image without layers (FROM scratch).
  std::optional<Digest> chain;
  /// The stage's config; diff_ids are filled in here, history kept.
  oci::ImageConfig config;
  cache::PackOptions pack;
  /// Layers must be in `pack.compression` (packed again when stored otherwise);
  /// without it any stored blob of a layer will do.
  bool exact_compression = false;
  MediaTypes media_types = MediaTypes::docker;
  /// SOURCE_DATE_EPOCH: the config's and history's `created` become this time.
  std::optional<int64_t> source_date_epoch;
};

/// What was written.
struct AssembledImage {
  oci::Manifest manifest;
  std::string manifest_json;
  Digest manifest_digest;
  std::string config_json;
  /// The image ID.
  Digest config_digest;
};

/// Writes the config and manifest of `input` into the store's content store
/// (packing layers whose blobs are gone) and returns them. Does not name it.
llvm::Expected<AssembledImage> assemble_image(cache::ImageStore& store,
                                              const cache::SnapshotStore& snapshots,
                                              cache::BuildDb& db, const ImageAssembly& input);

/// RFC 3339 UTC time of `unix_seconds` with `nanos` ("2024-01-02T03:04:05.123456789Z";
/// without a fraction when `nanos` is 0).
std::string rfc3339(int64_t unix_seconds, int64_t nanos = 0);

}  // namespace kiln::exporter
