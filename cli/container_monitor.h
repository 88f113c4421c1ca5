// A detached container's monitor: a kiln process of its own (the hidden
// `kiln container-monitor ID` command), started in a new session by a double
// fork, that holds the container's monitor.lock and runs it (see
// container_runner.h) for as long as it runs.
#pragma once

#include <string>

#include <llvm/Support/Error.h>

#include "cli/container_store.h"

namespace kiln::cli {

/// How starting a detached container went.
struct MonitorStart {
  /// Empty when the container runs; else why it could not be started.
  std::string error;
  /// docker's exit code for `error` (125, 126, 127).
  int code = 0;
};

/// Starts a monitor for container `id` (which nothing runs: the caller holds its
/// op.lock and checked) and waits until the container's process runs or could
/// not be started. Fails only when the monitor itself could not be started.
llvm::Expected<MonitorStart> start_monitor(const ContainerStore& store, const std::string& id);

}  // namespace kiln::cli
