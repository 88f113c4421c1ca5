// The container lifecycle commands: `kiln stop`, `kill`, `start`, `restart`, `rm`
// (containers/container_stop.h, container_monitor.h). Each takes container names
// or (short) IDs and prints each one it handled, as docker does; an error for one
// container does not stop the others. And the hidden `kiln container-monitor ID`:
// the process that runs a detached container.
#include <iostream>

#include "cli/command.h"
#include "cli/each_name.h"
#include "containers/container_monitor.h"
#include "containers/container_stop.h"
#include "runtime/container_control.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

using containers::ContainerStore;

struct Flags {
  std::vector<std::string> names;
  int timeout = -1;
  std::string signal = "KILL";
  bool attach = false;
  bool force = false;
  bool volumes = false;
};

CommandBody setup_stop(CLI::App& sub, const GlobalOptions& globals, bool restart) {
  auto f = std::make_shared<Flags>();
  sub.add_option("-t,--time", f->timeout, "Seconds to wait before killing the container");
  sub.add_option("containers", f->names, "CONTAINER...")->required();
  return [f, &globals, restart]() {
    return for_each_container(
        globals, f->names, EchoName::yes, [&](const ContainerStore& store, const std::string& id) {
          return restart ? containers::restart_container(store, id, f->timeout)
                         : containers::stop_container(store, id, f->timeout);
        });
  };
}

CommandBody setup_kill(CLI::App& sub, const GlobalOptions& globals) {
  auto f = std::make_shared<Flags>();
  sub.add_option("-s,--signal", f->signal, "Signal to send to the container");
  sub.add_option("containers", f->names, "CONTAINER...")->required();
  return [f, &globals]() -> llvm::Expected<int> {
    auto number = runtime::parse_signal(f->signal);
    if (!number) {
      return number.takeError();
    }
    return for_each_container(globals, f->names, EchoName::yes,
                              [&](const ContainerStore& store, const std::string& id) {
                                return containers::kill_container(store, id, *number);
                              });
  };
}

CommandBody setup_start(CLI::App& sub, const GlobalOptions& globals) {
  auto f = std::make_shared<Flags>();
  sub.add_flag("-a,--attach", f->attach, "Attach STDOUT/STDERR and forward signals");
  sub.add_option("containers", f->names, "CONTAINER...")->required();
  return [f, &globals]() -> llvm::Expected<int> {
    if (f->attach && f->names.size() != 1) {
      return llvm::make_error<UsageError>(
          "you cannot start and attach multiple containers at once");
    }
    if (f->attach) {
      auto store = ContainerStore::open(globals.root);
      auto id =
          store ? store->resolve(f->names.front()) : llvm::Expected<std::string>(store.takeError());
      if (!id) {
        return id.takeError();
      }
      return containers::start_stopped(*store, *id, containers::Attach::yes);
    }
    return for_each_container(
        globals, f->names, EchoName::yes,
        [](const ContainerStore& store, const std::string& id) -> llvm::Error {
          auto started = containers::start_stopped(store, id, containers::Attach::no);
          return started ? llvm::Error::success() : started.takeError();
        });
  };
}

CommandBody setup_rm(CLI::App& sub, const GlobalOptions& globals) {
  auto f = std::make_shared<Flags>();
  sub.add_flag("-f,--force", f->force, "Force the removal of a running container (uses SIGKILL)");
  sub.add_flag("-v,--volumes", f->volumes,
               "Remove anonymous volumes associated with the container");
  sub.add_option("containers", f->names, "CONTAINER...")->required();
  return [f, &globals]() {
    return for_each_container(
        globals, f->names, EchoName::yes, [&](const ContainerStore& store, const std::string& id) {
          return containers::remove_container(store, id, f->force, f->volumes);
        });
  };
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

CommandRegistration stop_reg{
    {"stop", "Stop one or more running containers",
     [](CLI::App& sub, const GlobalOptions& g) { return setup_stop(sub, g, false); }, 22}};
CommandRegistration kill_reg{{"kill", "Kill one or more running containers", setup_kill, 22}};
CommandRegistration start_reg{{"start", "Start one or more stopped containers", setup_start, 22}};
CommandRegistration restart_reg{
    {"restart", "Restart one or more containers",
     [](CLI::App& sub, const GlobalOptions& g) { return setup_stop(sub, g, true); }, 22}};
CommandRegistration rm_reg{{"rm", "Remove one or more containers", setup_rm, 22}};

CommandRegistration monitor_reg{
    {containers::kMonitorCommand, "Run a detached container (internal)", setup_monitor, 1000}};

}  // namespace
}  // namespace kiln::cli
