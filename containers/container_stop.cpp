#include "containers/container_stop.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

#include "support/error.h"

namespace kiln::containers {
namespace {

constexpr int kPollMs = 10;
constexpr int kKillWaitMs = 10000;

}  // namespace

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

void request_stop(const ContainerPaths& paths) {
  int fd = ::open(paths.stop_requested().c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
  }
}

llvm::Expected<runtime::ContainerControl> control(const ContainerStore& store) {
  return runtime::ContainerControl::open(container_runtime(store.root()));
}

llvm::Error stop_container(const ContainerStore& store, const std::string& id, int timeout_s) {
  auto spec = store.load_spec(id);
  if (!spec) {
    return spec.takeError();
  }
  if (timeout_s < 0) {
    timeout_s = spec->stop_timeout;
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

llvm::Error remove_container(const ContainerStore& store, const std::string& id, bool force,
                             bool anonymous_volumes) {
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
  return store.remove(id, KillFirst::yes, anonymous_volumes);
}

llvm::Error kill_container(const ContainerStore& store, const std::string& id, int signal) {
  auto state = store.current_state(id);
  if (!state) {
    return state.takeError();
  }
  if (state->status != ContainerStatus::running || !store.has_runner(id)) {
    return make_error("cannot kill container: " + id + ": container " + id + " is not running");
  }
  auto spec = store.load_spec(id);
  auto stop =
      spec ? runtime::parse_signal(spec->stop_signal) : llvm::Expected<int>(spec.takeError());
  if (!stop) {
    return stop.takeError();
  }
  if (signal == SIGKILL || signal == SIGTERM || signal == SIGINT || signal == *stop) {
    request_stop(store.paths(id));
  }
  auto ctl = control(store);
  if (!ctl) {
    return ctl.takeError();
  }
  return ctl->kill(id, signal);
}

}  // namespace kiln::containers
