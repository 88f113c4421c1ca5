#include "containers/container_runner.h"

#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cache/snapshot.h"
#include "containers/container_log.h"
#include "containers/container_mounts.h"
#include "containers/container_network.h"
#include "runtime/bundle.h"
#include "runtime/container_control.h"
#include "runtime/port_forward.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::containers {
namespace {

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kInitialBackoffMs = 100;
constexpr int64_t kMaxBackoffMs = 60 * 1000;
constexpr size_t kHealthLogEntries = 5;
constexpr size_t kHealthOutputBytes = 4096;

// The container's state as this process changes it, saved on every change.
// Thread-safe (the health checker updates it too).
class StateKeeper {
 public:
  StateKeeper(const ContainerStore& store, std::string id, ContainerState state)
      : store_(store), id_(std::move(id)), state_(std::move(state)) {}

  template <typename F>
  void update(F&& change) {
    std::lock_guard lock(mutex_);
    change(state_);
    llvm::consumeError(store_.save_state(id_, state_));
  }
  ContainerState get() {
    std::lock_guard lock(mutex_);
    return state_;
  }

 private:
  const ContainerStore& store_;
  std::string id_;
  std::mutex mutex_;
  ContainerState state_;
};

// Runs the image's HEALTHCHECK in the container on a thread, as docker does:
// "starting" until the first success (failures during the start period do not
// count), "unhealthy" after `retries` failures in a row.
class HealthChecker {
 public:
  HealthChecker(const oci::Healthcheck& check, runtime::ContainerControl control, std::string id,
                StateKeeper& keeper)
      : check_(check), control_(std::move(control)), id_(std::move(id)), keeper_(keeper) {
    started_ns_ = now_ns();
    thread_ = std::thread([this] { loop(); });
  }
  ~HealthChecker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  static int64_t or_default(int64_t value, int64_t fallback) {
    return value > 0 ? value : fallback;
  }

  std::vector<std::string> command() const {
    if (check_.test.size() >= 2 && check_.test[0] == "CMD-SHELL") {
      return {"/bin/sh", "-c", check_.test[1]};
    }
    return std::vector<std::string>(check_.test.begin() + 1, check_.test.end());
  }

  // Waits `ns`; false when stopped meanwhile.
  bool wait(int64_t ns) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, std::chrono::nanoseconds(ns), [this] { return stop_; });
  }

  void loop() {
    int64_t interval = or_default(check_.interval, 30 * kSecond);
    int64_t timeout = or_default(check_.timeout, 30 * kSecond);
    int64_t start_interval = or_default(check_.start_interval, 5 * kSecond);
    int retries = check_.retries > 0 ? check_.retries : 3;
    bool ever_healthy = false;
    while (true) {
      bool in_start_period = now_ns() - started_ns_ < check_.start_period;
      if (!wait(in_start_period && !ever_healthy ? std::min(start_interval, interval) : interval)) {
        return;
      }
      runtime::ExecRequest request;
      request.args = command();
      HealthProbe probe;
      probe.start_ns = now_ns();
      auto result = control_.exec_capture(id_, request, timeout / 1000000, kHealthOutputBytes);
      probe.end_ns = now_ns();
      if (result) {
        probe.exit_code = result->timed_out ? -1 : result->status.code();
        probe.output = result->timed_out ? "Health check exceeded timeout" : result->output;
      } else {
        probe.exit_code = -1;
        probe.output = error_message(result.takeError());
      }
      bool counts = !(now_ns() - started_ns_ < check_.start_period && !ever_healthy);
      ever_healthy = ever_healthy || probe.exit_code == 0;
      keeper_.update([&](ContainerState& state) {
        HealthState& h = state.health;
        h.log.push_back(probe);
        if (h.log.size() > kHealthLogEntries) {
          h.log.erase(h.log.begin());
        }
        if (probe.exit_code == 0) {
          h.status = "healthy";
          h.failing_streak = 0;
        } else if (counts) {
          h.failing_streak++;
          if (h.failing_streak >= retries) {
            h.status = "unhealthy";
          }
        }
      });
    }
  }

  oci::Healthcheck check_;
  runtime::ContainerControl control_;
  std::string id_;
  StateKeeper& keeper_;
  int64_t started_ns_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

bool should_restart(const ContainerSpec& spec, const ContainerState& state,
                    const ContainerPaths& paths) {
  if (fs::exists(paths.stop_requested())) {
    return false;
  }
  switch (spec.restart.mode) {
    case RestartPolicy::Mode::no:
      return false;
    case RestartPolicy::Mode::always:
    case RestartPolicy::Mode::unless_stopped:
      return true;
    case RestartPolicy::Mode::on_failure:
      return state.exit_code != 0 &&
             (spec.restart.max_retries == 0 || state.restart_count < spec.restart.max_retries);
  }
  return false;
}

// Sleeps `ms` in slices; false when a stop was requested or `cancel` fired.
bool backoff_sleep(int64_t ms, const ContainerPaths& paths, const runtime::CancelToken* cancel) {
  for (int64_t slept = 0; slept < ms; slept += 20) {
    if ((cancel && cancel->cancelled()) || fs::exists(paths.stop_requested())) {
      return false;
    }
    ::usleep(20 * 1000);
  }
  return true;
}

// The published ports of `spec`, listening (in the caller's network namespace),
// forwarding to `target_ip` in the container's.
llvm::Expected<std::vector<std::unique_ptr<runtime::PortForwarder>>> publish(
    const ContainerSpec& spec, const std::string& target_ip) {
  std::vector<std::unique_ptr<runtime::PortForwarder>> out;
  for (const PublishedPort& p : spec.ports) {
    std::string target = target_ip.empty() ? "127.0.0.1" : target_ip;
    auto f =
        p.protocol == "udp"
            ? runtime::PortForwarder::start_udp(p.host_ip, p.host_port, p.container_port, target)
            : runtime::PortForwarder::start(p.host_ip, p.host_port, p.container_port, target);
    if (!f) {
      return f.takeError();
    }
    out.push_back(std::move(*f));
  }
  return out;
}

// One run_container_session(): what it set up, torn down by the destructor
// (the snapshot is unmounted and kept in place).
class Session {
 public:
  Session(const ContainerStore& store, std::string id, const SessionOptions& options,
          ContainerSpec spec, ContainerState state)
      : store_(store),
        id_(std::move(id)),
        paths_(store.paths(id_)),
        options_(options),
        spec_(std::move(spec)),
        keeper_(store, id_, std::move(state)) {}
  ~Session() {
    forwarders_.clear();
    release_network();
    if (snapshot_) {
      llvm::consumeError(snapshot_->persist(paths_.snapshot()));
    }
  }

  // Mounts the snapshot, publishes the ports, opens the runtime and the log.
  llvm::Error prepare() {
    auto snapshots = cache::SnapshotStore::open(store_.root());
    if (!snapshots) {
      return snapshots.takeError();
    }
    auto snapshot = snapshots->open_mutable(paths_.snapshot());
    if (!snapshot) {
      return snapshot.takeError();
    }
    snapshot_.emplace(std::move(*snapshot));
    unmount_rootfs(paths_);  // a mount left by a monitor that was killed
    snapshot_->set_durability(cache::Durability::volatile_);
    if (auto err = snapshot_->mount(paths_.rootfs())) {
      return err;
    }
    if (keeper_.get().started_ns == 0) {
      seed_volumes(spec_, paths_.rootfs());  // new volumes get the image's content
    }
    auto joined = join_networks(store_, spec_);
    if (!joined) {
      return joined.takeError();
    }
    network_ = std::move(*joined);
    joined_ = true;
    auto forwarders = publish(spec_, network_.ip);
    if (!forwarders) {
      return forwarders.takeError();
    }
    forwarders_ = std::move(*forwarders);
    runtime::ExecutorOptions exec_options = container_runtime(store_.root());
    exec_options.state_dir = paths_.runtime_state();
    auto executor = runtime::make_oci_executor(exec_options);
    if (!executor) {
      return executor.takeError();
    }
    executor_ = std::move(*executor);
    auto control = runtime::ContainerControl::open(exec_options);
    if (!control) {
      return control.takeError();
    }
    control_.emplace(std::move(*control));
    if (!options_.foreground) {
      auto log = LogWriter::open(paths_.log(), spec_.log_max_size);
      if (!log) {
        return log.takeError();
      }
      log_.emplace(std::move(*log));
    }
    keeper_.update([&](ContainerState& s) {
      s.monitor_pid = static_cast<int>(::getpid());
      s.host_ports.clear();
      for (const auto& f : forwarders_) {
        s.host_ports.push_back(f->host_port());
      }
    });
    return llvm::Error::success();
  }

  // Runs the process until it ends for good (restarts included).
  llvm::Expected<runtime::ExitStatus> run() {
    int64_t backoff_ms = kInitialBackoffMs;
    runtime::ExitStatus last;
    while (true) {
      int64_t started_ns = now_ns();
      auto status = run_once();
      if (!status) {
        return fail(status.takeError());
      }
      last = *status;
      keeper_.update([&](ContainerState& s) {
        s.exit_code = last.code();
        s.pid = 0;
        s.finished_ns = now_ns();
      });
      if (cancelled() || options_.foreground || !should_restart(spec_, keeper_.get(), paths_)) {
        break;
      }
      keeper_.update([&](ContainerState& s) {
        s.status = ContainerStatus::restarting;
        s.restart_count++;
      });
      if (now_ns() - started_ns >= 10 * kSecond) {
        backoff_ms = kInitialBackoffMs;
      }
      if (!backoff_sleep(backoff_ms, paths_, options_.cancel)) {
        break;
      }
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
    }
    forwarders_.clear();
    release_network();
    llvm::consumeError(snapshot_->unmount());
    keeper_.update([&](ContainerState& s) {
      s.status = ContainerStatus::exited;
      s.pid = 0;
      s.host_ports.clear();
    });
    if (cancelled()) {
      return llvm::make_error<CancelledError>();
    }
    return last;
  }

  // Records that the container could not be started and reports it.
  llvm::Error fail(llvm::Error err) {
    auto start = to_start_error(std::move(err));
    std::string message = start->message();
    int code = start->exit_code();
    keeper_.update([&](ContainerState& s) {
      s.error = message;
      s.exit_code = code;
      s.pid = 0;
      s.host_ports.clear();
      if (s.status != ContainerStatus::created) {
        s.status = ContainerStatus::exited;
        s.finished_ns = now_ns();
      }
    });
    report(message, code);
    return llvm::Error(std::move(start));
  }

 private:
  bool cancelled() const { return options_.cancel && options_.cancel->cancelled(); }

  void release_network() {
    if (joined_) {
      joined_ = false;
      leave_networks(store_, id_);
    }
  }

  void report(const std::string& error, int code) {
    if (!reported_ && options_.on_ready) {
      reported_ = true;
      options_.on_ready(error, code);
    }
  }

  // One run of the process; a cancelled run counts as killed.
  llvm::Expected<runtime::ExitStatus> run_once() {
    runtime::RunRequest request;
    request.rootfs = paths_.rootfs();
    request.process = spec_.process;
    request.process.netns_path = network_.netns_path;
    request.process.hosts_path = network_.hosts_path;
    if (network_.hosts_path.empty() && !spec_.extra_hosts.empty()) {
      std::string hostname =
          spec_.process.hostname.empty() ? id_.substr(0, 12) : spec_.process.hostname;
      std::string hosts = request.process.hosts.value_or(runtime::default_hosts(hostname));
      for (llvm::StringRef entry : spec_.extra_hosts) {
        auto [name, ip] = entry.split(':');
        hosts += ip.str() + "\t" + name.str() + "\n";
      }
      request.process.hosts = hosts;
    }
    request.container_id = id_;
    if (options_.foreground) {
      request.stdio.stdin_fd = options_.attach_stdin ? 0 : -1;
      request.stdio.stdout_fd = 1;
      request.stdio.stderr_fd = 2;
    } else {
      request.stdio.on_output = [this](runtime::OutputStream stream, llvm::StringRef line) {
        log_->append(stream, line);
      };
    }
    std::unique_ptr<HealthChecker> health;
    request.on_started = [&](const runtime::StartedContainer& started) {
      on_started(started.pid);
      if (spec_.healthcheck) {
        health = std::make_unique<HealthChecker>(*spec_.healthcheck, *control_, id_, keeper_);
      }
    };
    auto status = executor_->run(request, options_.cancel);
    health.reset();
    for (auto& f : forwarders_) {
      llvm::consumeError(f->set_target(0));
    }
    if (!status && cancelled()) {
      llvm::consumeError(status.takeError());
      return runtime::ExitStatus{0, SIGKILL};
    }
    return status;
  }

  void on_started(int pid) {
    ::unlink(paths_.paused().c_str());  // a new process is not frozen
    keeper_.update([&](ContainerState& s) {
      s.status = ContainerStatus::running;
      s.pid = pid;
      s.started_ns = now_ns();
      s.error.clear();
      s.exit_code = 0;  // as docker: a running container has no exit code yet
      if (spec_.healthcheck) {
        s.health.status = "starting";
        s.health.failing_streak = 0;
      }
    });
    for (auto& f : forwarders_) {
      llvm::consumeError(f->set_target(pid));
    }
    report("", 0);
  }

  const ContainerStore& store_;
  std::string id_;
  ContainerPaths paths_;
  const SessionOptions& options_;
  ContainerSpec spec_;
  StateKeeper keeper_;
  std::optional<cache::MutableSnapshot> snapshot_;
  std::vector<std::unique_ptr<runtime::PortForwarder>> forwarders_;
  std::unique_ptr<runtime::Executor> executor_;
  std::optional<runtime::ContainerControl> control_;
  std::optional<LogWriter> log_;
  JoinedNetwork network_;
  bool joined_ = false;
  bool reported_ = false;
};

}  // namespace

llvm::Expected<runtime::ExitStatus> run_container_session(const ContainerStore& store,
                                                          const std::string& id,
                                                          const SessionOptions& options) {
  auto spec = store.load_spec(id);
  auto state = spec ? store.load_state(id) : llvm::Expected<ContainerState>(spec.takeError());
  if (!state) {
    auto start = to_start_error(state.takeError());
    if (options.on_ready) {
      options.on_ready(start->message(), start->exit_code());
    }
    return llvm::Error(std::move(start));
  }
  Session session(store, id, options, std::move(*spec), std::move(*state));
  if (auto err = session.prepare()) {
    return session.fail(std::move(err));
  }
  return session.run();
}

}  // namespace kiln::containers
