// Internal to solver/ops: running the `git` binary for git sources, cancellable.
#pragma once

#include <string>
#include <vector>

#include <llvm/Support/Error.h>

#include "support/cancel.h"

namespace kiln::solver::ops::detail {

/// Runs `git ARGS…` (found on PATH, or `KILN_GIT`) with stdin from /dev/null, in a
/// process group of its own, without a terminal prompt (GIT_TERMINAL_PROMPT=0), with
/// only the http, https, git, ssh and file transports allowed (GIT_ALLOW_PROTOCOL)
/// and LC_ALL=C. Returns its standard output. Fails with git's last lines of standard
/// error when it exits non-zero, and with CancelledError (the group killed) once
/// `cancel` (may be null) fires. Thread-safe.
llvm::Expected<std::string> run_git(const std::vector<std::string>& args,
                                    const CancelToken* cancel);

}  // namespace kiln::solver::ops::detail
