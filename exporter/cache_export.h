// Writing a build cache (`--cache-to`): to an OCI image layout directory, to a
// registry as an artifact manifest, or into an image config (inline). Every
// target is incremental: a blob already there is not written or uploaded again.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include <llvm/Support/Error.h>

#include "cache/content_store.h"
#include "exporter/cache_config.h"
#include "oci/image_config.h"
#include "oci/reference.h"
#include "registry/blob_store.h"
#include "registry/client.h"

namespace kiln::exporter {

/// What an export did.
struct CacheExportStats {
  /// Blobs written or uploaded (the config and manifest count when new).
  int blobs_written = 0;
  /// Blobs the target already had.
  int blobs_present = 0;
  uint64_t bytes_written = 0;
  /// Blobs of older exports removed from a local directory.
  int blobs_removed = 0;
  Digest manifest;
};

/// Makes sure a blob is in the content store before it is written out (for
/// blobs of imported caches that were never fetched); may be empty.
using BlobFetcher = std::function<llvm::Error(const Digest& digest)>;

/// Writes `config` as an OCI image layout at `dir`: blobs/sha256/* (layer blobs
/// hard-linked from `content` when it shares the file system, else copied),
/// the config and manifest blobs, and index.json naming the manifest `tag`
/// (other tags' entries are kept). Then removes the blobs no manifest of the
/// index refers to any more, so the directory does not grow without bound.
/// A blob the directory lacks must be in `content` or be brought there by
/// `fetch`; the blobs in `replace` (found corrupt) are written anew. Safe against a crash at any
/// point: files appear by rename. Not safe against a concurrent export to the
/// same directory.
llvm::Expected<CacheExportStats> export_cache_local(const cache::ContentStore& content,
                                                    const CacheConfig& config,
                                                    const std::string& dir,
                                                    const std::string& tag = "latest",
                                                    const BlobFetcher& fetch = {},
                                                    const std::set<Digest>& replace = {});

/// Uploads `config` to repository `ref` (its tag names the manifest): blobs the
/// registry lacks (HEAD first; from `blobs`, the content store, after `fetch`),
/// the config, and the manifest unless the registry's tag already names the
/// same digest. `content` receives the config blob.
llvm::Expected<CacheExportStats> export_cache_registry(
    registry::Client& client, const registry::BlobStore& blobs, const cache::ContentStore& content,
    const CacheConfig& config, const oci::Reference& ref, const BlobFetcher& fetch = {});

/// Adds `config` to `image` as the member kInlineCacheField (replacing one that
/// is there), for `--cache-to type=inline`. Its layers must be the image's.
void add_inline_cache(oci::ImageConfig& image, const CacheConfig& config);

}  // namespace kiln::exporter
