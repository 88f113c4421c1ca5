// `kiln setup binfmt`: registers qemu-user-static's emulators with binfmt_misc
// (fix-binary), so RUN steps of other platforms can run. Needs root; idempotent.

#include <iostream>

#include "cli/command.h"
#include "runtime/binfmt.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

llvm::Expected<int> run_setup_binfmt() {
  auto done = runtime::register_emulators();
  if (!done) {
    return with_context(done.takeError(), "setup binfmt");
  }
  for (const auto& r : *done) {
    std::cout << r.name << ": " << r.action << "\n";
  }
  return 0;
}

CommandBody setup_setup(CLI::App& sub, const GlobalOptions&) {
  sub.require_subcommand(1);
  auto* binfmt = sub.add_subcommand(
      "binfmt",
      "Register qemu-user-static emulators (binfmt_misc, fix-binary) for other platforms");
  return [binfmt]() -> llvm::Expected<int> {
    if (binfmt->parsed()) {
      return run_setup_binfmt();
    }
    return llvm::make_error<UsageError>("setup: name what to set up (binfmt)");
  };
}

CommandRegistration reg{{"setup", "Set up this machine for kiln (binfmt)", setup_setup, 95}};

}  // namespace
}  // namespace kiln::cli
