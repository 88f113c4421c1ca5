// Internal to solver/ops: COPY/ADD semantics on host directories (the source
// file system and the mounted destination rootfs), and the other file actions.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <llvm/Support/Error.h>

#include "cache/context_hash.h"
#include "cache/stat_cache.h"
#include "llb/ops.h"

struct archive;  // libarchive's reader

namespace kiln::solver::ops::detail {

/// Where a copy reads from: a host directory, with the context's .dockerignore
/// filter (empty for a snapshot) and whether its owners are kept (a snapshot) or
/// reset to root (a local directory, as BuildKit does).
struct CopySource {
  std::string root;
  cache::PathFilter filter;
  bool keep_owner = false;
};

/// Files of an earlier link layer of the same copy that a new one may share
/// (hard links) instead of copying again: those whose source has the same
/// content digest (from the stat cache, as the cache key saw it) and whose
/// owner, mode, size and mtime are what the copy would give. Local sources only.
struct CopyReuse {
  const cache::StatCache* stat_cache = nullptr;
  /// The earlier layer's root ("" when there is none) and its regular files:
  /// path in the layer -> content digest of the source it was copied from.
  std::string prev_root;
  std::unordered_map<std::string, Digest> prev;
  /// Filled by the copy: the same, for the new layer.
  std::vector<std::pair<std::string, Digest>> made;
  size_t linked = 0;
};

/// Applies `action` onto the rootfs mounted at `rootfs`. Destination paths are
/// container paths: symlinks resolve inside `rootfs`. Names in `--chown` resolve
/// through the rootfs's /etc/passwd and /etc/group.
llvm::Error apply_copy(const CopySource& source, const std::string& rootfs,
                       const llb::CopyAction& action, CopyReuse* reuse = nullptr);
llvm::Error apply_mkdir(const std::string& rootfs, const llb::MkdirAction& action);
llvm::Error apply_mkfile(const std::string& rootfs, const llb::MkfileAction& action);
llvm::Error apply_rm(const std::string& rootfs, const llb::RmAction& action);
llvm::Error apply_symlink(const std::string& rootfs, const llb::SymlinkAction& action);

/// The uid and gid `chown` names (a --chown value), names resolved through the
/// rootfs's /etc/passwd and /etc/group; nullopt when `chown` is empty.
llvm::Expected<std::optional<std::pair<uint32_t, uint32_t>>> resolve_owner(
    const std::string& rootfs, const llb::Chown& chown);

/// Applies a `--chmod` value (octal "0755", or symbolic "u+x,g-w") to `mode`
/// (permission and special bits of a file of type `is_dir`).
llvm::Expected<uint32_t> apply_chmod(llvm::StringRef spec, uint32_t mode, bool is_dir);

/// Whether `path` is a tar archive (plain or gzip/bzip2/xz compressed) that ADD
/// unpacks; false for any other file or an unreadable one.
bool is_tar_archive(const std::string& path);

/// A libarchive reader of the tar (plain or gzip/bzip2/xz compressed) at `path`,
/// opened; null when it cannot be opened. The caller frees it (archive_read_free).
struct archive* open_tar_reader(const std::string& path);

/// Unpacks the local archive `archive` (tar, plain or gzip/bzip2/xz compressed)
/// into the host directory `dest` (ADD). Returns false when the file is not an
/// archive (then it is copied as a file).
llvm::Expected<bool> unpack_archive(const std::string& archive, const std::string& dest,
                                    std::optional<std::pair<uint32_t, uint32_t>> owner);

}  // namespace kiln::solver::ops::detail
