// Layer blobs of snapshots: packing a snapshot's changes into the content store,
// and finding (or re-packing) the blobs of a whole chain for an image.
#pragma once

#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/build_db.h"
#include "cache/content_store.h"
#include "cache/layer_pack.h"
#include "cache/snapshot.h"
#include "support/digest.h"

namespace kiln::cache {

/// A layer as an image holds it.
struct StoredLayer {
  Digest diff_id;
  Digest blob;
  uint64_t size = 0;
  Compression compression = Compression::gzip;
};

/// The compression's name in the build tables: "gzip", "zstd" or "none".
llvm::StringRef compression_name(Compression compression);
/// The compression of a layer media type (OCI or Docker), by its suffix.
Compression compression_of_media_type(llvm::StringRef media_type);

/// Packs the overlay-form directory `dir` into a blob of `content` and records it
/// in `db`. Thread-safe.
llvm::Expected<StoredLayer> store_layer(const ContentStore& content, BuildDb& db,
                                        llvm::StringRef dir, const PackOptions& options);

/// The layers of `chain` (bottom first) with their blobs in `content`: the blob
/// recorded for each DiffID (in `options.compression` when there is one, else in
/// any), or one packed again from the snapshot when none is stored any more.
/// With `exact`, only blobs in `options.compression` count (others are packed
/// again), e.g. gzip for a registry. Fails when a re-packed layer does not give
/// the recorded DiffID.
llvm::Expected<std::vector<StoredLayer>> chain_layers(const ContentStore& content,
                                                      const SnapshotStore& snapshots, BuildDb& db,
                                                      const Digest& chain,
                                                      const PackOptions& options,
                                                      bool exact = false);

}  // namespace kiln::cache
