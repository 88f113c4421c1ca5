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
#include "containers/container_create.h"
#include "containers/container_exec.h"
#include "containers/container_monitor.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

using containers::ContainerSpec;
using containers::ContainerStore;

// Adds docker's container options to `sub`, parsed into `c`; everything from
// IMAGE on is left for words_after_flags().
void add_create_flags(CLI::App& sub, containers::CreateFlags& c) {
  sub.set_help_flag("--help", "Print this help message and exit");  // -h is --hostname
  sub.add_flag("--rm", c.auto_remove, "Automatically remove the container when it exits");
  add_list(sub, "-e,--env", c.env, "Set environment variables");
  add_list(sub, "--env-file", c.env_files, "Read in a file of environment variables");
  sub.add_option("-w,--workdir", c.workdir, "Working directory inside the container");
  sub.add_option("-u,--user", c.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  add_list(sub, "-v,--volume", c.volumes,
           "Bind mount a volume (NAME:/CONTAINER[:ro], /HOST:/CONTAINER[:ro] or "
           "/CONTAINER)");
  add_list(sub, "--mount", c.mounts,
           "Attach a filesystem mount (type=volume|bind|tmpfs,src=,dst=,readonly)");
  add_list(sub, "--tmpfs", c.tmpfs, "Mount a tmpfs directory (PATH[:size=SIZE])");
  add_list(sub, "--volumes-from", c.volumes_from,
           "Mount volumes from the specified container(s) (CONTAINER[:ro|rw])");
  sub.add_flag("--init", c.init,
               "Run an init inside the container that forwards signals and reaps processes");
  sub.add_option("--platform", c.platform, "Set platform if server is multi-platform capable");
  sub.add_option("--network", c.network,
                 "Connect a container to a network (default: kiln; host|none|NAME|container:ID)");
  add_list(sub, "--network-alias", c.network_aliases, "Add network-scoped alias for the container");
  add_list(sub, "--add-host", c.add_hosts, "Add a custom host-to-IP mapping (host:ip)");
  sub.add_option("-h,--hostname", c.hostname, "Container host name");
  add_list(sub, "--dns", c.dns, "Set custom DNS servers");
  add_list(sub, "-l,--label", c.labels, "Set meta data on a container");
  sub.add_option("-m,--memory", c.memory, "Memory limit (e.g. 64m; a cgroup limit)");
  sub.add_option("--cpus", c.cpus, "Number of CPUs (e.g. 0.5; a cgroup CPU quota)");
  add_list(sub, "--security-opt", c.security_opts,
           "Security Options (seccomp=unconfined|PROFILE.json)");
  sub.add_option_function<std::string>(
      "--entrypoint", [&c](const std::string& value) { c.entrypoint = value; },
      "Overwrite the default ENTRYPOINT of the image");
  sub.add_flag("-i,--interactive", c.interactive, "Keep STDIN open");
  sub.add_flag("-t,--tty", c.tty, "Allocate a pseudo-TTY");
  sub.add_option("--name", c.name, "Assign a name to the container");
  sub.add_option("--restart", c.restart,
                 "Restart policy to apply when a container exits (no|on-failure[:N]|always)");
  add_list(sub, "-p,--publish", c.publish,
           "Publish a container's port to the host ([127.0.0.1:]HOST:CONTAINER[/udp]); "
           "binds 127.0.0.1 unless another loopback address is given");
  sub.add_option("--stop-signal", c.stop_signal, "Signal to stop the container");
  sub.add_option_function<int>(
      "--stop-timeout", [&c](int value) { c.stop_timeout = value; },
      "Timeout (in seconds) to stop a container");
  sub.add_flag("--no-healthcheck", c.no_healthcheck, "Disable any container-specified HEALTHCHECK");
  add_list(sub, "--log-opt", c.log_opts, "Log driver options (max-size=SIZE)");
  // Everything from IMAGE on belongs to the container: stop parsing options there
  // (fallthrough would hand IMAGE to the parent app, which rejects it).
  sub.prefix_command();
  sub.fallthrough(false);
}

struct RunFlags {
  containers::CreateFlags create;
  bool detach = false;
  CLI::App* sub = nullptr;  // run or create, whose remaining words are IMAGE [COMMAND] [ARG...]
};

// The container `flags` describe (its image pulled first when missing), in the
// store it is created in.
llvm::Expected<std::pair<ContainerStore, ContainerSpec>> create(RunFlags& flags,
                                                                const GlobalOptions& globals) {
  bool run = flags.sub->get_name() == "run";
  KILN_TRY(flags.create.image_and_command, words_after_flags(*flags.sub, 1));
  if (flags.create.tty && flags.create.interactive && !flags.detach && !::isatty(0) && run) {
    return make_error("the input device is not a TTY");
  }
  KILN_TRY(auto store, ContainerStore::open(globals.root));
  KILN_CHECK(pull_if_missing(globals, flags.create.image_and_command.front()));
  KILN_TRY(auto spec,
           containers::create_container(store, flags.create, [](const std::string& warning) {
             std::cerr << warning << "\n";
           }));
  return std::make_pair(std::move(store), std::move(spec));
}

llvm::Expected<int> run_or_create(RunFlags& flags, const GlobalOptions& globals) {
  KILN_TRY(auto created, create(flags, globals));
  auto& [store, spec] = created;
  if (flags.sub->get_name() == "run" && !flags.detach) {
    return run_foreground(store, spec);
  }
  if (flags.sub->get_name() == "run") {
    if (auto err = containers::start_created(store, spec.id)) {
      return start_failure(std::move(err));
    }
  }
  std::cout << spec.id << "\n";
  return 0;
}

void declare(CLI::App& sub, RunFlags& flags) {
  flags.sub = &sub;
  if (sub.get_name() == "run") {
    sub.add_flag("-d,--detach", flags.detach, "Run container in background and print container ID");
  }
  add_create_flags(sub, flags.create);
  set_usage(sub, "kiln " + sub.get_name() + " [OPTIONS] IMAGE [COMMAND] [ARG...]");
}

struct ExecFlags {
  containers::ExecOptions exec;
  CLI::App* sub = nullptr;  // whose remaining words are CONTAINER COMMAND [ARG...]
};

Command<RunFlags> create_reg{"create", "Create a new container", 19, declare, run_or_create};
Command<RunFlags> run_reg{"run", "Run a command in a new container", 20, declare, run_or_create};
Command<ExecFlags> exec_reg{
    "exec", "Execute a command in a running container", 22,
    [](CLI::App& sub, ExecFlags& f) {
      f.sub = &sub;
      sub.add_flag("-d,--detach", f.exec.detach, "Detached mode: run command in the background");
      sub.add_flag("-i,--interactive", f.exec.interactive, "Keep STDIN open");
      sub.add_flag("-t,--tty", f.exec.tty, "Allocate a pseudo-TTY");
      add_list(sub, "-e,--env", f.exec.env, "Set environment variables");
      sub.add_option("-u,--user", f.exec.user,
                     "Username or UID (format: <name|uid>[:<group|gid>])");
      sub.add_option("-w,--workdir", f.exec.workdir, "Working directory inside the container");
      sub.prefix_command();
      sub.fallthrough(false);
    },
    [](ExecFlags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(auto rest, words_after_flags(*f.sub, 2));
      f.exec.args.assign(rest.begin() + 1, rest.end());
      std::cout.flush();
      return containers::exec_in_container(globals.root, rest.front(), f.exec);
    }};

}  // namespace
}  // namespace kiln::cli
