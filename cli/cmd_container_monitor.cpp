// The hidden `kiln container-monitor ID` command: the process that runs a
// detached container (containers/container_monitor.h), and the command line that
// starts it.
#include <unistd.h>

#include <cerrno>
#include <iostream>

#include "cli/command.h"
#include "cli/monitor_command.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

llvm::Expected<std::string> self_executable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) {
    return make_io_error("find", "/proc/self/exe", errno);
  }
  return std::string(buf, static_cast<size_t>(n));
}

CommandBody setup_monitor(CLI::App& sub, const GlobalOptions& globals) {
  auto id = std::make_shared<std::string>();
  sub.add_option("id", *id, "CONTAINER")->required();
  sub.group("");  // internal: not listed in --help
  return [id, &globals]() -> llvm::Expected<int> {
    return containers::run_monitor(globals.root, *id, [](const std::string& message) {
      std::cerr << "error: " << message << "\n";
    });
  };
}

CommandRegistration reg{
    {"container-monitor", "Run a detached container (internal)", setup_monitor, 1000}};

}  // namespace

llvm::Expected<std::vector<std::string>> monitor_command(const containers::ContainerStore& store,
                                                         const std::string& id) {
  auto self = self_executable();
  if (!self) {
    return self.takeError();
  }
  return std::vector<std::string>{*self, "--root", store.root(), "container-monitor", id};
}

}  // namespace kiln::cli
