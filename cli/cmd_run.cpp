// `kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]`: creates a container from a stored
// image and runs it, in the foreground (exit code = the process's) or detached
// with -d (a monitor process keeps it; prints its ID). Every flag after IMAGE
// belongs to the command, as with docker.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <optional>

#include "cli/command.h"
#include "cli/create_flags.h"
#include "cli/image_pull.h"
#include "cli/monitor_command.h"
#include "cli/print_error.h"
#include "containers/container_create.h"
#include "containers/container_runner.h"
#include "support/error.h"
#include "support/signal_watch.h"

namespace kiln::cli {

using containers::ContainerSpec;
using containers::ContainerStore;
using containers::create_container;
using containers::CreateFlags;
using containers::KillFirst;
using containers::run_container_session;
using containers::SessionOptions;

namespace {

struct RunFlags {
  CreateFlags create;
  bool detach = false;
};

// Puts stdin in raw mode for `kiln run -it` while alive.
class RawTerminal {
 public:
  explicit RawTerminal(bool enable) {
    if (enable && ::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) {
      ::tcsetattr(0, TCSANOW, &saved_);
    }
  }

 private:
  termios saved_{};
  bool active_ = false;
};

// A container that could not be started: its error printed, docker's exit code
// (125, 126, 127) returned. Any other error is returned.
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

llvm::Expected<int> run_foreground(const ContainerStore& store, const ContainerSpec& spec,
                                   const RunFlags& flags) {
  auto lock = FileLock::acquire(store.paths(spec.id).monitor_lock());
  if (!lock) {
    return lock.takeError();
  }
  SessionOptions options;
  options.foreground = true;
  options.attach_stdin = flags.create.interactive;
  runtime::CancelToken cancel;
  options.cancel = &cancel;
  llvm::Expected<runtime::ExitStatus> status = runtime::ExitStatus{};
  {
    // Passes these signals on to the container, like docker's --sig-proxy: the
    // container decides whether to exit.
    SignalWatch signals({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2},
                        [&cancel](int signal) { cancel.forward(signal); });
    RawTerminal raw(flags.create.tty && flags.create.interactive);
    status = run_container_session(store, spec.id, options);
  }
  if (spec.auto_remove) {
    llvm::consumeError(store.remove(spec.id, KillFirst::no));
  }
  if (!status) {
    return start_failure(status.takeError());
  }
  return status->code();
}

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
  return flags.detach ? run_detached(*store, *spec) : run_foreground(*store, *spec, flags);
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
