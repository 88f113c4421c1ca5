// Paths inside a container rootfs seen from the host: resolving symlinks without
// escaping the rootfs, creating directories owned by the container user, and
// removing the empty mount points that the runtime had to create.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::runtime {

/// The host path of the container path `path` inside `rootfs`, with every symlink
/// resolved as if `rootfs` were "/" (so "../.." and absolute links stay inside).
/// The last components may not exist. Fails only on a symlink loop (more than 255
/// links) or an unreadable link.
llvm::Expected<std::string> resolve_in_rootfs(llvm::StringRef rootfs, llvm::StringRef path);

/// Creates the container directory `path` and its missing parents inside `rootfs`,
/// with permission bits `mode` (0755 unless given), owned by `uid`:`gid` (only the
/// directories it creates).
llvm::Error make_dirs_in_rootfs(llvm::StringRef rootfs, llvm::StringRef path, uint32_t uid,
                                uint32_t gid, uint32_t mode = 0755);

/// The host paths of the first missing component of each container path in
/// `destinations` (the stubs a runtime creates for its mount points), deduplicated.
std::vector<std::string> missing_mount_stubs(llvm::StringRef rootfs,
                                             const std::vector<std::string>& destinations);

/// Removes each of `stubs` (from missing_mount_stubs) if it is now an empty file or a
/// directory tree holding only empty directories and empty files; anything a process
/// wrote is kept. Best effort: never fails.
void remove_mount_stubs(const std::vector<std::string>& stubs);

}  // namespace kiln::runtime
