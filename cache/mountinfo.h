// Internal to cache/: the mount table of this process's mount namespace, and the
// clean-up of mutable snapshots whose process died.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <llvm/Support/Error.h>

namespace kiln::cache {

/// One line of /proc/self/mountinfo, octal escapes undone.
struct MountEntry {
  std::string root;     ///< the mounted directory of the source file system
  std::string point;    ///< the mount point
  std::string fstype;   ///< e.g. "overlay"
  std::string options;  ///< super options, e.g. "rw,lowerdir=...,upperdir=...,workdir=..."
};

/// The mounts in mount order (a mount on top of another comes later); empty when
/// the table cannot be read.
std::vector<MountEntry> read_mountinfo();

/// SnapshotStore::remove_stale() of the store at the real path `root`.
llvm::Expected<unsigned> remove_stale_snapshots(const std::string& root, int64_t min_age_seconds);

}  // namespace kiln::cache
