// Writes an overlay-form layer directory as an OCI layer tar.
#pragma once

#include <cstdint>
#include <optional>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/compress.h"

namespace kiln::cache {

/// Options of write_layer_tar().
struct TarOptions {
  /// SOURCE_DATE_EPOCH in seconds: every mtime later than it is clamped to it.
  /// Not read from the environment here; the caller decides.
  std::optional<int64_t> source_date_epoch;
};

/// Walks `dir`, a layer in overlay form (an overlayfs upper dir or an unpacked
/// snapshot), and writes it to `sink` as an OCI layer tar (PAX, like BuildKit):
/// entries sorted by name within each directory, a directory before its contents,
/// relative names without "./" and with a trailing "/" on directories, numeric
/// uid/gid without user or group names, whole-second mtimes (clamped by
/// `options.source_date_epoch`), no atime/ctime. Overlay whiteouts (char device
/// 0:0) become empty ".wh.NAME" files, a directory with the xattr
/// trusted.overlay.opaque=y is followed by ".wh..wh..opq"; other trusted.overlay.*
/// xattrs are dropped, all other xattrs (security.capability, user.*) are kept.
/// Regular files sharing an inode become hard links to the first name written.
/// Sockets are skipped. `dir` itself is not an entry. The bytes depend only on the
/// tree. Fails with the path on any read error or a sink error.
llvm::Error write_layer_tar(llvm::StringRef dir, const TarOptions& options, const ByteSink& sink);

}  // namespace kiln::cache
