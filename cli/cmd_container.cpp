// The container lifecycle commands: `kiln stop`, `kill`, `start`, `restart`, `rm`.
// Each takes container names or (short) IDs and prints each one it handled, as
// docker does; an error for one container does not stop the others.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>

#include "cli/command.h"
#include "cli/monitor_command.h"
#include "cli/print_error.h"
#include "containers/container_log.h"
#include "containers/container_stop.h"
#include "runtime/container_control.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cli {

using containers::container_runtime;
using containers::ContainerPaths;
using containers::ContainerStatus;
using containers::ContainerStore;
using containers::LogReadOptions;
using containers::print_logs;
using containers::remove_container;
using containers::request_stop;
using containers::stop_container;

namespace {

// Starts `id` unless it runs. With `attach`, follows its output until it exits
// and returns its exit code.
llvm::Expected<int> start_container(const ContainerStore& store, const std::string& id,
                                    bool attach) {
  ContainerPaths paths = store.paths(id);
  int64_t log_offset = 0;
  {
    // Cleans up after a lost monitor; takes the op lock itself.
    if (auto state = store.current_state(id); !state) {
      return state.takeError();
    }
    auto op = FileLock::acquire(paths.op_lock());
    if (!op) {
      return op.takeError();
    }
    if (store.has_runner(id)) {
      return 0;
    }
    ::unlink(paths.stop_requested().c_str());
    struct stat st {};
    if (::stat(paths.log().c_str(), &st) == 0) {
      log_offset = st.st_size;
    }
    if (auto err = start_monitor(store, id)) {
      return std::move(err);
    }
  }
  if (!attach) {
    return 0;
  }
  LogReadOptions options;
  options.follow = true;
  options.from_offset = log_offset;
  if (auto err = print_logs(paths.log(), options, [&] { return store.has_runner(id); })) {
    return err;
  }
  auto state = store.load_state(id);
  if (!state) {
    return state.takeError();
  }
  return state->exit_code;
}

// Runs `action` on each of `names`, printing the name on success and the error
// otherwise; the exit code is 1 when any failed.
llvm::Expected<int> for_each_container(
    const GlobalOptions& globals, const std::vector<std::string>& names,
    const std::function<llvm::Error(const ContainerStore&, const std::string&)>& action) {
  auto store = ContainerStore::open(globals.root);
  if (!store) {
    return store.takeError();
  }
  int code = 0;
  for (const std::string& name : names) {
    auto id = store->resolve(name);
    llvm::Error err = id ? action(*store, *id) : id.takeError();
    if (err) {
      code = print_error(std::move(err), std::cerr);
      continue;
    }
    std::cout << name << "\n";
    std::cout.flush();
  }
  return code;
}

CommandBody setup_stop(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto timeout = std::make_shared<int>(-1);
  sub.add_option("-t,--time", *timeout, "Seconds to wait before killing the container");
  sub.add_option("containers", *names, "CONTAINER...")->required();
  return [names, timeout, &globals]() {
    return for_each_container(
        globals, *names, [&](const ContainerStore& store, const std::string& id) -> llvm::Error {
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
    return for_each_container(
        globals, *names, [&](const ContainerStore& store, const std::string& id) -> llvm::Error {
          auto state = store.current_state(id);
          if (!state) {
            return state.takeError();
          }
          if (state->status != ContainerStatus::running || !store.has_runner(id)) {
            return make_error("cannot kill container: " + id + ": container " + id +
                              " is not running");
          }
          auto spec = store.load_spec(id);
          auto stop = spec ? runtime::parse_signal(spec->stop_signal)
                           : llvm::Expected<int>(spec.takeError());
          if (!stop) {
            return stop.takeError();
          }
          // Signals that end a process count as a stop by the user: no restart.
          if (*number == SIGKILL || *number == SIGTERM || *number == SIGINT || *number == *stop) {
            request_stop(store.paths(id));
          }
          auto ctl = containers::control(store);
          if (!ctl) {
            return ctl.takeError();
          }
          return ctl->kill(id, *number);
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
        globals, *names, [](const ContainerStore& store, const std::string& id) -> llvm::Error {
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
        globals, *names, [&](const ContainerStore& store, const std::string& id) -> llvm::Error {
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
    return for_each_container(globals, *names,
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
