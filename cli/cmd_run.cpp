// `kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]`: creates a container from a stored
// image and runs it, in the foreground (exit code = the process's) or detached
// with -d (a monitor process keeps it; prints its ID). `kiln create` creates it
// the same way without starting it (`kiln start` does) and prints its ID. `kiln
// exec [OPTIONS] CONTAINER COMMAND [ARG...]` runs a process in a running container
// (containers/container_exec.h). Every flag after IMAGE (CONTAINER) belongs to the
// command, as with docker.
#include <unistd.h>

#include <iostream>

#include "cli/command.h"
#include "cli/foreground_run.h"
#include "cli/image_pull.h"
#include "containers/container_create.h"
#include "containers/container_exec.h"
#include "containers/container_monitor.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

using containers::ContainerSpec;
using containers::ContainerStore;

// Adds docker's container options to `sub`, parsed into `c`; everything from
// IMAGE on is left for args_after_flags().
void add_create_flags(CLI::App& sub, containers::CreateFlags& c) {
  auto one_each = [](CLI::Option* option) { option->allow_extra_args(false); };
  sub.set_help_flag("--help", "Print this help message and exit");  // -h is --hostname
  sub.add_flag("--rm", c.auto_remove, "Automatically remove the container when it exits");
  one_each(sub.add_option("-e,--env", c.env, "Set environment variables"));
  one_each(sub.add_option("--env-file", c.env_files, "Read in a file of environment variables"));
  sub.add_option("-w,--workdir", c.workdir, "Working directory inside the container");
  sub.add_option("-u,--user", c.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  one_each(sub.add_option("-v,--volume", c.volumes,
                          "Bind mount a volume (NAME:/CONTAINER[:ro], /HOST:/CONTAINER[:ro] or "
                          "/CONTAINER)"));
  one_each(sub.add_option("--mount", c.mounts,
                          "Attach a filesystem mount (type=volume|bind|tmpfs,src=,dst=,readonly)"));
  one_each(sub.add_option("--tmpfs", c.tmpfs, "Mount a tmpfs directory (PATH[:size=SIZE])"));
  one_each(sub.add_option("--volumes-from", c.volumes_from,
                          "Mount volumes from the specified container(s) (CONTAINER[:ro|rw])"));
  sub.add_flag("--init", c.init,
               "Run an init inside the container that forwards signals and reaps processes");
  sub.add_option("--platform", c.platform, "Set platform if server is multi-platform capable");
  sub.add_option("--network", c.network,
                 "Connect a container to a network (default: kiln; host|none|NAME|container:ID)");
  one_each(sub.add_option("--network-alias", c.network_aliases,
                          "Add network-scoped alias for the container"));
  one_each(sub.add_option("--add-host", c.add_hosts, "Add a custom host-to-IP mapping (host:ip)"));
  sub.add_option("-h,--hostname", c.hostname, "Container host name");
  one_each(sub.add_option("--dns", c.dns, "Set custom DNS servers"));
  one_each(sub.add_option("-l,--label", c.labels, "Set meta data on a container"));
  sub.add_option("-m,--memory", c.memory, "Memory limit (e.g. 64m; a cgroup limit)");
  sub.add_option("--cpus", c.cpus, "Number of CPUs (e.g. 0.5; a cgroup CPU quota)");
  one_each(sub.add_option("--security-opt", c.security_opts,
                          "Security Options (seccomp=unconfined|PROFILE.json)"));
  sub.add_option_function<std::string>(
      "--entrypoint", [&c](const std::string& value) { c.entrypoint = value; },
      "Overwrite the default ENTRYPOINT of the image");
  sub.add_flag("-i,--interactive", c.interactive, "Keep STDIN open");
  sub.add_flag("-t,--tty", c.tty, "Allocate a pseudo-TTY");
  sub.add_option("--name", c.name, "Assign a name to the container");
  sub.add_option("--restart", c.restart,
                 "Restart policy to apply when a container exits (no|on-failure[:N]|always)");
  one_each(
      sub.add_option("-p,--publish", c.publish,
                     "Publish a container's port to the host ([127.0.0.1:]HOST:CONTAINER[/udp]); "
                     "binds 127.0.0.1 unless another loopback address is given"));
  sub.add_option("--stop-signal", c.stop_signal, "Signal to stop the container");
  sub.add_option_function<int>(
      "--stop-timeout", [&c](int value) { c.stop_timeout = value; },
      "Timeout (in seconds) to stop a container");
  sub.add_flag("--no-healthcheck", c.no_healthcheck, "Disable any container-specified HEALTHCHECK");
  one_each(sub.add_option("--log-opt", c.log_opts, "Log driver options (max-size=SIZE)"));
  // Everything from IMAGE on belongs to the container: stop parsing options there
  // (fallthrough would hand IMAGE to the parent app, which rejects it).
  sub.prefix_command();
  sub.fallthrough(false);
}

// The arguments after the flags of the prefix command `sub`, at least `min` of
// them; a leading "--" is dropped.
llvm::Expected<std::vector<std::string>> args_after_flags(CLI::App& sub, llvm::StringRef verb,
                                                          size_t min) {
  std::vector<std::string> rest = sub.remaining();
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
  } else if (!rest.empty() && llvm::StringRef(rest.front()).startswith("-")) {
    return llvm::make_error<UsageError>("unknown flag: " + rest.front());
  }
  if (rest.size() < min) {
    return llvm::make_error<UsageError>("\"kiln " + verb.str() + "\" requires at least " +
                                        std::to_string(min) +
                                        (min == 1 ? " argument" : " arguments"));
  }
  return rest;
}

struct RunFlags {
  containers::CreateFlags create;
  bool detach = false;
};

// The container `flags` describe (its image pulled first when missing), in the
// store it is created in.
llvm::Expected<std::pair<ContainerStore, ContainerSpec>> create(const GlobalOptions& globals,
                                                                CLI::App& sub, RunFlags& flags) {
  auto rest = args_after_flags(sub, sub.get_name(), 1);
  if (!rest) {
    return rest.takeError();
  }
  flags.create.image_and_command = std::move(*rest);
  if (flags.create.tty && flags.create.interactive && !flags.detach && !::isatty(0) &&
      sub.get_name() == "run") {
    return make_error("the input device is not a TTY");
  }
  auto store = ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  if (auto err = pull_if_missing(globals, flags.create.image_and_command.front())) {
    return std::move(err);
  }
  auto spec = containers::create_container(
      *store, flags.create, [](const std::string& warning) { std::cerr << warning << "\n"; });
  if (!spec) {
    return spec.takeError();
  }
  return std::make_pair(std::move(*store), std::move(*spec));
}

CommandBody setup(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<RunFlags>();
  if (sub.get_name() == "run") {
    sub.add_flag("-d,--detach", flags->detach,
                 "Run container in background and print container ID");
  }
  add_create_flags(sub, flags->create);
  set_usage(sub, "kiln " + sub.get_name() + " [OPTIONS] IMAGE [COMMAND] [ARG...]");
  return [flags, &sub, &globals]() -> llvm::Expected<int> {
    auto created = create(globals, sub, *flags);
    if (!created) {
      return created.takeError();
    }
    auto& [store, spec] = *created;
    if (sub.get_name() == "run" && !flags->detach) {
      return run_foreground(store, spec);
    }
    if (sub.get_name() == "run") {
      if (auto err = containers::start_created(store, spec.id)) {
        return start_failure(std::move(err));
      }
    }
    std::cout << spec.id << "\n";
    return 0;
  };
}

CommandBody setup_exec(CLI::App& sub, const GlobalOptions& globals) {
  auto o = std::make_shared<containers::ExecOptions>();
  sub.add_flag("-d,--detach", o->detach, "Detached mode: run command in the background");
  sub.add_flag("-i,--interactive", o->interactive, "Keep STDIN open");
  sub.add_flag("-t,--tty", o->tty, "Allocate a pseudo-TTY");
  sub.add_option("-e,--env", o->env, "Set environment variables")->allow_extra_args(false);
  sub.add_option("-u,--user", o->user, "Username or UID (format: <name|uid>[:<group|gid>])");
  sub.add_option("-w,--workdir", o->workdir, "Working directory inside the container");
  sub.prefix_command();
  sub.fallthrough(false);
  return [o, &sub, &globals]() -> llvm::Expected<int> {
    auto rest = args_after_flags(sub, "exec", 2);
    if (!rest) {
      return rest.takeError();
    }
    o->args.assign(rest->begin() + 1, rest->end());
    std::cout.flush();
    return containers::exec_in_container(globals.root, rest->front(), *o);
  };
}

CommandRegistration create_reg{{"create", "Create a new container", setup, 19}};
CommandRegistration run_reg{{"run", "Run a command in a new container", setup, 20}};
CommandRegistration exec_reg{{"exec", "Execute a command in a running container", setup_exec, 22}};

}  // namespace
}  // namespace kiln::cli
