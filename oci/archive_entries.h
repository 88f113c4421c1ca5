// Internal to oci/: the table of entries an archive reader collected, and the
// resolution of images from it (shared by the tar reader and the layout-dir reader).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "oci/archive_blobs.h"
#include "oci/archive_reader.h"
#include "support/digest.h"

namespace kiln::oci::detail {

/// One archive entry, by normalized path ("blobs/sha256/ab…", "manifest.json").
struct ArchiveEntry {
  enum class Kind { file, dir, link };
  Kind kind = Kind::file;
  std::string link_target;  // normalized archive path, for links
  Digest digest;            // of the content, for files
  int64_t size = 0;
  std::string head;                    // the first bytes (magic), for files
  std::optional<std::string> bytes;    // the content when small JSON
  std::unique_ptr<BlobWriter> writer;  // the uncommitted blob; null for metadata files
};

/// All entries of one archive.
struct EntryTable {
  std::map<std::string, ArchiveEntry> entries;
  /// A file entry with that content, among the entries that have a writer.
  std::unordered_map<Digest, std::string> by_digest;

  /// The file at `name`, following links (at most 8); errors name the entry.
  llvm::Expected<ArchiveEntry*> file(const std::string& name);
  /// The file with content `digest`, or null.
  ArchiveEntry* blob(const Digest& digest);
};

/// Resolves the images of `table` (index.json preferred, else manifest.json), checks
/// every referenced blob, then commits the referenced blobs (and synthesized
/// manifests) to `sink`. Nothing is committed when an error is returned before the
/// commits start.
llvm::Expected<std::vector<LoadedImage>> resolve_images(EntryTable& table, BlobSink& sink,
                                                        const ReadOptions& options);

}  // namespace kiln::oci::detail
