#include "containers/container_monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "containers/container_log.h"
#include "containers/container_runner.h"
#include "containers/container_stop.h"
#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"
#include "support/signal_watch.h"

namespace kiln::containers {
namespace {

// The fd on which the monitor reports "ok" or "error CODE MESSAGE", then closes.
constexpr int kReadyFd = 3;

// `fd` moved to a number of at least 10 (close-on-exec), so that dup2 into 0-3
// in the child cannot clobber another source fd.
int high_fd(int fd) {
  int out = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return out;
}

}  // namespace

int run_monitor(llvm::StringRef root, const std::string& id,
                const std::function<void(const std::string& message)>& log_error) {
  int ready = kReadyFd;
  ::fcntl(ready, F_SETFD, FD_CLOEXEC);
  auto report = [&ready](const std::string& error, int code) {
    if (ready < 0) {
      return;
    }
    fs::write_all(ready, error.empty() ? "ok\n" : "error " + std::to_string(code) + " " + error);
    ::close(ready);
    ready = -1;
  };
  runtime::CancelToken cancel;
  SignalWatch signals({SIGTERM, SIGINT}, [&cancel](int) { cancel.cancel(); });
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  auto store = ContainerStore::open(root);
  if (!store) {
    report(error_message(store.takeError()), 125);
    return 1;
  }
  auto lock = FileLock::try_acquire(store->paths(id).monitor_lock());
  if (!lock || !*lock) {
    report(lock ? "the container is already running" : error_message(lock.takeError()), 125);
    return 1;
  }
  SessionOptions options;
  options.on_ready = report;
  options.cancel = &cancel;
  auto status = run_container_session(*store, id, options);
  if (!status) {
    auto error = to_start_error(status.takeError());
    report(error->message(), error->exit_code());
    log_error(error->message());
  }
  auto spec = store->load_spec(id);
  if (spec && spec->auto_remove) {
    lock->reset();
    llvm::consumeError(store->remove(id, KillFirst::no));
  } else if (!spec) {
    llvm::consumeError(spec.takeError());
  }
  return 0;
}

llvm::Error start_monitor(const ContainerStore& store, const std::string& id,
                          const std::vector<std::string>& argv_in) {
  ContainerPaths paths = store.paths(id);
  std::vector<std::string> args = argv_in;
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return make_io_error("create", "pipe", errno);
  }
  int ready_read = fds[0];
  int ready_write = high_fd(fds[1]);
  int null_fd = high_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  int log_fd = high_fd(
      ::open(paths.file("monitor.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (ready_write < 0 || null_fd < 0 || log_fd < 0) {
    return make_io_error("prepare", "monitor stdio", errno);
  }
  // Double fork: the monitor is nobody's child (no zombie, no terminal) and
  // lives on after this process. Between fork and exec only async-signal-safe calls.
  pid_t child = ::fork();
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) {
      ::_exit(0);
    }
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(log_fd, 2);
    ::dup2(ready_write, kReadyFd);
    // Nothing else of ours or of whoever started kiln stays open in the monitor.
    ::close_range(kReadyFd + 1, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD}) {
      ::signal(sig, SIG_DFL);
    }
    if (::chdir("/") != 0) {
      ::_exit(126);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(ready_write);
  ::close(null_fd);
  ::close(log_fd);
  if (child < 0) {
    ::close(ready_read);
    return make_io_error("start monitor for", id, fork_errno);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::string message;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(ready_read, buf, sizeof(buf))) != 0) {
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    message.append(buf, static_cast<size_t>(n));
  }
  ::close(ready_read);
  if (message == "ok\n") {
    return llvm::Error::success();
  }
  llvm::StringRef rest = message;
  if (rest.consume_front("error ")) {
    auto [number, text] = rest.split(' ');
    int code = 125;
    if (number.getAsInteger(10, code)) {
      code = 125;
    }
    return llvm::make_error<StartError>(text.str(), StartError::from_exit_code(code));
  }
  auto log = fs::read_file(paths.file("monitor.log"));
  std::string detail = log ? llvm::StringRef(*log).trim().str() : "";
  if (!log) {
    llvm::consumeError(log.takeError());
  }
  return llvm::make_error<StartError>("the container's monitor ended before the container started" +
                                          (detail.empty() ? std::string() : ": " + detail),
                                      StartFailure::other);
}

llvm::Expected<std::optional<int64_t>> start_container(const ContainerStore& store,
                                                       const std::string& id,
                                                       const std::vector<std::string>& argv) {
  ContainerPaths paths = store.paths(id);
  // Cleans up after a lost monitor; takes the op lock itself.
  if (auto state = store.current_state(id); !state) {
    return state.takeError();
  }
  auto op = FileLock::acquire(paths.op_lock());
  if (!op) {
    return op.takeError();
  }
  if (store.has_runner(id)) {
    return std::nullopt;
  }
  ::unlink(paths.stop_requested().c_str());
  struct stat st {};
  int64_t log_offset = ::stat(paths.log().c_str(), &st) == 0 ? st.st_size : 0;
  if (auto err = start_monitor(store, id, argv)) {
    return std::move(err);
  }
  return log_offset;
}

llvm::Expected<std::string> kiln_executable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) {
    return make_io_error("find", "/proc/self/exe", errno);
  }
  return std::string(buf, static_cast<size_t>(n));
}

llvm::Expected<std::vector<std::string>> monitor_argv(const ContainerStore& store,
                                                      const std::string& id) {
  auto self = kiln_executable();
  if (!self) {
    return self.takeError();
  }
  return std::vector<std::string>{*self, "--root", store.root(), kMonitorCommand, id};
}

llvm::Error start_created(const ContainerStore& store, const std::string& id) {
  auto op = FileLock::acquire(store.paths(id).op_lock());
  if (!op) {
    return op.takeError();
  }
  auto argv = monitor_argv(store, id);
  if (!argv) {
    return argv.takeError();
  }
  return start_monitor(store, id, *argv);
}

llvm::Expected<int> start_stopped(const ContainerStore& store, const std::string& id,
                                  Attach attach) {
  auto argv = monitor_argv(store, id);
  if (!argv) {
    return argv.takeError();
  }
  auto log_offset = start_container(store, id, *argv);
  if (!log_offset) {
    return log_offset.takeError();
  }
  if (!*log_offset || attach == Attach::no) {
    return 0;  // it ran already, or nothing to follow
  }
  LogReadOptions options;
  options.follow = true;
  options.from_offset = **log_offset;
  if (auto err = print_logs(store.paths(id).log(), options, [&] { return store.has_runner(id); })) {
    return std::move(err);
  }
  auto state = store.load_state(id);
  if (!state) {
    return state.takeError();
  }
  return state->exit_code;
}

llvm::Error restart_container(const ContainerStore& store, const std::string& id, int timeout_s) {
  if (auto err = stop_container(store, id, timeout_s)) {
    return err;
  }
  auto started = start_stopped(store, id, Attach::no);
  return started ? llvm::Error::success() : started.takeError();
}

}  // namespace kiln::containers
