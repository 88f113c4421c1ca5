// `kiln version`: client version and the libraries and runtime it was built with.

#include <iostream>

#include "cli/command.h"

namespace kiln::cli {
namespace {

Command<NoFlags> reg{"version", "Show the kiln version information", 90, [](CLI::App&, NoFlags&) {},
                     [](NoFlags&, const GlobalOptions&) -> llvm::Expected<int> {
                       std::cout << "Client: kiln\n"
                                 << " Version:           " << KILN_VERSION << "\n"
                                 << " API version:       1.41\n"
                                 << " OS/Arch:           linux/amd64\n";
                       return 0;
                     }};

}  // namespace
}  // namespace kiln::cli
