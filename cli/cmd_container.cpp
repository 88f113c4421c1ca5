// The container commands (containers/), docker's output for each. `kiln run [OPTIONS]
// IMAGE [COMMAND] [ARG...]` creates a container from a stored image (pulled first
// when missing) and runs it, in the foreground (exit code = the process's) or detached
// with -d (a monitor process keeps it; prints its ID); `kiln create` creates it the
// same way without starting it and prints its ID; `kiln exec [OPTIONS] CONTAINER
// COMMAND [ARG...]` runs a process in a running container. Every flag after IMAGE
// (CONTAINER) belongs to the command, as with docker. Those over several names (stop,
// kill, start, restart, rm, wait, pause, unpause) take container names or (short)
// IDs, print each one they handled as docker does, and go on after an error for one.
// `kiln ps [-a] [-q] [--no-trunc] [--filter F] [--format json|table|TEMPLATE]` (docker's
// columns), `wait`, `rename`, `top`, `stats --no-stream`, `logs [-f] [--tail N] [-t]`,
// `port CONTAINER [PRIVATE_PORT[/PROTO]]`, `cp CONTAINER:SRC DEST | SRC CONTAINER:DEST`,
// `commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE]... [-p] CONTAINER [REPOSITORY[:TAG]]` (the
// container's changes as a new image, whose ID it prints), and the hidden `kiln
// container-monitor ID`: the process that runs a detached container.

#include <unistd.h>

#include <iostream>

#include "cli/command.h"
#include "containers/container_commit.h"
#include "containers/container_cp.h"
#include "containers/container_create.h"
#include "containers/container_exec.h"
#include "containers/container_log.h"
#include "containers/container_monitor.h"
#include "containers/container_ops.h"
#include "containers/container_stop.h"
#include "containers/container_view.h"
#include "runtime/container_control.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

using containers::ContainerSpec;
using containers::ContainerStore;

// Adds docker's container options to `sub`, parsed into `c`.
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
  bool run = flags.sub->get_name() == "run";
  if (run && !flags.detach) {
    return run_foreground(store, spec);
  }
  if (run) {
    if (auto err = containers::start_created(store, spec.id)) {
      return start_failure(std::move(err));
    }
  }
  std::cout << spec.id << "\n";
  return 0;
}

void declare(CLI::App& sub, RunFlags& flags) {
  flags.sub = as_prefix_command(sub);  // everything from IMAGE on is the container's
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
      f.sub = as_prefix_command(sub);
      sub.add_flag("-d,--detach", f.exec.detach, "Detached mode: run command in the background");
      sub.add_flag("-i,--interactive", f.exec.interactive, "Keep STDIN open");
      sub.add_flag("-t,--tty", f.exec.tty, "Allocate a pseudo-TTY");
      add_list(sub, "-e,--env", f.exec.env, "Set environment variables");
      sub.add_option("-u,--user", f.exec.user,
                     "Username or UID (format: <name|uid>[:<group|gid>])");
      sub.add_option("-w,--workdir", f.exec.workdir, "Working directory inside the container");
    },
    [](ExecFlags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(auto rest, words_after_flags(*f.sub, 2));
      f.exec.args.assign(rest.begin() + 1, rest.end());
      std::cout.flush();
      return containers::exec_in_container(globals.root, rest.front(), f.exec);
    }};

struct Names {
  std::vector<std::string> containers;
  std::vector<std::string> args;  // top's ps options; cp's SRC DEST
  bool no_stream = false;
  std::string port;       // port's PRIVATE_PORT
  std::string container;  // the one CONTAINER of rename, top, port
  int timeout = -1;       // stop's and restart's
  std::string signal = "KILL";
  bool attach = false;
  bool force = false;
  bool volumes = false;
};

// Declares the positional CONTAINER (`single`) or CONTAINER...
void containers_arg(CLI::App& sub, Names& f, const std::string& help, bool single = false) {
  if (single) {
    sub.add_option("CONTAINER", f.container, help)->required();
  } else {
    sub.add_option("CONTAINER", f.containers, help)->required();
  }
}

// The body of a command over the containers named: `each` on each one, as
// for_each_container() runs it.
template <typename Each>
Command<Names>::Run each_container(EchoName echo, Each each) {
  return [echo, each](Names& f, const GlobalOptions& globals) {
    std::vector<std::string> names = f.container.empty() ? f.containers : std::vector{f.container};
    return for_each_container(
        globals, names, echo,
        [&](const ContainerStore& store, const std::string& id) { return each(store, id, f); });
  };
}

// stop and restart.
Command<Names> stopping(const char* name, const char* description, bool restart) {
  return {name, description, 22,
          [](CLI::App& sub, Names& f) {
            sub.add_option("-t,--time", f.timeout, "Seconds to wait before killing the container");
            containers_arg(sub, f, "CONTAINER...");
          },
          each_container(EchoName::yes, [restart](const ContainerStore& store,
                                                  const std::string& id, const Names& f) {
            return restart ? containers::restart_container(store, id, f.timeout)
                           : containers::stop_container(store, id, f.timeout);
          })};
}
Command<Names> stop_reg = stopping("stop", "Stop one or more running containers", false);
Command<Names> restart_reg = stopping("restart", "Restart one or more containers", true);

Command<Names> kill_reg{
    "kill", "Kill one or more running containers", 22,
    [](CLI::App& sub, Names& f) {
      sub.add_option("-s,--signal", f.signal, "Signal to send to the container");
      containers_arg(sub, f, "CONTAINER...");
    },
    [](Names& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(int number, runtime::parse_signal(f.signal));
      return for_each_container(globals, f.containers, EchoName::yes,
                                [&](const ContainerStore& store, const std::string& id) {
                                  return containers::kill_container(store, id, number);
                                });
    }};

llvm::Expected<int> run_start(Names& f, const GlobalOptions& globals) {
  if (f.attach && f.containers.size() != 1) {
    return llvm::make_error<UsageError>("you cannot start and attach multiple containers at once");
  }
  if (f.attach) {
    KILN_TRY(auto found, ContainerStore::open_container(globals.root, f.containers.front()));
    return containers::start_stopped(found.store, found.id, containers::Attach::yes);
  }
  return each_container(
      EchoName::yes, [](const ContainerStore& store, const std::string& id, const Names&) {
        return containers::start_stopped(store, id, containers::Attach::no).takeError();
      })(f, globals);
}

Command<Names> start_reg{"start", "Start one or more stopped containers", 22,
                         [](CLI::App& sub, Names& f) {
                           sub.add_flag("-a,--attach", f.attach,
                                        "Attach STDOUT/STDERR and forward signals");
                           containers_arg(sub, f, "CONTAINER...");
                         },
                         run_start};

Command<Names> rm_reg{"rm", "Remove one or more containers", 22,
                      [](CLI::App& sub, Names& f) {
                        sub.add_flag("-f,--force", f.force,
                                     "Force the removal of a running container (uses SIGKILL)");
                        sub.add_flag("-v,--volumes", f.volumes,
                                     "Remove anonymous volumes associated with the container");
                        containers_arg(sub, f, "CONTAINER...");
                      },
                      each_container(EchoName::yes, [](const ContainerStore& store,
                                                       const std::string& id, const Names& f) {
                        return containers::remove_container(store, id, f.force, f.volumes);
                      })};

Command<Names> monitor_reg{containers::kMonitorCommand, "Run a detached container (internal)", 1000,
                           [](CLI::App& sub, Names& f) {
                             containers_arg(sub, f, "CONTAINER", true);
                             sub.group("");  // internal: not listed in --help
                           },
                           [](Names& f, const GlobalOptions& globals) -> llvm::Expected<int> {
                             return containers::run_monitor(
                                 globals.root, f.container, [](const std::string& message) {
                                   std::cerr << "error: " << message << "\n";
                                 });
                           }};

Command<Names> wait_reg{
    "wait", "Block until one or more containers stop, then print their exit codes", 23,
    [](CLI::App& sub, Names& f) { containers_arg(sub, f, "Containers to wait for"); },
    each_container(
        EchoName::no,
        [](const ContainerStore& store, const std::string& id, const Names&) -> llvm::Error {
          KILN_TRY(int code, containers::wait_container(store, id));
          std::cout << code << "\n" << std::flush;
          return llvm::Error::success();
        })};

Command<Names> rename_reg{
    "rename", "Rename a container", 23,
    [](CLI::App& sub, Names& f) {
      containers_arg(sub, f, "Container", true);
      sub.add_option("NEW_NAME", f.args, "Its new name")->required()->expected(1);
    },
    each_container(EchoName::no, [](const ContainerStore& store, const std::string& id,
                                    const Names& f) { return store.rename(id, f.args[0]); })};

Command<Names> pause_reg{"pause", "Pause all processes within one or more containers", 23,
                         [](CLI::App& sub, Names& f) { containers_arg(sub, f, "Containers"); },
                         each_container(EchoName::yes, [](const ContainerStore& store,
                                                          const std::string& id, const Names&) {
                           return containers::pause_container(store, id, true);
                         })};

Command<Names> unpause_reg{"unpause", "Unpause all processes within one or more containers", 23,
                           [](CLI::App& sub, Names& f) { containers_arg(sub, f, "Containers"); },
                           each_container(EchoName::yes, [](const ContainerStore& store,
                                                            const std::string& id, const Names&) {
                             return containers::pause_container(store, id, false);
                           })};

Command<Names> top_reg{
    "top", "Display the running processes of a container", 23,
    [](CLI::App& sub, Names& f) {
      containers_arg(sub, f, "Container", true);
      sub.add_option("PS_OPTIONS", f.args, "ps options (default -ef)");
    },
    each_container(
        EchoName::no,
        [](const ContainerStore& store, const std::string& id, const Names& f) -> llvm::Error {
          KILN_TRY(std::string out, containers::top_output(store, id, f.args));
          std::cout << out;
          return llvm::Error::success();
        })};

Command<Names> port_reg{"port", "List port mappings or a specific mapping for the container", 29,
                        [](CLI::App& sub, Names& f) {
                          containers_arg(sub, f, "Container name or ID", true);
                          sub.add_option("PRIVATE_PORT", f.port, "PRIVATE_PORT[/PROTO]");
                        },
                        each_container(EchoName::no,
                                       [](const ContainerStore& store, const std::string& id,
                                          const Names& f) -> llvm::Error {
                                         KILN_TRY(auto view, containers::load_view(store, id));
                                         KILN_TRY(auto lines, containers::port_lines(view, f.port));
                                         for (const auto& line : lines) {
                                           std::cout << line << "\n";
                                         }
                                         return llvm::Error::success();
                                       })};

Command<Names> stats_reg{
    "stats", "Display a live stream of container(s) resource usage statistics", 23,
    [](CLI::App& sub, Names& f) {
      sub.add_flag("--no-stream", f.no_stream,
                   "Disable streaming stats and only pull the first result (the only mode)");
      sub.add_option("CONTAINER", f.containers, "Containers (default: all running)");
    },
    [](Names& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(auto store, ContainerStore::open(globals.root));
      KILN_TRY(auto names, f.containers.empty()
                               ? containers::running_ids(store)
                               : llvm::Expected<std::vector<std::string>>(f.containers));
      std::vector<std::vector<std::string>> rows = {containers::stats_header()};
      int code = for_each_name(names, EchoName::no, [&](const std::string& name) -> llvm::Error {
        KILN_TRY(std::string id, store.resolve(name));
        KILN_TRY(auto row, containers::stats_row(store, id));
        rows.push_back(std::move(row));
        return llvm::Error::success();
      });
      print_table(std::cout, rows);
      return code;
    }};

struct LogsFlags {
  std::string name;
  std::string tail = "all";
  containers::LogReadOptions options;
};

Command<LogsFlags> logs_reg{
    "logs", "Fetch the logs of a container", 22,
    [](CLI::App& sub, LogsFlags& f) {
      sub.add_flag("-f,--follow", f.options.follow, "Follow log output");
      sub.add_option("-n,--tail", f.tail, "Number of lines to show from the end of the logs");
      sub.add_flag("-t,--timestamps", f.options.timestamps, "Show timestamps");
      sub.add_option("container", f.name, "CONTAINER")->required();
    },
    [](LogsFlags& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      size_t n = 0;
      if (f.tail != "all" && llvm::StringRef(f.tail).getAsInteger(10, n)) {
        return llvm::make_error<UsageError>("invalid --tail " + quote(f.tail));
      }
      if (f.tail != "all") {
        f.options.tail = n;
      }
      KILN_CHECK(containers::print_container_logs(globals.root, f.name, f.options));
      return 0;
    }};

Command<Names> cp_reg{"cp", "Copy files/folders between a container and the local filesystem", 24,
                      [](CLI::App& sub, Names& f) {
                        sub.add_option(
                               "SRC DEST", f.args,
                               "CONTAINER:SRC_PATH DEST_PATH or SRC_PATH CONTAINER:DEST_PATH")
                            ->required()
                            ->expected(2);
                      },
                      [](Names& f, const GlobalOptions& globals) -> llvm::Expected<int> {
                        KILN_CHECK(containers::copy_paths(globals.root, f.args[0], f.args[1]));
                        return 0;
                      }};

Command<containers::CommitOptions> commit_reg{
    "commit", "Create a new image from a container's changes", 24,
    [](CLI::App& sub, containers::CommitOptions& f) {
      sub.add_option("-a,--author", f.author,
                     "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
      sub.add_option("-m,--message", f.message, "Commit message");
      add_list(sub, "-c,--change", f.changes, "Apply Dockerfile instruction to the created image");
      sub.add_flag("-p,--pause,!--no-pause", f.pause, "Pause container during commit");
      sub.add_option("container", f.container, "CONTAINER")->required();
      sub.add_option("reference", f.reference, "[REPOSITORY[:TAG]]");
    },
    [](containers::CommitOptions& f, const GlobalOptions& globals) -> llvm::Expected<int> {
      KILN_TRY(Digest id, containers::commit_container(globals.root, f));
      std::cout << id.str() << "\n";
      return 0;
    }};

struct PsFlags {
  containers::PsOptions options;
  bool quiet = false;
  std::string format;
};

llvm::Expected<int> run_ps(PsFlags& flags, const GlobalOptions& globals) {
  if (flags.format == "{{json .}}") {
    flags.format = "json";
  }
  KILN_TRY(auto store, containers::ContainerStore::open(globals.root));
  KILN_TRY(auto lines, containers::ps_rows(store, flags.options, containers::now_ns()));
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
  for (const auto& line : lines) {
    if (flags.quiet || flags.format == "json") {
      std::cout << (flags.quiet ? line["ID"].get<std::string>() : line.dump()) << "\n";
    } else {
      rows.push_back({});
      for (const char* key : {"ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"}) {
        rows.back().push_back(line[key].get<std::string>());
      }
    }
  }
  if (flags.quiet || flags.format == "json") {
    return 0;
  }
  if (is_template_format(flags.format)) {
    KILN_CHECK(print_rows(std::cout, flags.format, lines, containers::ps_header()));
    return 0;
  }
  print_table(std::cout, rows);
  return 0;
}

Command<PsFlags> ps_reg{
    "ps", "List containers", 21,
    [](CLI::App& sub, PsFlags& f) {
      sub.add_flag("-a,--all", f.options.all, "Show all containers (default shows just running)");
      sub.add_flag("-q,--quiet", f.quiet, "Only display container IDs");
      sub.add_flag("--no-trunc", f.options.no_trunc, "Don't truncate output");
      add_list(sub, "-f,--filter", f.options.filters,
               "Filter output (name=, id=, status=, label=KEY[=VALUE], ancestor=, network=)");
      sub.add_option("--format", f.format,
                     "Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE");
    },
    run_ps};

}  // namespace
}  // namespace kiln::cli
