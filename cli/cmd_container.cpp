// The container commands (containers/), docker's output for each. Those over several
// names (stop, kill, start, restart, rm, wait, pause, unpause) take container names or
// (short) IDs, print each one they handled as docker does, and go on after an error for
// one. `kiln ps [-a] [-q] [--no-trunc] [--filter F] [--format json|table|TEMPLATE]` (docker's
// columns), `wait`, `rename`, `top`, `stats --no-stream`, `logs [-f] [--tail N] [-t]`,
// `port CONTAINER [PRIVATE_PORT[/PROTO]]`, `cp CONTAINER:SRC DEST | SRC CONTAINER:DEST`,
// `commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE]... [-p] CONTAINER [REPOSITORY[:TAG]]` (the
// container's changes as a new image, whose ID it prints), and the hidden `kiln
// container-monitor ID`: the process that runs a detached container.
#include <iostream>

#include "cli/command.h"
#include "containers/container_commit.h"
#include "containers/container_cp.h"
#include "containers/container_log.h"
#include "containers/container_monitor.h"
#include "containers/container_ops.h"
#include "containers/container_stop.h"
#include "containers/container_view.h"
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

struct Names {
  std::vector<std::string> containers;
  std::vector<std::string> args;  // top's ps options; cp's SRC DEST
  bool no_stream = false;
  std::string port;       // port's PRIVATE_PORT
  std::string container;  // the one CONTAINER of rename, top, port
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
