// Paths inside a build context (or any directory taken as a root, such as a
// mounted stage for COPY --from): every symlink resolves as if the root were
// "/", as BuildKit resolves a context, so no source path can leave it.
#pragma once

#include <string>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

namespace kiln::cache {

/// Whether the last component of a path is followed when it is a symlink.
enum class FollowLast { no, yes };

/// `path` (relative to `root`; cleaned as clean_context_path does) with every
/// symlink in it resolved inside `root`: an absolute link target is relative to
/// `root`, ".." stops at `root`. The last component is resolved only with
/// `FollowLast::yes`. Components that do not exist are kept as written. Returns
/// a path relative to `root` ("" for the root itself). Fails on more than 255
/// links: "resolve 'path' in the context: too many symlinks".
llvm::Expected<std::string> resolve_context_path(llvm::StringRef root, llvm::StringRef path,
                                                 FollowLast follow);

/// `root` joined with resolve_context_path(`root`, `path`, `follow`).
llvm::Expected<std::string> context_host_path(llvm::StringRef root, llvm::StringRef path,
                                              FollowLast follow);

/// Opens `path` below `root` with `flags` (O_CLOEXEC is added), resolving every
/// symlink inside `root` in the kernel (openat2 RESOLVE_IN_ROOT), so a link
/// swapped in while a copy runs cannot lead out of `root` either. `path` may be
/// a host path under `root`. Returns the descriptor (the caller closes it) or
/// -1 with errno set.
int open_in_root(llvm::StringRef root, llvm::StringRef path, int flags);

}  // namespace kiln::cache
