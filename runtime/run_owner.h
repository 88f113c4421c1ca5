// Internal to runtime/: what ties a container to the kiln process that started it,
// so that a kiln killed with SIGKILL leaves no container running: a guard process
// deletes the container when its owner dies, and the next executor of the same
// state dir reclaims what no living process owns.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <llvm/Support/Error.h>

#include "runtime/spawn.h"

namespace kiln::runtime {

/// A child process (`/bin/sh`, in its own process group) that waits on a socket
/// and runs `delete_argv` (the runtime's `delete --force ID`) when the socket's
/// other end, held only by this process, closes without release(): when this
/// process dies. After started(PID) it deletes only when `state_argv` (the
/// runtime's `state ID`) still shows that pid: a name may be reused by a later
/// run. Move-only; destruction releases it.
class OwnerGuard {
 public:
  /// Starts the guard. Fails when the shell cannot be started.
  static llvm::Expected<OwnerGuard> start(const std::vector<std::string>& state_argv,
                                          const std::vector<std::string>& delete_argv);
  OwnerGuard() = default;
  OwnerGuard(OwnerGuard&& other) noexcept
      : pipe_(std::move(other.pipe_)), pid_(std::exchange(other.pid_, -1)) {}
  OwnerGuard& operator=(OwnerGuard&& other) noexcept;
  ~OwnerGuard() { release(); }
  /// Tells the guard the pid of the container's first process.
  void started(int container_pid);
  /// Tells the guard to exit without running its command, and reaps it.
  void release();

 private:
  UniqueFd pipe_;  // our end of the socket pair; -1 once released
  pid_t pid_ = -1;
};

/// A run's owner holds an exclusive FileLock on its state dir (LockTarget::directory)
/// for as long as it lives. Runs `remove(id)` for each run under `state_dir`
/// (`<state_dir>/<id>/`) whose lock no process holds and which is at least `min_age_seconds` old
/// (younger ones may not be locked yet), then removes its directory; with `runtime_root` (a root
/// only this state dir's executors use), also for each container there that has no state dir.
/// Errors are ignored: what stays is tried again next time.
void reclaim_dead_runs(const std::string& state_dir, const std::string& runtime_root,
                       int64_t min_age_seconds,
                       const std::function<void(const std::string& id)>& remove);

}  // namespace kiln::runtime
