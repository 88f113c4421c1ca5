// Reads a docker-archive or OCI layout tar (plain, gzip or zstd) in one pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "oci/archive_blobs.h"
#include "oci/reference.h"
#include "oci/types.h"

namespace kiln::oci {

/// What a LoadedImage is.
enum class LoadedKind {
  /// An image: manifest, config and layers.
  image,
  /// A multi-platform image index (ReadOptions::all_platforms): `manifest` describes
  /// the index, `manifest_bytes` are its bytes, `config_bytes` is empty; its
  /// platforms' images come before it as index_member.
  index,
  /// One platform's image of an index that follows; `names` is empty.
  index_member,
};

/// One image found in an archive. Its manifest, config and layers have been committed
/// to the sink.
struct LoadedImage {
  /// Names from the archive, normalized with a tag (docker.io/library/alpine:latest);
  /// empty when the archive names none (docker then prints "Loaded image ID: ...").
  std::vector<Reference> names;
  /// Descriptor of manifest_bytes (an image manifest, never an index).
  Descriptor manifest;
  /// The manifest bytes as stored in the sink. For a legacy docker-archive without
  /// index.json, an OCI manifest synthesized from manifest.json (layer media types
  /// from each blob's magic bytes).
  std::string manifest_bytes;
  /// The config bytes as found in the archive (the image ID is their digest).
  std::string config_bytes;
  LoadedKind kind = LoadedKind::image;
};

/// Options of read_archive.
struct ReadOptions {
  /// Which manifest to take from a multi-platform index.
  Platform platform = host_platform();
  /// Take every platform of an index whose manifests the archive all holds (as `kiln
  /// save` writes a multi-platform image): the index, then its images.
  bool all_platforms = false;
  /// Largest JSON document kept in memory (manifest.json, index.json, configs...);
  /// a larger manifest.json or index.json is an error, a larger config or manifest
  /// blob is "not a JSON document".
  int64_t max_json_size = 8 << 20;
  /// Memory budget for all JSON-looking blobs kept while reading.
  int64_t max_json_total = 256 << 20;
};

/// Reads the tar on `fd` (stdin is fine: one pass, no seeking; plain, gzip or zstd).
/// Every regular file is streamed into a writer from `sink` while its sha256 is
/// computed. Then the images are resolved: from index.json when present (nested
/// indexes followed to `options.platform`), then from docker's manifest.json (its
/// RepoTags are merged into an image index.json found; other images get a manifest
/// synthesized). Every referenced blob must be present with the right digest and
/// size. Only referenced blobs are committed, and nothing when the archive is rejected.
/// Images come in archive order, one per manifest digest.
///
/// Errors name the entry, without a command prefix (callers add context such as
/// "load"): "entry '../x': path escapes the archive", "entry 'blobs/sha256/ab…':
/// content digest is 'sha256:…'", "not a tar archive", "truncated archive", ...
llvm::Expected<std::vector<LoadedImage>> read_archive(int fd, BlobSink& sink,
                                                      const ReadOptions& options = {});

/// Reads an OCI image layout directory (oci-layout, index.json, blobs/) the same way.
llvm::Expected<std::vector<LoadedImage>> read_layout_dir(llvm::StringRef dir, BlobSink& sink,
                                                         const ReadOptions& options = {});

}  // namespace kiln::oci
