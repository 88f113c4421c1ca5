// Writes images as a docker-archive (`docker save`, docker 25's hybrid layout) or an
// OCI image layout tar, deterministically.
#pragma once

#include <cstdint>
#include <vector>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "oci/archive_blobs.h"
#include "oci/reference.h"
#include "oci/types.h"

namespace kiln::oci {

/// The two archive formats.
enum class ArchiveFormat {
  docker,  // manifest.json + repositories + oci-layout + index.json + blobs/sha256/*
  oci,     // oci-layout + index.json + blobs/sha256/*
};

/// One image to write.
struct ArchiveImage {
  /// Names to record, normalized with a tag (docker.io/library/alpine:latest); empty
  /// for an image saved by ID. Names with only a digest are not recorded.
  std::vector<Reference> names;
  /// The image's manifest (or index) descriptor as stored.
  Descriptor manifest;
};

/// Options of write_archive.
struct WriteOptions {
  ArchiveFormat format = ArchiveFormat::docker;
  /// mtime of every entry (SOURCE_DATE_EPOCH when set, else 0).
  int64_t mtime = 0;
  /// Which manifest of an index goes into a docker-archive's manifest.json.
  Platform platform = host_platform();
  /// Write the blobs of every platform of an index (a multi-platform image built
  /// here has them all), not only `platform`'s.
  bool all_platforms = false;
};

/// Writes `images` as a tar to `fd` (a file or a pipe; not closed). Entries are sorted
/// by name, owned by 0:0 with no user names, mode 0644 (dirs 0755), mtime
/// `options.mtime`, so equal inputs give equal bytes. Each blob appears once, as
/// stored (compressed layers stay compressed). Fails when a blob is missing from
/// `source` or a manifest cannot be parsed, naming the blob; the fd may then hold a
/// partial tar. Not thread-safe with respect to `source`.
llvm::Error write_archive(int fd, llvm::ArrayRef<ArchiveImage> images, BlobSource& source,
                          const WriteOptions& options);

/// As write_archive, into a new file at `path` written atomically (temp + rename).
llvm::Error write_archive_file(llvm::StringRef path, llvm::ArrayRef<ArchiveImage> images,
                               BlobSource& source, const WriteOptions& options);

}  // namespace kiln::oci
