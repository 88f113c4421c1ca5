// kiln's own Engine: containers through containers/ (detached under their
// monitors), images from the store. Until user networks and volumes exist in
// kiln (issue 16), a network is a record under ROOT/compose/networks and
// containers keep their private network namespace (published ports reach
// them; services do not resolve each other); a named volume is a directory
// ROOT/compose/volumes/<name>/_data bound into the container.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compose/engine.h"

namespace kiln::compose {

/// The command line of a detached container's monitor for container `id`
/// (cli/ knows its own binary).
using MonitorArgv = std::function<llvm::Expected<std::vector<std::string>>(const std::string& id)>;

/// An Engine over the kiln root `root`.
llvm::Expected<std::unique_ptr<Engine>> make_local_engine(const std::string& root,
                                                          MonitorArgv monitor_argv);

}  // namespace kiln::compose
