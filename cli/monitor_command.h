// Starting a detached container's monitor: kiln itself, as the hidden
// `kiln container-monitor ID` command (cli/cmd_container_monitor.cpp).
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "containers/container_monitor.h"

namespace kiln::cli {

/// This kiln binary's monitor command line for container `id` of `store`, for
/// containers::start_monitor() and containers::start_container().
llvm::Expected<std::vector<std::string>> monitor_command(const containers::ContainerStore& store,
                                                         const std::string& id);

}  // namespace kiln::cli
