// Resolving a container user string (`name`, `uid`, `uid:gid`, `name:group`) through
// the rootfs's /etc/passwd and /etc/group, the way current BuildKit does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::runtime {

/// The numeric identity a container process runs as.
struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  /// Supplementary groups: always starts with `gid` (BuildKit adds the primary group),
  /// then the groups of /etc/group that list the user by name, in file order.
  std::vector<uint32_t> additional_gids;
  /// The passwd entry's home directory, "/" when the user has no entry.
  std::string home = "/";
  bool operator==(const ResolvedUser&) const = default;
};

/// Resolves `user` against the text of a passwd and a group file (either may be
/// empty). "" means root. "uid:gid" with both numeric needs no lookup. A name that
/// has no entry fails with "unable to find user NAME: no matching entries in passwd
/// file" (and likewise for a group name). Pure; thread-safe.
llvm::Expected<ResolvedUser> resolve_user(llvm::StringRef user, llvm::StringRef passwd_text,
                                          llvm::StringRef group_text);

/// As above, reading etc/passwd and etc/group inside the host directory `rootfs`
/// (symlinks resolved inside `rootfs`; missing files count as empty).
llvm::Expected<ResolvedUser> resolve_user_in_rootfs(llvm::StringRef rootfs, llvm::StringRef user);

}  // namespace kiln::runtime
