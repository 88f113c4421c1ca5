// Unpacks an OCI layer blob into a directory in overlay form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "support/digest.h"

namespace kiln::cache {

/// How far a layer blob may inflate, so that a small hostile blob (gzip of
/// zeros inflates about 1000x) cannot fill the disk or keep kiln busy for long.
struct InflateLimits {
  /// Past kInflateFloor bytes, a blob may inflate to at most `max_ratio` times
  /// its compressed size; 0 means no ratio limit.
  uint64_t max_ratio = 200;
  /// At most this many bytes in all; 0 means no limit.
  uint64_t max_bytes = 0;
  /// Below this many inflated bytes the ratio is not checked.
  static constexpr uint64_t kInflateFloor = uint64_t{64} << 20;
  /// The defaults, overridden by the environment variables KILN_LAYER_MAX_RATIO
  /// and KILN_LAYER_MAX_SIZE (bytes; 0 turns a limit off).
  static InflateLimits from_env();
  /// The most bytes a blob of `compressed` bytes may inflate to.
  uint64_t budget(uint64_t compressed) const;
  /// The error for a blob of `compressed` bytes that inflated past budget():
  /// "layer inflates to more than N bytes (limits: KILN_LAYER_MAX_RATIO=R times
  /// the compressed size of C bytes, KILN_LAYER_MAX_SIZE=M)".
  std::string exceeded(uint64_t compressed) const;
};

/// The DiffID (sha256 of the uncompressed tar) of the layer blob at
/// `blob_path` (gzip, zstd or plain), reading it once; fails when it is not a
/// valid stream or inflates past `limits`.
llvm::Expected<Digest> layer_diff_id(llvm::StringRef blob_path,
                                     const InflateLimits& limits = InflateLimits::from_env());

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
/// each call ends with restore_process_umask(). Stops with an error when the blob
/// inflates past `limits`.
llvm::Expected<Digest> unpack_layer(llvm::StringRef blob_path, llvm::StringRef dest,
                                    std::optional<Digest> expected_diff_id = std::nullopt,
                                    const InflateLimits& limits = InflateLimits::from_env());

/// Sets the process umask back to the one it started with (for users of
/// libarchive's disk writer, which may leave it 0 when threads race).
void restore_process_umask();

}  // namespace kiln::cache
