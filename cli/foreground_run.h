// Running a created container in the foreground, attached to this process's
// stdio (containers/foreground_run.h): `kiln run` and `kiln compose run` without -d.
#pragma once

#include <llvm/Support/Error.h>

#include "containers/container_store.h"

namespace kiln::cli {

/// A container that could not be started (a StartError): its error printed,
/// docker's exit code (125, 126, 127) returned. Any other error is returned.
llvm::Expected<int> start_failure(llvm::Error err);

/// containers::run_in_foreground(): the container's exit code; when it could not
/// be started, prints why and returns docker's code.
llvm::Expected<int> run_foreground(const containers::ContainerStore& store,
                                   const containers::ContainerSpec& spec);

}  // namespace kiln::cli
