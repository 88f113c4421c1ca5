// Internal to solver/ops: what one step sets up around its work (temp dirs,
// mounted snapshots, cache-mount locks, secret files), undone by the destructor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include "cache/snapshot.h"
#include "llb/ops.h"
#include "solver/ops/results.h"
#include "solver/ops/solve_context.h"
#include "solver/ops/ssh_relay.h"
#include "support/file_lock.h"

namespace kiln::solver::ops::detail {

/// Whether a cache mount starts empty (see ScopedMounts::cache_dir()).
enum class Fresh { no, yes };

/// Set-up of one step. The destructor unmounts the staged sources, drops the
/// mounted snapshots, releases the locks and removes the temp dirs, in that order.
/// Not thread-safe.
class ScopedMounts {
 public:
  explicit ScopedMounts(const SolveContext& ctx) : ctx_(ctx) {}
  ~ScopedMounts();
  ScopedMounts(const ScopedMounts&) = delete;
  ScopedMounts& operator=(const ScopedMounts&) = delete;

  /// A new directory under ROOT/tmp, removed afterwards.
  llvm::Expected<std::string> temp_dir(llvm::StringRef prefix);
  /// A mutable snapshot over `base` mounted at a new temp dir (`rootfs`), for a
  /// step whose changes become a layer: the caller owns (commits) the snapshot.
  llvm::Expected<cache::MutableSnapshot> mount_step_rootfs(const SnapshotResult& base,
                                                           std::string& rootfs);
  /// Mounts the file system `fs` (writable; changes are dropped) and returns where.
  llvm::Expected<std::string> mount_snapshot(const SnapshotResult& fs);
  /// The host directory of cache mount `m` (ROOT/cache-mounts/<sha256(id)>),
  /// created on first use with its owner and mode. `locked` sharing waits for
  /// other builds; `private` takes a fresh directory while another build holds it.
  /// With `fresh` (a step run with --no-cache) the stored contents are dropped first.
  llvm::Expected<std::string> cache_dir(const llb::Mount& m, Fresh fresh = Fresh::no);
  /// Opens `path` below `root` as an O_PATH descriptor, every symlink resolved
  /// inside `root` by the kernel (the last one followed), and bind-mounts it on
  /// a new temp dir (or a file in one), unmounted at the end: the runtime gets
  /// that path, which a context changed meanwhile cannot redirect.
  llvm::Expected<std::string> stage_in_root(llvm::StringRef root, llvm::StringRef path);
  /// Writes the secret of `m` to a private file and returns its path; empty when
  /// the secret was not given and is not required.
  llvm::Expected<std::string> secret_file(const llb::Mount& m);

  /// A socket relaying to the ssh agent of `m`'s id (its owner and mode as `m`
  /// says), in a new temp dir, for the step's duration; empty when that agent
  /// was not given and the mount is optional. Fails as BuildKit does when a
  /// required one is missing.
  llvm::Expected<std::string> ssh_socket(const llb::Mount& m);

 private:
  const SolveContext& ctx_;
  std::vector<std::unique_ptr<SshRelay>> relays_;  ///< stopped first
  std::vector<cache::MutableSnapshot> snapshots_;
  std::vector<FileLock> locks_;      ///< on the cache mounts that are not shared
  std::vector<std::string> staged_;  ///< bind mounts of stage_in_root, undone first
  std::vector<std::string> temp_dirs_;
};

}  // namespace kiln::solver::ops::detail
