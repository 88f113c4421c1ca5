// The clean-up of temp dirs left by processes that died.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cache/mountinfo.h"
#include "cache/snapshot.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cache {
namespace {

/// Mount points of overlays whose upper dir is in `dir`, or bind mounts of `dir`/rootfs.
std::vector<std::string> mounts_from(const std::string& dir) {
  std::vector<std::string> out;
  for (const MountEntry& m : read_mountinfo()) {
    bool overlay = m.fstype == "overlay" &&
                   (m.options.find("upperdir=" + dir + "/upper,") != std::string::npos ||
                    llvm::StringRef(m.options).endswith("upperdir=" + dir + "/upper"));
    if (overlay || m.root == dir + "/rootfs") {
      out.push_back(m.point);
    }
  }
  return out;
}

/// Removes `dir` when no one holds its lock and it is old enough. Returns true
/// when it was removed.
llvm::Expected<bool> remove_if_stale(const std::string& dir, int64_t min_age_seconds) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      std::time(nullptr) - st.st_ctime < min_age_seconds) {
    return false;
  }
  auto lock = FileLock::try_acquire(dir, LockMode::exclusive, LockTarget::directory);
  if (!lock || !*lock) {
    llvm::consumeError(lock.takeError());
    return false;
  }
  // Newest mounts first: a mount made on top of another comes later in mountinfo.
  std::vector<std::string> mounts = mounts_from(dir);
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    if (::umount2(it->c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
      return make_io_error("unmount stale snapshot at", *it, errno);
    }
  }
  if (auto err = fs::remove_all(dir)) {
    return err;
  }
  return true;
}

}  // namespace

llvm::Expected<unsigned> SnapshotStore::remove_stale(int64_t min_age_seconds) const {
  return remove_stale_snapshots(root_, min_age_seconds);
}

llvm::Expected<unsigned> remove_stale_snapshots(const std::string& root, int64_t min_age_seconds) {
  std::vector<std::string> candidates;
  std::string parent = root + "/snapshots";
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(parent.c_str()), ::closedir);
  if (!d) {
    return make_io_error("open directory", parent, errno);
  }
  while (struct dirent* ent = ::readdir(d.get())) {
    if (llvm::StringRef(ent->d_name).startswith("tmp-")) {
      candidates.push_back(parent + "/" + ent->d_name);
    }
  }
  unsigned removed = 0;
  for (const std::string& dir : candidates) {
    auto gone = remove_if_stale(dir, min_age_seconds);
    if (!gone) {
      return with_context(gone.takeError(), "remove stale snapshots");
    }
    removed += *gone ? 1 : 0;
  }
  return removed;
}

}  // namespace kiln::cache
