// The flags `kiln run` and `kiln create` share (docker's container options), and
// the IMAGE [COMMAND] [ARG...] that follows them.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>
#include <CLI/CLI.hpp>

#include "containers/container_create.h"

namespace kiln::cli {

/// Adds the container options to `sub`, parsed into `c` (which must outlive `sub`'s
/// parsing); everything from IMAGE on is left for image_and_command().
void add_create_flags(CLI::App& sub, containers::CreateFlags& c);

/// IMAGE [COMMAND] [ARG...] after the flags of `sub` (`verb` names it in errors).
llvm::Expected<std::vector<std::string>> image_and_command(CLI::App& sub, llvm::StringRef verb);

}  // namespace kiln::cli
