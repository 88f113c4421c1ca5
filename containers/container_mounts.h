// A container's mounts from docker's flags: -v (named and anonymous volumes,
// directory and single-file binds), --mount type=volume|bind|tmpfs, --tmpfs and
// --volumes-from, as runtime mounts plus docker inspect's `Mounts` records; and
// the seeding of a new volume from the image's content at its path.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

struct MountFlags {
  std::vector<std::string> volumes;       ///< -v
  std::vector<std::string> mounts;        ///< --mount
  std::vector<std::string> tmpfs;         ///< --tmpfs PATH[:size=N]
  std::vector<std::string> volumes_from;  ///< --volumes-from CONTAINER[:ro|rw]
};

/// Fills spec.process.mounts and spec.mount_records from `flags`, creating the
/// named (and anonymous) volumes that do not exist yet. Fails with a UsageError
/// for a malformed flag.
llvm::Error resolve_mounts(const ContainerStore& store, const MountFlags& flags,
                           ContainerSpec& spec);

/// Copies the image's content at each volume's destination into the volume when
/// the volume is empty (docker's behaviour for a new volume). `rootfs` is the
/// container's mounted root file system, before the runtime mounts anything.
void seed_volumes(const ContainerSpec& spec, llvm::StringRef rootfs);

}  // namespace kiln::containers
