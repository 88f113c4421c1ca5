// `kiln wait`, `rename`, `pause`, `unpause`, `top` and `stats --no-stream`.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/print_error.h"
#include "cli/store_open.h"
#include "containers/container_ops.h"
#include "support/error.h"

namespace kiln::cli {
namespace {

using containers::ContainerStore;

struct Names {
  std::vector<std::string> containers;
  std::vector<std::string> args;  // top's ps options
  bool no_stream = false;
};

// Runs `each` on every named container, printing errors; 1 when any failed.
template <typename F>
llvm::Expected<int> for_each(const GlobalOptions& globals, const std::vector<std::string>& names,
                             F each) {
  auto store = ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  int code = 0;
  for (const auto& name : names) {
    auto id = store->resolve(name);
    llvm::Error err = id ? each(*store, *id, name) : id.takeError();
    if (err) {
      print_error(std::move(err), std::cerr);
      code = 1;
    }
  }
  return code;
}

// go-units: binary units for memory ("1.5MiB"), decimal for I/O ("1.2kB").
std::string units(double value, bool binary) {
  const char* const binary_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  const char* const decimal_units[] = {"B", "kB", "MB", "GB", "TB"};
  double base = binary ? 1024 : 1000;
  int i = 0;
  while (value >= base && i < 4) {
    value /= base;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g%s", value, binary ? binary_units[i] : decimal_units[i]);
  return buf;
}

CommandBody setup_wait(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<Names>();
  sub.add_option("CONTAINER", flags->containers, "Containers to wait for")->required();
  return [flags, &globals]() {
    return for_each(
        globals, flags->containers,
        [](const ContainerStore& store, const std::string& id, const std::string&) -> llvm::Error {
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
    return for_each(globals, flags->containers,
                    [pause](const ContainerStore& store, const std::string& id,
                            const std::string& name) -> llvm::Error {
                      if (auto err = containers::pause_container(store, id, pause)) {
                        return err;
                      }
                      std::cout << name << "\n";
                      return llvm::Error::success();
                    });
  };
}

CommandBody setup_top(CLI::App& sub, const GlobalOptions& globals) {
  auto flags = std::make_shared<Names>();
  sub.add_option("CONTAINER", flags->containers, "Container")->required()->expected(1);
  sub.add_option("PS_OPTIONS", flags->args, "ps options (default -ef)");
  return [flags, &globals]() {
    return for_each(
        globals, flags->containers,
        [flags](const ContainerStore& store, const std::string& id,
                const std::string&) -> llvm::Error {
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
    int code = 0;
    for (const auto& name : names) {
      auto id = store->resolve(name);
      if (!id) {
        print_error(id.takeError(), std::cerr);
        code = 1;
        continue;
      }
      auto spec = store->load_spec(*id);
      auto stats = spec ? containers::container_stats(*store, *id)
                        : llvm::Expected<containers::ContainerStats>(spec.takeError());
      if (!stats) {
        print_error(stats.takeError(), std::cerr);
        code = 1;
        continue;
      }
      char cpu[32];
      char mem[32];
      std::snprintf(cpu, sizeof(cpu), "%.2f%%", stats->cpu_percent);
      std::snprintf(mem, sizeof(mem), "%.2f%%",
                    stats->memory_limit > 0 ? 100.0 * static_cast<double>(stats->memory_bytes) /
                                                  static_cast<double>(stats->memory_limit)
                                            : 0.0);
      rows.push_back({id->substr(0, 12), spec->name, cpu,
                      units(static_cast<double>(stats->memory_bytes), true) + " / " +
                          units(static_cast<double>(stats->memory_limit), true),
                      mem,
                      units(static_cast<double>(stats->net_rx), false) + " / " +
                          units(static_cast<double>(stats->net_tx), false),
                      units(static_cast<double>(stats->block_read), false) + " / " +
                          units(static_cast<double>(stats->block_write), false),
                      std::to_string(stats->pids)});
    }
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
