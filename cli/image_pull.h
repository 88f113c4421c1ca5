// `kiln run` and `kiln create` pull a missing image first, as docker does.
#pragma once

#include <string>

#include <llvm/Support/Error.h>

#include "cli/command.h"

namespace kiln::cli {

/// Pulls `reference` unless the store has it, printing docker's "Unable to find
/// image 'REF' locally" and the pull's lines to stderr.
llvm::Error pull_if_missing(const GlobalOptions& globals, const std::string& reference);

}  // namespace kiln::cli
