// Running a created container in the foreground, attached to this process's
// stdio: `kiln run` and `kiln compose run` without -d.
#pragma once

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::containers {

/// Runs container `spec` of `store` in this process until it ends, under its
/// monitor.lock: its stdin is this process's when `spec.interactive` (the
/// terminal in raw mode with a tty), its output goes to this process's stdout and
/// stderr, and SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed
/// on to it (docker's --sig-proxy). Removes it afterwards when `spec.auto_remove`.
/// Returns its exit code; fails with a StartError (docker's exit code in it) when
/// it could not be started.
llvm::Expected<int> run_in_foreground(const ContainerStore& store, const ContainerSpec& spec);

}  // namespace kiln::containers
