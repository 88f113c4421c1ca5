// Symlinks resolved as if a directory were "/": the one walk behind a build
// context's paths (cache/context_path.h) and a container rootfs's
// (runtime/rootfs_path.h), so that no path given can lead out of its root.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln {

/// The components of `path` below `root` with every symlink resolved inside
/// `root`: an absolute link target starts again at `root`, ".." stops at it. The
/// last component is resolved only with `follow_last`. Components that do not
/// exist (and all after them) are kept as written. Fails on more than 255 links
/// ("resolve 'path' in WHERE: too many symlinks", WHERE e.g. "the context") or
/// an unreadable link.
llvm::Expected<std::vector<std::string>> resolve_below_root(llvm::StringRef root,
                                                            llvm::StringRef path, bool follow_last,
                                                            llvm::StringRef where);

/// `parts` joined with '/' ("" when empty).
std::string join_path_parts(const std::vector<std::string>& parts, size_t count = SIZE_MAX);

}  // namespace kiln
