// Multi-platform images in the local store: an OCI image index whose manifests are
// the images of each platform. The store records an index as one image (its ID is
// the index digest, as docker's containerd image store shows it) holding the blobs
// of every platform; the functions here pick a platform's manifest from it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/Support/Error.h>

#include "cache/content_store.h"
#include "cache/image_store.h"
#include "oci/types.h"
#include "support/digest.h"

namespace kiln::cache {

/// One platform's image of an index.
struct PlatformManifest {
  Digest manifest;
  Digest config;
  oci::Platform platform;
};

/// Records the image index whose blob `index` is stored (with every manifest,
/// config and layer it lists: an error names the first missing one) as one image,
/// and points `names` at it. Its ImageRecord's `config` is `index` itself; `created`
/// is the newest platform's, `size` the sum. Callers that just committed the blobs
/// hold a shared BlobLease across both.
llvm::Expected<ImageRecord> add_index(ImageStore& store, const Digest& index,
                                      llvm::ArrayRef<std::string> names);

/// The platforms' manifests of the blob `digest` when it is an image index (in index
/// order, attestation manifests skipped); nullopt when it is an image manifest.
llvm::Expected<std::optional<std::vector<PlatformManifest>>> index_manifests(
    const ContentStore& content, const Digest& digest);

/// The manifest of `digest` for `platform`: `digest` itself when it is an image
/// manifest whose config is for `platform` (or names no architecture), else the
/// index's manifest for `platform`. Fails naming the image and the platforms it
/// has when none matches.
llvm::Expected<PlatformManifest> manifest_for_platform(const ContentStore& content,
                                                       const Digest& digest,
                                                       const oci::Platform& platform);

}  // namespace kiln::cache
