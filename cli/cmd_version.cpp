// `kiln version`: client version and the libraries and runtime it was built with.

#include <iostream>

#include "cli/command.h"

namespace kiln::cli {
namespace {

CommandBody setup_version(CLI::App& sub, const GlobalOptions&) {
  return []() -> llvm::Expected<int> {
    std::cout << "Client: kiln\n"
              << " Version:           " << KILN_VERSION << "\n"
              << " API version:       1.41\n"
              << " OS/Arch:           linux/amd64\n";
    return 0;
  };
}

CommandRegistration reg{{"version", "Show the kiln version information", setup_version, 90}};

}  // namespace
}  // namespace kiln::cli
