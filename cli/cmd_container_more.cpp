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
  std::vector<std::string> args;  // top's ps options
  bool no_stream = false;
  std::string container;  // port's CONTAINER
  std::string port;       // and PRIVATE_PORT
};

CommandBody setup_wait(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<Names>();
  sub.add_option("CONTAINER", flags->containers, "Containers to wait for")->required();
  return [flags, &globals]() {
    return for_each_container(
        globals, flags->containers, EchoName::no,
        [](const ContainerStore& store, const std::string& id) -> llvm::Error {
          auto code = containers::wait_container(store, id);
          if (!code) {
            return code.takeError();
          }
          std::cout << *code << "\n" << std::flush;
          return llvm::Error::success();
        });
  };
}

CommandBody setup_rename(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<Names>();
  sub.add_option("CONTAINER NEW_NAME", flags->containers, "Container and its new name")
      ->required()
      ->expected(2);
  return [flags, &globals]() {
    return for_each_container(globals, {flags->containers[0]}, EchoName::no,
                              [flags](const ContainerStore& store, const std::string& id) {
                                return store.rename(id, flags->containers[1]);
                              });
  };
}

CommandBody setup_pause(CLI::App& sub, const GlobalOptions& globals, bool pause) {
  auto flags = std::make_shared<Names>();
  sub.add_option("CONTAINER", flags->containers, "Containers")->required();
  return [flags, &globals, pause]() {
    return for_each_container(globals, flags->containers, EchoName::yes,
                              [pause](const ContainerStore& store, const std::string& id) {
                                return containers::pause_container(store, id, pause);
                              });
  };
}

CommandBody setup_top(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<Names>();
  sub.add_option("CONTAINER", flags->containers, "Container")->required()->expected(1);
  sub.add_option("PS_OPTIONS", flags->args, "ps options (default -ef)");
  return [flags, &globals]() {
    return for_each_container(
        globals, flags->containers, EchoName::no,
        [flags](const ContainerStore& store, const std::string& id) -> llvm::Error {
          auto out = containers::top_output(store, id, flags->args);
          if (!out) {
            return out.takeError();
          }
          std::cout << *out;
          return llvm::Error::success();
        });
  };
}

CommandBody setup_stats(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<Names>();
  sub.add_flag("--no-stream", flags->no_stream,
               "Disable streaming stats and only pull the first result (the only mode)");
  sub.add_option("CONTAINER", flags->containers, "Containers (default: all running)");
  return [flags, &globals]() -> llvm::Expected<int> {
    auto store = ContainerStore::open(globals.root);
    if (!store) {
      return store.takeError();
    }
    auto names = flags->containers.empty()
                     ? containers::running_ids(*store)
                     : llvm::Expected<std::vector<std::string>>(flags->containers);
    if (!names) {
      return names.takeError();
    }
    std::vector<std::vector<std::string>> rows = {containers::stats_header()};
    int code = for_each_name(*names, EchoName::no, [&](const std::string& name) -> llvm::Error {
      auto id = store->resolve(name);
      auto row = id ? containers::stats_row(*store, *id)
                    : llvm::Expected<std::vector<std::string>>(id.takeError());
      if (!row) {
        return row.takeError();
      }
      rows.push_back(std::move(*row));
      return llvm::Error::success();
    });
    print_table(std::cout, rows);
    return code;
  };
}

CommandBody setup_logs(CLI::App& sub, const GlobalOptions& globals) {
  auto name = std::make_shared<std::string>();
  auto options = std::make_shared<containers::LogReadOptions>();
  auto tail = std::make_shared<std::string>("all");
  sub.add_flag("-f,--follow", options->follow, "Follow log output");
  sub.add_option("-n,--tail", *tail, "Number of lines to show from the end of the logs");
  sub.add_flag("-t,--timestamps", options->timestamps, "Show timestamps");
  sub.add_option("container", *name, "CONTAINER")->required();
  return [name, options, tail, &globals]() -> llvm::Expected<int> {
    size_t n = 0;
    if (*tail != "all" && llvm::StringRef(*tail).getAsInteger(10, n)) {
      return llvm::make_error<UsageError>("invalid --tail " + quote(*tail));
    }
    if (*tail != "all") {
      options->tail = n;
    }
    if (auto err = containers::print_container_logs(globals.root, *name, *options)) {
      return std::move(err);
    }
    return 0;
  };
}

CommandBody setup_port(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<Names>();
  sub.add_option("CONTAINER", flags->container, "Container name or ID")->required();
  sub.add_option("PRIVATE_PORT", flags->port, "PRIVATE_PORT[/PROTO]");
  return [flags, &globals]() {
    return for_each_container(
        globals, {flags->container}, EchoName::no,
        [flags](const containers::ContainerStore& store, const std::string& id) -> llvm::Error {
          auto view = containers::load_view(store, id);
          auto lines = view ? containers::port_lines(*view, flags->port)
                            : llvm::Expected<std::vector<std::string>>(view.takeError());
          if (!lines) {
            return lines.takeError();
          }
          for (const auto& line : *lines) {
            std::cout << line << "\n";
          }
          return llvm::Error::success();
        });
  };
}

CommandBody setup_cp(CLI::App& sub, const GlobalOptions& globals) {
  auto paths = std::make_shared<std::vector<std::string>>();
  sub.add_option("SRC DEST", *paths, "CONTAINER:SRC_PATH DEST_PATH or SRC_PATH CONTAINER:DEST_PATH")
      ->required()
      ->expected(2);
  return [paths, &globals]() -> llvm::Expected<int> {
    if (auto err = containers::copy_paths(globals.root, (*paths)[0], (*paths)[1])) {
      return std::move(err);
    }
    return 0;
  };
}

CommandBody setup_commit(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<containers::CommitOptions>();
  sub.add_option("-a,--author", flags->author,
                 "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
  sub.add_option("-m,--message", flags->message, "Commit message");
  sub.add_option("-c,--change", flags->changes, "Apply Dockerfile instruction to the created image")
      ->allow_extra_args(false);
  sub.add_flag("-p,--pause,!--no-pause", flags->pause, "Pause container during commit");
  sub.add_option("container", flags->container, "CONTAINER")->required();
  sub.add_option("reference", flags->reference, "[REPOSITORY[:TAG]]");
  return [flags, &globals]() -> llvm::Expected<int> {
    auto id = containers::commit_container(globals.root, *flags);
    if (!id) {
      return id.takeError();
    }
    std::cout << id->str() << "\n";
    return 0;
  };
}

CommandRegistration wait_reg{
    {"wait", "Block until one or more containers stop, then print their exit codes", setup_wait,
     23}};
CommandRegistration rename_reg{{"rename", "Rename a container", setup_rename, 23}};
CommandRegistration pause_reg{
    {"pause", "Pause all processes within one or more containers",
     [](CLI::App& sub, const GlobalOptions& g) { return setup_pause(sub, g, true); }, 23}};
CommandRegistration unpause_reg{
    {"unpause", "Unpause all processes within one or more containers",
     [](CLI::App& sub, const GlobalOptions& g) { return setup_pause(sub, g, false); }, 23}};
CommandRegistration top_reg{{"top", "Display the running processes of a container", setup_top, 23}};
CommandRegistration stats_reg{
    {"stats", "Display a live stream of container(s) resource usage statistics", setup_stats, 23}};

CommandRegistration logs_reg{{"logs", "Fetch the logs of a container", setup_logs, 22}};
CommandRegistration port_reg{
    {"port", "List port mappings or a specific mapping for the container", setup_port, 29}};

CommandRegistration cp_reg{
    {"cp", "Copy files/folders between a container and the local filesystem", setup_cp, 24}};

CommandRegistration commit_reg{
    {"commit", "Create a new image from a container's changes", setup_commit, 24}};

}  // namespace
}  // namespace kiln::cli
