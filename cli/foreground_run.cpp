#include "cli/foreground_run.h"

#include <iostream>

#include "cli/print_error.h"
#include "containers/foreground_run.h"
#include "support/error.h"

namespace kiln::cli {

llvm::Expected<int> start_failure(llvm::Error err) {
  int code = 0;
  llvm::Error rest = llvm::handleErrors(std::move(err), [&](const StartError& e) {
    print_error(make_error(e.message()), std::cerr);
    code = e.exit_code();
  });
  if (rest) {
    return std::move(rest);
  }
  return code;
}

llvm::Expected<int> run_foreground(const containers::ContainerStore& store,
                                   const containers::ContainerSpec& spec) {
  auto code = containers::run_in_foreground(store, spec);
  if (!code) {
    return start_failure(code.takeError());
  }
  return *code;
}

}  // namespace kiln::cli
