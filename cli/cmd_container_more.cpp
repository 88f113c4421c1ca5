// The smaller container commands: `kiln wait`, `rename`, `pause`, `unpause`, `top`
// and `stats --no-stream` (containers/container_ops.h), `logs [-f] [--tail N] [-t]`
// (container_log.h), `port CONTAINER [PRIVATE_PORT[/PROTO]]` (container_view.h),
// `cp CONTAINER:SRC DEST | SRC CONTAINER:DEST` (container_cp.h) and `commit [-a
// AUTHOR] [-m MESSAGE] [-c CHANGE]... [-p] CONTAINER [REPOSITORY[:TAG]]`: the
// container's changes as a new image (container_commit.h), whose ID it prints.
#include <iostream>

#include "cli/command.h"
#include "cli/each_name.h"
#include "cli/store_open.h"
#include "containers/container_commit.h"
#include "containers/container_cp.h"
#include "containers/container_log.h"
#include "containers/container_ops.h"
#include "containers/container_view.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

using containers::ContainerStore;

struct Names {
  std::vector<std::string> containers;
  std::vector<std::string> args;  // top's ps options; cp's SRC DEST
  bool no_stream = false;
  std::string port;  // port's PRIVATE_PORT
};

// Declares the positional CONTAINER... (`max` of them, 0: any number).
void containers_arg(CLI::App& sub, Names& f, const std::string& help, int max = 0) {
  sub.add_option("CONTAINER", f.containers, help)->required()->expected(1, max ? max : 1 << 20);
}

// The body of a command over the containers named: `each` on each one, as
// for_each_container() runs it.
template <typename Each>
Command<Names>::Run each_container(EchoName echo, Each each) {
  return [echo, each](Names& f, const GlobalOptions& globals) {
    return for_each_container(
        globals, f.containers, echo,
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
      containers_arg(sub, f, "Container", 1);
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
      containers_arg(sub, f, "Container", 1);
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
                          containers_arg(sub, f, "Container name or ID", 1);
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

}  // namespace
}  // namespace kiln::cli
