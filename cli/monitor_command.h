// Starting a detached container's monitor: kiln itself, as the hidden
// `kiln container-monitor ID` command (cli/cmd_container_monitor.cpp).
#pragma once

#include <string>

#include <llvm/Support/Error.h>

#include "containers/container_monitor.h"

namespace kiln::cli {

/// containers::start_monitor() with this kiln binary's monitor command line.
llvm::Error start_monitor(const containers::ContainerStore& store, const std::string& id);

}  // namespace kiln::cli
