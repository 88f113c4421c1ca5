#include "solver/core/shared_error.h"

#include "support/error.h"

namespace kiln::solver::core {

SharedError share_error(llvm::Error err) {
  SharedError out;
  llvm::handleAllErrors(std::move(err), [&](std::unique_ptr<llvm::ErrorInfoBase> e) {
    if (!out) {
      out = std::move(e);
    }
  });
  return out;
}

llvm::Error copy_error(const SharedError& err) {
  const llvm::ErrorInfoBase& e = *err;
  std::string msg = e.message();
  if (e.isA<CancelledError>()) {
    return llvm::make_error<CancelledError>();
  }
  if (e.isA<ExecError>()) {
    const auto& x = static_cast<const ExecError&>(e);
    return llvm::make_error<ExecError>(msg, x.vertex(), x.exit_code(), x.last_lines());
  }
  if (e.isA<SourceError>()) {
    const auto& x = static_cast<const SourceError&>(e);
    return llvm::make_error<SourceError>(msg, x.file(), x.ranges(), x.source());
  }
  if (e.isA<AuthError>()) {
    const auto& x = static_cast<const AuthError&>(e);
    return llvm::make_error<AuthError>(msg, x.registry(), x.op(), x.http_status());
  }
  if (e.isA<RegistryError>()) {
    const auto& x = static_cast<const RegistryError&>(e);
    return llvm::make_error<RegistryError>(msg, x.registry(), x.op(), x.http_status());
  }
  if (e.isA<IoError>()) {
    const auto& x = static_cast<const IoError&>(e);
    return llvm::make_error<IoError>(msg, x.path(), x.errno_value());
  }
  if (e.isA<UsageError>()) {
    return llvm::make_error<UsageError>(msg);
  }
  return llvm::make_error<KilnError>(msg);
}

bool is_cancelled(const SharedError& err) { return err && err->isA<CancelledError>(); }

SharedError cancelled_error() { return share_error(llvm::make_error<CancelledError>()); }

}  // namespace kiln::solver::core
