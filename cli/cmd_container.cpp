// The container lifecycle commands: `kiln stop`, `kill`, `start`, `restart`, `rm`.
// Each takes container names or (short) IDs and prints each one it handled, as
// docker does; an error for one container does not stop the others.
#include <iostream>

#include "cli/command.h"
#include "cli/each_name.h"
#include "cli/monitor_command.h"
#include "containers/container_log.h"
#include "containers/container_monitor.h"
#include "containers/container_stop.h"
#include "runtime/container_control.h"
#include "support/error.h"

namespace kiln::cli {

using containers::ContainerStore;
using containers::LogReadOptions;
using containers::print_logs;
using containers::remove_container;
using containers::stop_container;

namespace {

// Starts `id` unless it runs. With `attach`, follows its output until it exits
// and returns its exit code.
llvm::Expected<int> start_container(const ContainerStore& store, const std::string& id,
                                    bool attach) {
  auto argv = monitor_command(store, id);
  auto log_offset = argv ? containers::start_container(store, id, *argv)
                         : llvm::Expected<std::optional<int64_t>>(argv.takeError());
  if (!log_offset) {
    return log_offset.takeError();
  }
  if (!*log_offset) {
    return 0;  // it runs already
  }
  if (!attach) {
    return 0;
  }
  LogReadOptions options;
  options.follow = true;
  options.from_offset = **log_offset;
  if (auto err = print_logs(store.paths(id).log(), options, [&] { return store.has_runner(id); })) {
    return err;
  }
  auto state = store.load_state(id);
  if (!state) {
    return state.takeError();
  }
  return state->exit_code;
}

CommandBody setup_stop(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto timeout = std::make_shared<int>(-1);
  sub.add_option("-t,--time", *timeout, "Seconds to wait before killing the container");
  sub.add_option("containers", *names, "CONTAINER...")->required();
  return [names, timeout, &globals]() {
    return for_each_container(
        globals, *names, EchoName::yes,
        [&](const ContainerStore& store, const std::string& id) -> llvm::Error {
          int t = *timeout;
          if (t < 0) {
            auto spec = store.load_spec(id);
            if (!spec) {
              return spec.takeError();
            }
            t = spec->stop_timeout;
          }
          return stop_container(store, id, t);
        });
  };
}

CommandBody setup_kill(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto signal = std::make_shared<std::string>("KILL");
  sub.add_option("-s,--signal", *signal, "Signal to send to the container");
  sub.add_option("containers", *names, "CONTAINER...")->required();
  return [names, signal, &globals]() -> llvm::Expected<int> {
    auto number = runtime::parse_signal(*signal);
    if (!number) {
      return number.takeError();
    }
    return for_each_container(globals, *names, EchoName::yes,
                              [&](const ContainerStore& store, const std::string& id) {
                                return containers::kill_container(store, id, *number);
                              });
  };
}

CommandBody setup_start(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto attach = std::make_shared<bool>(false);
  sub.add_flag("-a,--attach", *attach, "Attach STDOUT/STDERR and forward signals");
  sub.add_option("containers", *names, "CONTAINER...")->required();
  return [names, attach, &globals]() -> llvm::Expected<int> {
    if (*attach) {
      if (names->size() != 1) {
        return llvm::make_error<UsageError>(
            "you cannot start and attach multiple containers at once");
      }
      auto store = ContainerStore::open(globals.root);
      if (!store) {
        return store.takeError();
      }
      auto id = store->resolve(names->front());
      if (!id) {
        return id.takeError();
      }
      return start_container(*store, *id, true);
    }
    return for_each_container(
        globals, *names, EchoName::yes,
        [](const ContainerStore& store, const std::string& id) -> llvm::Error {
          auto started = start_container(store, id, false);
          return started ? llvm::Error::success() : started.takeError();
        });
  };
}

CommandBody setup_restart(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto timeout = std::make_shared<int>(-1);
  sub.add_option("-t,--time", *timeout, "Seconds to wait before killing the container");
  sub.add_option("containers", *names, "CONTAINER...")->required();
  return [names, timeout, &globals]() {
    return for_each_container(
        globals, *names, EchoName::yes,
        [&](const ContainerStore& store, const std::string& id) -> llvm::Error {
          auto spec = store.load_spec(id);
          if (!spec) {
            return spec.takeError();
          }
          if (auto err = stop_container(store, id, *timeout < 0 ? spec->stop_timeout : *timeout)) {
            return err;
          }
          auto started = start_container(store, id, false);
          return started ? llvm::Error::success() : started.takeError();
        });
  };
}

CommandBody setup_rm(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  auto volumes = std::make_shared<bool>(false);
  sub.add_flag("-f,--force", *force, "Force the removal of a running container (uses SIGKILL)");
  sub.add_flag("-v,--volumes", *volumes, "Remove anonymous volumes associated with the container");
  sub.add_option("containers", *names, "CONTAINER...")->required();
  return [names, force, volumes, &globals]() {
    return for_each_container(globals, *names, EchoName::yes,
                              [&](const ContainerStore& store, const std::string& id) {
                                return remove_container(store, id, *force, *volumes);
                              });
  };
}

CommandRegistration stop_reg{{"stop", "Stop one or more running containers", setup_stop, 22}};
CommandRegistration kill_reg{{"kill", "Kill one or more running containers", setup_kill, 22}};
CommandRegistration start_reg{{"start", "Start one or more stopped containers", setup_start, 22}};
CommandRegistration restart_reg{{"restart", "Restart one or more containers", setup_restart, 22}};
CommandRegistration rm_reg{{"rm", "Remove one or more containers", setup_rm, 22}};

}  // namespace
}  // namespace kiln::cli
