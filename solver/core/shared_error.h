// Errors that several requests observe: a failed step's error is kept once and
// handed to each interested request as a copy of the same kind.
#pragma once

#include <memory>

#include <llvm/Support/Error.h>

namespace kiln::solver::core {

/// A failed step's error, shared by every request that waited on it.
using SharedError = std::shared_ptr<const llvm::ErrorInfoBase>;

/// Takes ownership of `err` (which must be a failure). Of an error list, the
/// first error is kept.
SharedError share_error(llvm::Error err);

/// A new error of the same kind (ExecError, SourceError, RegistryError,
/// AuthError, IoError, UsageError, CancelledError, KilnError) with the same
/// full message and fields; other kinds become a KilnError with the message.
llvm::Error copy_error(const SharedError& err);

/// True when `err` is a CancelledError.
bool is_cancelled(const SharedError& err);

/// A shared CancelledError.
SharedError cancelled_error();

}  // namespace kiln::solver::core
