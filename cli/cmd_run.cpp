// `kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]`: creates a container from a stored
// image and runs it, in the foreground (exit code = the process's) or detached
// with -d (a monitor process keeps it; prints its ID). Every flag after IMAGE
// belongs to the command, as with docker.
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <optional>

#include "cli/command.h"
#include "cli/create_flags.h"
#include "cli/foreground_run.h"
#include "cli/image_pull.h"
#include "cli/monitor_command.h"
#include "cli/print_error.h"
#include "containers/container_create.h"
#include "support/error.h"

namespace kiln::cli {

using containers::ContainerSpec;
using containers::ContainerStore;
using containers::create_container;
using containers::CreateFlags;

namespace {

struct RunFlags {
  CreateFlags create;
  bool detach = false;
};

llvm::Expected<int> run_detached(const ContainerStore& store, const ContainerSpec& spec) {
  auto op = FileLock::acquire(store.paths(spec.id).op_lock());
  if (!op) {
    return op.takeError();
  }
  // docker keeps a container that could not be started (Created, with the
  // error); --rm removes it.
  auto argv = monitor_command(store, spec.id);
  if (!argv) {
    return argv.takeError();
  }
  if (auto err = containers::start_monitor(store, spec.id, *argv)) {
    return start_failure(std::move(err));
  }
  std::cout << spec.id << "\n";
  return 0;
}

llvm::Expected<int> run_container(const GlobalOptions& globals, const RunFlags& flags) {
  if (flags.create.tty && flags.create.interactive && !flags.detach && !::isatty(0)) {
    return make_error("the input device is not a TTY");
  }
  auto store = ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  if (auto err = pull_if_missing(globals, flags.create.image_and_command.front())) {
    return std::move(err);
  }
  auto spec = create_container(*store, flags.create,
                               [](const std::string& warning) { std::cerr << warning << "\n"; });
  if (!spec) {
    return spec.takeError();
  }
  return flags.detach ? run_detached(*store, *spec) : run_foreground(*store, *spec);
}

CommandBody setup_run(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<RunFlags>();
  CreateFlags& c = flags->create;
  sub.add_flag("-d,--detach", flags->detach, "Run container in background and print container ID");
  add_create_flags(sub, c);
  set_usage(sub, "kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]");
  return [flags, &sub, &globals]() -> llvm::Expected<int> {
    auto rest = image_and_command(sub, "run");
    if (!rest) {
      return rest.takeError();
    }
    flags->create.image_and_command = std::move(*rest);
    return run_container(globals, *flags);
  };
}

CommandRegistration reg{{"run", "Run a command in a new container", setup_run, 20}};

}  // namespace
}  // namespace kiln::cli
