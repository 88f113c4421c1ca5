// Phase timings for finding where a command spends its time: with KILN_TRACE
// set in the environment, trace() prints "kiln-trace +12.345ms what" to stderr,
// the time since the process started. Without it, trace() costs one branch.
#pragma once

#include <llvm/ADT/Twine.h>

namespace kiln {

/// True when KILN_TRACE is set (read once).
bool trace_enabled();
/// Prints the time since start and `what` when tracing is enabled.
void trace(const llvm::Twine& what);

}  // namespace kiln
