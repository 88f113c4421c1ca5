// Printing errors for people: the one place where errors become text on stderr.
#pragma once

#include <ostream>

#include <llvm/Support/Error.h>

namespace kiln::cli {

/// Exit code for an authentication failure, so CI can tell it from other errors.
constexpr int kExitAuth = 3;

/// Prints `err` (consumed) to `os` in DESIGN.md's format (a source excerpt for
/// SourceError, the last output lines for ExecError) and returns the exit code.
int print_error(llvm::Error err, std::ostream& os);

}  // namespace kiln::cli
