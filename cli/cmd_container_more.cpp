// `kiln wait`, `rename`, `pause`, `unpause`, `top` and `stats --no-stream`.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/each_name.h"
#include "cli/print_error.h"
#include "cli/store_open.h"
#include "containers/container_ops.h"
#include "support/error.h"
#include "support/units.h"

namespace kiln::cli {
namespace {

using containers::ContainerStore;

struct Names {
  std::vector<std::string> containers;
  std::vector<std::string> args;  // top's ps options
  bool no_stream = false;
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
  return [flags, &globals]() -> llvm::Expected<int> {
    auto store = ContainerStore::open(globals.root);
    if (!store) {
      return store.takeError();
    }
    auto id = store->resolve(flags->containers[0]);
    if (!id) {
      return id.takeError();
    }
    if (auto err = store->rename(*id, flags->containers[1])) {
      return std::move(err);
    }
    return 0;
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
          auto pids = containers::container_pids(store, id);
          if (!pids) {
            return pids.takeError();
          }
          std::string list;
          for (int pid : *pids) {
            list += (list.empty() ? "" : ",") + std::to_string(pid);
          }
          std::string options;
          for (const auto& a : flags->args) {
            for (char c : a) {
              if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != ',') {
                return llvm::make_error<UsageError>("invalid ps option " + quote(a));
              }
            }
            options += " " + a;
          }
          if (options.empty()) {
            options = " -f";
          }
          std::string command = "ps" + options + " -p " + list;
          FILE* pipe = ::popen(command.c_str(), "r");
          if (!pipe) {
            return make_error("run " + quote(command));
          }
          char buf[4096];
          size_t n;
          while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
            std::cout.write(buf, static_cast<std::streamsize>(n));
          }
          ::pclose(pipe);
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
    std::vector<std::string> names = flags->containers;
    if (names.empty()) {
      auto ids = store->ids();
      if (!ids) {
        return ids.takeError();
      }
      for (const auto& id : *ids) {
        auto state = store->current_state(id);
        if (state && state->running()) {
          names.push_back(id);
        } else if (!state) {
          llvm::consumeError(state.takeError());
        }
      }
    }
    std::vector<std::vector<std::string>> rows = {{"CONTAINER ID", "NAME", "CPU %",
                                                   "MEM USAGE / LIMIT", "MEM %", "NET I/O",
                                                   "BLOCK I/O", "PIDS"}};
    int code = for_each_name(names, EchoName::no, [&](const std::string& name) -> llvm::Error {
      auto id = store->resolve(name);
      auto spec =
          id ? store->load_spec(*id) : llvm::Expected<containers::ContainerSpec>(id.takeError());
      auto stats = spec ? containers::container_stats(*store, *id)
                        : llvm::Expected<containers::ContainerStats>(spec.takeError());
      if (!stats) {
        return stats.takeError();
      }
      char cpu[32];
      char mem[32];
      std::snprintf(cpu, sizeof(cpu), "%.2f%%", stats->cpu_percent);
      std::snprintf(mem, sizeof(mem), "%.2f%%",
                    stats->memory_limit > 0 ? 100.0 * static_cast<double>(stats->memory_bytes) /
                                                  static_cast<double>(stats->memory_limit)
                                            : 0.0);
      rows.push_back({id->substr(0, 12), spec->name, cpu,
                      bytes_size(stats->memory_bytes) + " / " + bytes_size(stats->memory_limit),
                      mem, human_size(stats->net_rx, 4) + " / " + human_size(stats->net_tx, 4),
                      human_size(stats->block_read, 4) + " / " + human_size(stats->block_write, 4),
                      std::to_string(stats->pids)});
      return llvm::Error::success();
    });
    print_table(std::cout, rows);
    return code;
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

}  // namespace
}  // namespace kiln::cli
