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

llvm::Expected<int> run_foreground(const ContainerStore& store, const ContainerSpec& spec,
                                   const RunFlags& flags) {
  auto lock = FileLock::acquire(store.paths(spec.id).monitor_lock());
  if (!lock) {
    return lock.takeError();
  }
  std::string start_error;
  int start_code = 0;
  SessionOptions options;
  options.foreground = true;
  options.attach_stdin = flags.create.interactive;
  options.on_ready = [&](const std::string& error, int code) {
    start_error = error;
    start_code = code;
  };
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
    llvm::Error err = status.takeError();
    if (err.isA<CancelledError>() || start_error.empty()) {
      return std::move(err);
    }
    llvm::consumeError(std::move(err));
    print_error(make_error(start_error), std::cerr);
    return start_code;
  }
  return status->code();
}

llvm::Expected<int> run_detached(const ContainerStore& store, const ContainerSpec& spec) {
  auto op = FileLock::acquire(store.paths(spec.id).op_lock());
  if (!op) {
    return op.takeError();
  }
  auto started = start_monitor(store, spec.id);
  if (!started) {
    return started.takeError();
  }
  if (!started->error.empty()) {
    // docker keeps the container (Created, with the error); --rm removes it.
    print_error(make_error(started->error), std::cerr);
    return started->code;
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
  auto one_each = [](CLI::Option* option) { option->allow_extra_args(false); };
  sub.set_help_flag("--help", "Print this help message and exit");  // -h is --hostname
  sub.add_flag("-d,--detach", flags->detach, "Run container in background and print container ID");
  sub.add_flag("--rm", c.auto_remove, "Automatically remove the container when it exits");
  one_each(sub.add_option("-e,--env", c.env, "Set environment variables"));
  one_each(sub.add_option("--env-file", c.env_files, "Read in a file of environment variables"));
  sub.add_option("-w,--workdir", c.workdir, "Working directory inside the container");
  sub.add_option("-u,--user", c.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  one_each(sub.add_option("-v,--volume", c.volumes, "Bind mount a volume (/HOST:/CONTAINER[:ro])"));
  sub.add_option("--network", c.network,
                 "Connect a container to a network (default: kiln; host|none|NAME|container:ID)");
  one_each(sub.add_option("--network-alias", c.network_aliases,
                          "Add network-scoped alias for the container"));
  one_each(sub.add_option("--add-host", c.add_hosts, "Add a custom host-to-IP mapping (host:ip)"));
  sub.add_option("-h,--hostname", c.hostname, "Container host name");
  one_each(sub.add_option("--dns", c.dns, "Set custom DNS servers"));
  one_each(sub.add_option("-l,--label", c.labels, "Set meta data on a container"));
  one_each(sub.add_option("--security-opt", c.security_opts,
                          "Security Options (seccomp=unconfined|PROFILE.json)"));
  sub.add_option_function<std::string>(
      "--entrypoint", [flags](const std::string& value) { flags->create.entrypoint = value; },
      "Overwrite the default ENTRYPOINT of the image");
  sub.add_flag("-i,--interactive", c.interactive, "Keep STDIN open");
  sub.add_flag("-t,--tty", c.tty, "Allocate a pseudo-TTY");
  sub.add_option("--name", c.name, "Assign a name to the container");
  sub.add_option("--restart", c.restart,
                 "Restart policy to apply when a container exits (no|on-failure[:N]|always)");
  one_each(sub.add_option("-p,--publish", c.publish,
                          "Publish a container's port to the host ([127.0.0.1:]HOST:CONTAINER); "
                          "binds 127.0.0.1 unless another loopback address is given"));
  sub.add_option("--stop-signal", c.stop_signal, "Signal to stop the container");
  sub.add_option_function<int>(
      "--stop-timeout", [flags](int value) { flags->create.stop_timeout = value; },
      "Timeout (in seconds) to stop a container");
  sub.add_flag("--no-healthcheck", c.no_healthcheck, "Disable any container-specified HEALTHCHECK");
  one_each(sub.add_option("--log-opt", c.log_opts, "Log driver options (max-size=SIZE)"));
  // Everything from IMAGE on belongs to the container: stop parsing options there
  // (fallthrough would hand IMAGE to the parent app, which rejects it).
  sub.prefix_command();
  sub.fallthrough(false);
  return [flags, &sub, &globals]() -> llvm::Expected<int> {
    std::vector<std::string> rest = sub.remaining();
    if (!rest.empty() && rest.front() == "--") {
      rest.erase(rest.begin());
    } else if (!rest.empty() && llvm::StringRef(rest.front()).startswith("-")) {
      return llvm::make_error<UsageError>("unknown flag: " + rest.front());
    }
    if (rest.empty()) {
      return llvm::make_error<UsageError>("\"kiln run\" requires at least 1 argument");
    }
    flags->create.image_and_command = std::move(rest);
    return run_container(globals, *flags);
  };
}

CommandRegistration reg{{"run", "Run a command in a new container", setup_run, 20}};

}  // namespace
}  // namespace kiln::cli
