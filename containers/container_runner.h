// Running a stored container: the loop that a detached container's monitor (and
// a foreground `kiln run`) executes while holding the container's monitor.lock.
#pragma once

#include <functional>
#include <string>

#include <llvm/Support/Error.h>

#include "containers/container_store.h"
#include "runtime/executor.h"

namespace kiln::containers {

struct SessionOptions {
  /// The caller's stdio (fds 0-2) instead of the log file; no restarts.
  bool foreground = false;
  /// Foreground only: hand fd 0 to the process.
  bool attach_stdin = false;
  /// Called once: with "" when the process runs, or with the reason and docker's
  /// exit code (StartError::exit_code) when it could not be started.
  std::function<void(const std::string& error, int code)> on_ready;
  /// Stops the session: the process is killed (no restart follows).
  const runtime::CancelToken* cancel = nullptr;
};

/// Runs container `id` until it ends for good: mounts its snapshot, publishes its
/// ports, runs its process (again, as its restart policy says, unless a stop was
/// requested), runs its health check, writes its output to its log file, and
/// records each change in state.json. The snapshot is unmounted and kept at the
/// end. The caller holds the container's monitor.lock. Returns the last exit
/// status; fails with a StartError when the container could not be started
/// (recorded in its state too), or with a CancelledError when `cancel` fired.
llvm::Expected<runtime::ExitStatus> run_container_session(const ContainerStore& store,
                                                          const std::string& id,
                                                          const SessionOptions& options);

}  // namespace kiln::containers
