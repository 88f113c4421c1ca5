// The pieces of `kiln system` that live in their own files (cmd_prune.cpp,
// cmd_system_check.cpp), and docker's conventions they share.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cli/command.h"

namespace kiln::cli {

/// A subcommand added to `kiln system`: its body when it was chosen on the
/// command line, an empty function otherwise.
using ChosenBody = std::function<CommandBody()>;
ChosenBody setup_system_prune(CLI::App& system, const GlobalOptions& globals);
ChosenBody setup_system_check(CLI::App& system, const GlobalOptions& globals);

/// Prints `warning` and docker's "Are you sure you want to continue? [y/N] "
/// on stderr and reads the answer from stdin; true for "y" or "yes".
bool confirm(const std::string& warning);

}  // namespace kiln::cli
