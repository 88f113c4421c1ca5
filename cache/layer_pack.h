// Layer diff: an overlay-form directory -> OCI layer tar -> compressed blob.
#pragma once

#include <cstdint>
#include <optional>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/compress.h"
#include "support/digest.h"

namespace kiln::cache {

/// Options of pack_layer().
struct PackOptions {
  Compression compression = Compression::gzip;
  /// Compression level; -1 picks the default (gzip 6, zstd 3).
  int level = -1;
  /// Compression threads; 0 for the number of cores. Never changes the bytes.
  unsigned threads = 0;
  /// Clamp every mtime to this many seconds since the epoch (SOURCE_DATE_EPOCH).
  std::optional<int64_t> source_date_epoch;
};

/// What pack_layer() produced.
struct PackedLayer {
  Digest diff_id;     ///< sha256 of the uncompressed tar
  Digest digest;      ///< sha256 of the blob as written
  uint64_t size = 0;  ///< bytes of the blob
};

/// Packs the overlay-form directory `dir` (see write_layer_tar()) and streams the
/// compressed blob to `sink`. The same tree and options give the same bytes.
/// Thread-safe for distinct sinks.
llvm::Expected<PackedLayer> pack_layer(llvm::StringRef dir, const PackOptions& options,
                                       const ByteSink& sink);

/// As pack_layer(), writing the blob to the file `path` through an AtomicFile
/// (renamed into place only on success).
llvm::Expected<PackedLayer> pack_layer_to_file(llvm::StringRef dir, llvm::StringRef path,
                                               const PackOptions& options);

}  // namespace kiln::cache
