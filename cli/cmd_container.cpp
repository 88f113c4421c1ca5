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
#include "cli/container_log.h"
#include "cli/container_monitor.h"
#include "cli/print_error.h"
#include "runtime/container_control.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::cli {
namespace {

constexpr int kPollMs = 10;
constexpr int kKillWaitMs = 10000;

// Waits up to `timeout_ms` (negative: forever) until nothing runs container `id`.
bool wait_for_exit(const ContainerStore& store, const std::string& id, int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (store.has_runner(id)) {
    if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    ::usleep(kPollMs * 1000);
  }
  return true;
}

// Marks the container as stopped by the user, so that its monitor does not
// restart it.
void request_stop(const ContainerPaths& paths) {
  int fd = ::open(paths.stop_requested().c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
  }
}

llvm::Expected<runtime::ContainerControl> control(const ContainerStore& store) {
  return runtime::ContainerControl::open(container_runtime(store.root()));
}

// Stops `id`: its stop signal (or `signal`), then SIGKILL after `timeout_s`.
llvm::Error stop_container(const ContainerStore& store, const std::string& id, int timeout_s) {
  auto spec = store.load_spec(id);
  if (!spec) {
    return spec.takeError();
  }
  request_stop(store.paths(id));
  if (!store.has_runner(id)) {
    return llvm::Error::success();
  }
  auto ctl = control(store);
  if (!ctl) {
    return ctl.takeError();
  }
  auto signal = runtime::parse_signal(spec->stop_signal);
  if (!signal) {
    return signal.takeError();
  }
  auto state = store.load_state(id);
  if (state && state->status == ContainerStatus::running) {
    // It may exit meanwhile: the wait below tells.
    llvm::consumeError(ctl->kill(id, *signal));
  } else if (!state) {
    llvm::consumeError(state.takeError());
  }
  if (wait_for_exit(store, id, static_cast<int64_t>(timeout_s) * 1000)) {
    return llvm::Error::success();
  }
  llvm::consumeError(ctl->kill(id, SIGKILL));
  if (!wait_for_exit(store, id, kKillWaitMs)) {
    return make_error("cannot stop container " + quote(id) + ": it did not exit after SIGKILL");
  }
  return llvm::Error::success();
}

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
    auto started = start_monitor(store, id);
    if (!started) {
      return started.takeError();
    }
    if (!started->error.empty()) {
      return make_error(started->error);
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

// Removes `id`; a running container only with `force` (killed first).
llvm::Error remove_container(const ContainerStore& store, const std::string& id, bool force) {
  ContainerPaths paths = store.paths(id);
  auto op = FileLock::acquire(paths.op_lock());
  if (!op) {
    return op.takeError();
  }
  if (store.has_runner(id)) {
    auto spec = store.load_spec(id);
    std::string name = spec ? spec->name : id;
    if (!spec) {
      llvm::consumeError(spec.takeError());
    }
    if (!force) {
      return make_error("cannot remove container \"/" + name +
                        "\": container is running: stop the container before removing or force "
                        "remove");
    }
    request_stop(paths);
    auto ctl = control(store);
    if (!ctl) {
      return ctl.takeError();
    }
    llvm::consumeError(ctl->kill(id, SIGKILL));
    if (!wait_for_exit(store, id, kKillWaitMs)) {
      return make_error("cannot remove container \"/" + name + "\": it did not stop");
    }
  }
  return store.remove(id);
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
          auto ctl = control(store);
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
  sub.add_flag("-v,--volumes", *volumes,
               "Remove anonymous volumes associated with the container (kiln makes none)");
  sub.add_option("containers", *names, "CONTAINER...")->required();
  return [names, force, &globals]() {
    return for_each_container(globals, *names,
                              [&](const ContainerStore& store, const std::string& id) {
                                return remove_container(store, id, *force);
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
