#include "cli/print_error.h"

#include "support/error.h"

namespace kiln::cli {

int print_error(llvm::Error err, std::ostream& os) {
  int code = 1;
  llvm::handleAllErrors(
      std::move(err), [&](const SourceError& e) { os << format_source_error(e); },
      [&](const ExecError& e) {
        for (const auto& line : e.last_lines()) {
          os << line << "\n";
        }
        os << "error: " << e.message() << "\n";
      },
      [&](const AuthError& e) {
        os << "error: " << e.message() << "\n";
        code = kExitAuth;
      },
      [&](const CancelledError& e) {
        os << "error: " << e.message() << "\n";
        code = 130;
      },
      [&](const llvm::ErrorInfoBase& e) { os << "error: " << e.message() << "\n"; });
  return code;
}

}  // namespace kiln::cli
