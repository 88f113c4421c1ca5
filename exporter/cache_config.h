// The build cache as exported (`--cache-to`) and imported (`--cache-from`): a
// cache config that maps step cache keys to chains of layer blobs, plus the
// blobs. On disk an OCI image layout, in a registry an OCI artifact manifest,
// inline a field of the image config.
//
// Cache config JSON (media type kCacheConfigMediaType), keys in this order:
//   {"version":1,
//    "layers":[{"mediaType":…,"digest":…,"size":…,"diffID":…},…],
//    "records":[{"key":"sha256:…","layers":[0,1,…]},…],   // bottom first
//    "mounts":[{"id":"…","layer":3},…],                    // RUN --mount=type=cache
//    "blobs":[descriptor,…],                               // small side blobs
//    "steps":[…]}                                          // opaque step records
// Records are sorted by key and layers numbered in order of first use, so the
// same cache gives the same bytes (an unchanged export writes nothing).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "oci/types.h"
#include "support/digest.h"

namespace kiln::exporter {

/// The cache config blob.
inline constexpr llvm::StringLiteral kCacheConfigMediaType =
    "application/vnd.kiln.cache.config.v1+json";
/// The artifactType of a cache manifest.
inline constexpr llvm::StringLiteral kCacheArtifactType = "application/vnd.kiln.cache.v1";
/// The image config member that holds an inline cache config.
inline constexpr llvm::StringLiteral kInlineCacheField = "kiln.cache.v1";

/// One layer blob of the cache.
struct CacheLayer {
  /// mediaType, digest and size of the blob.
  oci::Descriptor blob;
  Digest diff_id;
  bool operator==(const CacheLayer&) const = default;
};

/// A cache key and the file system it gives.
struct CacheRecord {
  Digest key;
  /// Indices into CacheConfig::layers, bottom layer first; empty for the empty
  /// file system (scratch).
  std::vector<uint32_t> layers;
  bool operator==(const CacheRecord&) const = default;
};

/// The contents of one `RUN --mount=type=cache` directory, packed as a layer.
struct CacheMountRecord {
  std::string id;
  uint32_t layer = 0;
  bool operator==(const CacheMountRecord&) const = default;
};

/// A parsed cache config.
struct CacheConfig {
  std::vector<CacheLayer> layers;
  std::vector<CacheRecord> records;
  std::vector<CacheMountRecord> mounts;
  /// Side blobs (lists of context files) that `steps` refers to.
  std::vector<oci::Descriptor> blobs;
  /// The step records of the build that exported, as a raw JSON array (the
  /// solver's format, opaque here); empty when there are none.
  std::string steps;

  /// Every blob the cache needs: layers then side blobs.
  std::vector<oci::Descriptor> all_blobs() const;
  bool operator==(const CacheConfig&) const = default;
};

/// The config's JSON (deterministic, compact).
std::string to_json(const CacheConfig& config);
/// Parses a cache config: "invalid cache config: …" naming what is wrong (an
/// unknown version, a layer index out of range, a bad digest).
llvm::Expected<CacheConfig> parse_cache_config(llvm::StringRef json);

/// The OCI manifest of an exported cache: artifactType kCacheArtifactType, the
/// config blob `config_json`, every blob of `config` as a layer.
std::string cache_manifest_json(const CacheConfig& config, llvm::StringRef config_json);

/// One config holding every record, mount, side blob and step record of
/// `configs` (a later config's record of a key replaces an earlier one's): the
/// inline caches of a multi-platform image's platforms imported as one.
CacheConfig merge_cache_configs(const std::vector<CacheConfig>& configs);

/// Collects records into a CacheConfig with shared layers numbered once.
class CacheConfigBuilder {
 public:
  /// Adds (or replaces) the record of `key`: the chain `layers`, bottom first.
  void add_record(const Digest& key, const std::vector<CacheLayer>& layers);
  /// Adds the cache mount `id` packed as `layer`.
  void add_mount(const std::string& id, const CacheLayer& layer);
  /// Adds a side blob.
  void add_blob(const oci::Descriptor& blob);
  void set_steps(std::string steps_json) { steps_ = std::move(steps_json); }
  bool empty() const { return records_.empty() && mounts_.empty(); }
  /// The config: records sorted by key, layers in order of first use.
  CacheConfig build() const;

 private:
  std::map<Digest, std::vector<CacheLayer>> records_;
  std::map<std::string, CacheLayer> mounts_;
  std::map<Digest, oci::Descriptor> blobs_;
  std::string steps_;
};

}  // namespace kiln::exporter
