// The contents of `RUN --mount=type=cache` directories as layers of an exported
// build cache (`--cache-to …,cache-mounts=true`), and back.
#pragma once

#include <string>

#include <llvm/Support/Error.h>

#include "cache/content_store.h"
#include "cache/layer_pack.h"
#include "exporter/cache_config.h"

namespace kiln::exporter {

/// Packs the cache mount directory `dir` into a layer blob in `content`. When
/// nothing under `dir` changed since the last call (a stat fingerprint kept in
/// the file `dir`.export: paths, types, modes, owners, sizes, mtimes, ctimes),
/// the blob packed then is returned without packing again. Thread-compatible:
/// one call per directory at a time.
llvm::Expected<CacheLayer> pack_cache_mount(const cache::ContentStore& content,
                                            const std::string& dir,
                                            const cache::PackOptions& options);

}  // namespace kiln::exporter
