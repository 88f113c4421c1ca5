// Unpacks an OCI layer blob into a directory in overlay form.
#pragma once

#include <optional>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"

namespace kiln::cache {

/// Unpacks the layer blob at `blob_path` (gzip, zstd or an uncompressed tar,
/// recognized by its magic bytes) into the existing empty directory `dest`, in
/// overlay form: ".wh.NAME" becomes a char device 0:0 named NAME and
/// ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its directory, so that an
/// overlay stack of such directories shows the image's file system. Keeps modes
/// (setuid, sticky), numeric uid/gid, mtimes, xattrs (trusted.overlay.* from the
/// tar are dropped), hard links and symlinks. Rejects an entry whose name or link
/// target is absolute, contains "..", or passes through a symlink of the layer,
/// naming the entry. Returns the DiffID (sha256 of the uncompressed tar); when
/// `expected_diff_id` is given and differs, fails with both digests. On failure
/// `dest` is left partly written for the caller to remove. Thread-safe: distinct
/// calls share nothing (no chdir). libarchive's disk writer sets the process
/// umask to 0 and back for every entry, so that parallel unpacks can leave it 0;
/// each call ends with restore_process_umask().
llvm::Expected<Digest> unpack_layer(llvm::StringRef blob_path, llvm::StringRef dest,
                                    std::optional<Digest> expected_diff_id = std::nullopt);

/// Sets the process umask back to the one it started with (for users of
/// libarchive's disk writer, which may leave it 0 when threads race).
void restore_process_umask();

}  // namespace kiln::cache
