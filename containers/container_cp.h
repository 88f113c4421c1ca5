// `kiln cp`: copying files between a container's file system and the host, as
// `docker cp` does (a directory is copied with its contents; owners, modes and
// links kept). Paths in the container resolve inside its root (symlinks cannot
// leave it). A running container's mounted root is used; a stopped one's
// snapshot is mounted for the copy. Its volumes and binds are not included.
#pragma once

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

enum class CopyDirection { from_container, to_container };

/// Copies `container_path` of container `id` to `host_path` (from_container), or
/// `host_path` to `container_path` (to_container).
llvm::Error copy_files(const ContainerStore& store, llvm::StringRef id,
                       llvm::StringRef container_path, llvm::StringRef host_path,
                       CopyDirection direction);

/// `kiln cp SRC DEST`: one of `src` and `dest` is CONTAINER:PATH (a name or
/// (short) ID of the store at `root`; a host path has no ':' before its first
/// '/'), the other a host path; copy_files() between them. Fails with a
/// UsageError when both or neither name a container.
llvm::Error copy_paths(llvm::StringRef root, llvm::StringRef src, llvm::StringRef dest);

}  // namespace kiln::containers
