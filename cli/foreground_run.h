// Running a created container in the foreground, attached to this process's
// stdio: `kiln run` without -d and `kiln compose run` without -d.
#pragma once

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::cli {

/// A container that could not be started (a StartError): its error printed,
/// docker's exit code (125, 126, 127) returned. Any other error is returned.
llvm::Expected<int> start_failure(llvm::Error err);

/// Runs container `spec` of `store` in this process until it ends: its stdin is
/// this process's when `spec.interactive` (the terminal in raw mode with a tty),
/// its output goes to this process's stdout and stderr, and SIGINT, SIGTERM,
/// SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed on to it (docker's
/// --sig-proxy). Removes it afterwards when `spec.auto_remove`. Returns its exit
/// code; when it could not be started, prints why and returns docker's code.
llvm::Expected<int> run_foreground(const containers::ContainerStore& store,
                                   const containers::ContainerSpec& spec);

}  // namespace kiln::cli
