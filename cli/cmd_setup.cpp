// `kiln setup binfmt`: registers qemu-user-static's emulators with binfmt_misc
// (fix-binary), so RUN steps of other platforms can run. Needs root; idempotent.

#include <iostream>

#include "cli/command.h"
#include "runtime/binfmt.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

llvm::Expected<int> run_binfmt(NoFlags&, const GlobalOptions&) {
  auto done = runtime::register_emulators();
  if (!done) {
    return with_context(done.takeError(), "setup binfmt");
  }
  for (const auto& r : *done) {
    std::cout << r.name << ": " << r.action << "\n";
  }
  return 0;
}

CommandGroup setup_reg{"setup", "Set up this machine for kiln (binfmt)", 95};
Command<NoFlags> binfmt_reg{
    "setup binfmt",
    "Register qemu-user-static emulators (binfmt_misc, fix-binary) for other platforms",
    [](CLI::App&, NoFlags&) {}, run_binfmt};

}  // namespace
}  // namespace kiln::cli
