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

void names_arg(CLI::App& sub, Flags& f) {
  sub.add_option("containers", f.names, "CONTAINER...")->required();
}

// stop and restart.
Command<Flags> stopping(const char* name, const char* description, bool restart) {
  return {name, description, 22,
          [](CLI::App& sub, Flags& f) {
            sub.add_option("-t,--time", f.timeout, "Seconds to wait before killing the container");
            names_arg(sub, f);
          },
          [restart](Flags& f, const GlobalOptions& globals) {
            return for_each_container(
                globals, f.names, EchoName::yes,
                [&](const ContainerStore& store, const std::string& id) {
                  return restart ? containers::restart_container(store, id, f.timeout)
                                 : containers::stop_container(store, id, f.timeout);
                });
          }};
}
Command<Flags> stop_reg = stopping("stop", "Stop one or more running containers", false);
Command<Flags> restart_reg = stopping("restart", "Restart one or more containers", true);

Command<Flags> kill_reg{
    "kill", "Kill one or more running containers", 22,
    [](CLI::App& sub, Flags& f) {
      sub.add_option("-s,--signal", f.signal, "Signal to send to the container");
      names_arg(sub, f);
    },
    [](Flags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(int number, runtime::parse_signal(f.signal));
      return for_each_container(globals, f.names, EchoName::yes,
                                [&](const ContainerStore& store, const std::string& id) {
                                  return containers::kill_container(store, id, number);
                                });
    }};

llvm::Expected<int> run_start(Flags& f, const GlobalOptions& globals) {
  if (f.attach && f.names.size() != 1) {
    return llvm::make_error<UsageError>("you cannot start and attach multiple containers at once");
  }
  if (f.attach) {
    KILN_TRY(auto store, ContainerStore::open(globals.root));
    KILN_TRY(std::string id, store.resolve(f.names.front()));
    return containers::start_stopped(store, id, containers::Attach::yes);
  }
  return for_each_container(
      globals, f.names, EchoName::yes, [](const ContainerStore& store, const std::string& id) {
        return containers::start_stopped(store, id, containers::Attach::no).takeError();
      });
}

Command<Flags> start_reg{"start", "Start one or more stopped containers", 22,
                         [](CLI::App& sub, Flags& f) {
                           sub.add_flag("-a,--attach", f.attach,
                                        "Attach STDOUT/STDERR and forward signals");
                           names_arg(sub, f);
                         },
                         run_start};

Command<Flags> rm_reg{"rm", "Remove one or more containers", 22,
                      [](CLI::App& sub, Flags& f) {
                        sub.add_flag("-f,--force", f.force,
                                     "Force the removal of a running container (uses SIGKILL)");
                        sub.add_flag("-v,--volumes", f.volumes,
                                     "Remove anonymous volumes associated with the container");
                        names_arg(sub, f);
                      },
                      [](Flags& f, const GlobalOptions& globals) {
                        return for_each_container(
                            globals, f.names, EchoName::yes,
                            [&](const ContainerStore& store, const std::string& id) {
                              return containers::remove_container(store, id, f.force, f.volumes);
                            });
                      }};

Command<Flags> monitor_reg{containers::kMonitorCommand, "Run a detached container (internal)", 1000,
                           [](CLI::App& sub, Flags& f) {
                             sub.add_option("id", f.names, "CONTAINER")->required()->expected(1);
                             sub.group("");  // internal: not listed in --help
                           },
                           [](Flags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
                             return containers::run_monitor(
                                 globals.root, f.names[0], [](const std::string& message) {
                                   std::cerr << "error: " << message << "\n";
                                 });
                           }};

}  // namespace
}  // namespace kiln::cli
