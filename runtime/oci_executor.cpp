// The Executor for OCI runtimes (runc, crun): writes a bundle in a state dir, then
// `run --detach` (stdio handed to the container), waits for the container's
// first process as its subreaper, `delete`. See executor.h.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <random>

#include <llvm/Support/Program.h>
#include <nlohmann/json.hpp>

#include "runtime/binfmt.h"
#include "runtime/bundle.h"
#include "runtime/console_socket.h"
#include "runtime/executor.h"
#include "runtime/io_pump.h"
#include "runtime/rootfs_path.h"
#include "runtime/run_owner.h"
#include "runtime/spawn.h"
#include "runtime/user.h"
#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"

namespace kiln::runtime {
namespace {

// A run's state dir younger than this may not be locked by its owner yet.
constexpr int64_t kReclaimMinAgeSeconds = 10;

std::string new_container_id() {
  static const char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string id;
  for (int i = 0; i < 32; ++i) {
    id += kHex[device() % 16];
  }
  return id;
}

// The last "error" message of a runtime's JSON log (runc and crun both write one
// {"level":..., "msg":...} object per line).
std::string last_log_error(llvm::StringRef log_path) {
  auto text = fs::read_file(log_path);
  if (!text) {
    llvm::consumeError(text.takeError());
    return "";
  }
  std::string message;
  llvm::SmallVector<llvm::StringRef, 16> lines;
  llvm::StringRef(*text).split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines) {
    auto entry = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (entry.is_object() && entry.value("level", "") == "error" && entry.contains("msg") &&
        entry["msg"].is_string()) {
      message = entry["msg"].get<std::string>();
    }
  }
  return message;
}

// Writes a bundle file. No fsync: the state dir lives only as long as the run.
llvm::Error write_state_file(const std::string& path, llvm::StringRef content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) {
    return make_io_error("create", path, errno);
  }
  while (!content.empty()) {
    ssize_t n = ::write(fd.get(), content.data(), content.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return make_io_error("write", path, errno);
    }
    content = content.drop_front(static_cast<size_t>(n));
  }
  return llvm::Error::success();
}

class OciExecutor;

// One run's state dir and container; destruction deletes the container (if it was
// created), removes the mount stubs and the state dir, then unlocks the dir and
// releases the guard that would delete the container had this process died.
class ContainerRun {
 public:
  ContainerRun(const OciExecutor& executor, std::string id, std::string dir)
      : executor_(executor), id_(std::move(id)), dir_(std::move(dir)) {}
  ~ContainerRun();
  const std::string& id() const { return id_; }
  std::string file(llvm::StringRef name) const { return fs::join(dir_, name); }

  bool created = false;
  int pid = 0;
  std::vector<std::string> stubs;
  std::string console_dir;       // a temp dir in /tmp for the console socket, if any
  std::optional<FileLock> lock;  // on dir_ while this process owns the run
  OwnerGuard guard;              // deletes the container if this process dies

 private:
  const OciExecutor& executor_;
  std::string id_;
  std::string dir_;
};

class OciExecutor : public Executor {
 public:
  OciExecutor(ExecutorOptions options, std::string binary)
      : options_(std::move(options)), binary_(std::move(binary)) {}

  llvm::Expected<ExitStatus> run(const RunRequest& request, const CancelToken* cancel) override;
  llvm::StringRef name() const override {
    return options_.kind == RuntimeKind::crun ? "crun" : "runc";
  }

  // argv for a runtime subcommand: binary, global flags, `args`.
  std::vector<std::string> command(std::vector<std::string> args,
                                   const ContainerRun* run = nullptr) const;
  // Deletes the containers and state dirs of runs whose owner died.
  void reclaim() const;

 private:
  llvm::Error write_bundle(const RunRequest& request, ContainerRun& run) const;
  llvm::Error create(const RunRequest& request, ContainerRun& run, Pipe* out, Pipe* err,
                     UniqueFd* master) const;
  llvm::Error create_error(ContainerRun& run, llvm::StringRef output) const;
  llvm::Expected<ExitStatus> wait(const RunRequest& request, ContainerRun& run, Pipe* out,
                                  Pipe* err, UniqueFd* master, const CancelToken* cancel) const;

  ExecutorOptions options_;
  std::string binary_;
  uint64_t nofile_limit_ = host_nofile_limit();
};

ContainerRun::~ContainerRun() {
  if (created) {
    auto result = run_command(executor_.command({"delete", "--force", id_}));
    if (!result) {
      llvm::consumeError(result.takeError());
    }
  }
  remove_mount_stubs(stubs);
  llvm::consumeError(fs::remove_all(dir_));
  if (!console_dir.empty()) {
    llvm::consumeError(fs::remove_all(console_dir));
  }
}

std::vector<std::string> OciExecutor::command(std::vector<std::string> args,
                                              const ContainerRun* run) const {
  std::vector<std::string> argv = {binary_};
  if (!options_.runtime_root.empty()) {
    argv.push_back("--root");
    argv.push_back(options_.runtime_root);
  }
  if (run) {
    argv.insert(argv.end(), {"--log", run->file("runtime.log"), "--log-format", "json"});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

llvm::Error OciExecutor::write_bundle(const RunRequest& request, ContainerRun& run) const {
  const ProcessSpec& process = request.process;
  auto user = resolve_user_in_rootfs(request.rootfs, process.user);
  if (!user) {
    return user.takeError();
  }
  std::string hostname = process.hostname.empty() ? run.id().substr(0, 12) : process.hostname;
  std::string resolv;
  if (process.resolv_conf) {
    resolv = *process.resolv_conf;
  } else if (auto host = fs::read_file("/etc/resolv.conf")) {
    resolv = std::move(*host);
  } else {
    llvm::consumeError(host.takeError());
  }
  BundleConfig config{
      request.rootfs,
      &process,
      *user,
      hostname,
      complete_env(process.env, process.hostname_env ? hostname : "", user->home, process.tty),
      process.hosts_path.empty() ? run.file("hosts") : process.hosts_path,
      run.file("resolv.conf"),
      run.file("hostname"),
      nofile_limit_};
  std::vector<std::pair<std::string, std::string>> files = {
      {config.resolv_conf_file, resolv},
      {config.hostname_file, hostname + "\n"},
      {run.file("config.json"), make_runtime_config(config)}};
  if (process.hosts_path.empty()) {
    files.emplace_back(config.hosts_file, process.hosts.value_or(default_hosts(hostname)));
  }
  for (const auto& [path, content] : files) {
    if (auto err = write_state_file(path, content)) {
      return err;
    }
  }
  std::string cwd = process.cwd.empty() ? "/" : process.cwd;
  if (auto err = make_dirs_in_rootfs(request.rootfs, cwd, user->uid, user->gid)) {
    return with_context(std::move(err), "create working directory " + quote(cwd));
  }
  run.stubs = missing_mount_stubs(request.rootfs, mount_destinations(process));
  return llvm::Error::success();
}

llvm::Error OciExecutor::create_error(ContainerRun& run, llvm::StringRef output) const {
  std::string message = last_log_error(run.file("runtime.log"));
  if (message.empty()) {
    message = output.trim().str();
  }
  if (options_.kind == RuntimeKind::crun &&
      llvm::StringRef(message).contains("hybrid mode not supported")) {
    return llvm::make_error<StartError>(
        "crun cannot run on this host's hybrid cgroup v1/v2 layout; use runc (the default)",
        StartFailure::other);
  }
  return llvm::make_error<StartError>(
      (name() + " run: " + (message.empty() ? "failed" : message)).str(),
      start_failure_of(message));
}

llvm::Error OciExecutor::create(const RunRequest& request, ContainerRun& run, Pipe* out, Pipe* err,
                                UniqueFd* master) const {
  const Stdio& stdio = request.stdio;
  // `run --detach` is create and start in one runtime process (one Go start-up
  // less per container than `create` + `start`); it returns once the process runs.
  std::vector<std::string> args = {"run",        "--detach",   "--bundle",
                                   run.file(""), "--pid-file", run.file("pid")};
  std::optional<ConsoleSocket> console;
  if (request.process.tty) {
    // A unix socket path has at most 107 bytes: deep state dirs use one in /tmp.
    std::string path = run.file("console.sock");
    if (path.size() >= 100) {
      auto dir = fs::make_temp_dir("/tmp", "kiln-tty-");
      if (!dir) {
        return dir.takeError();
      }
      run.console_dir = *dir;
      path = fs::join(*dir, "sock");
    }
    auto socket = ConsoleSocket::listen(path);
    if (!socket) {
      return socket.takeError();
    }
    console.emplace(std::move(*socket));
    args.insert(args.end(), {"--console-socket", console->path()});
  }
  args.push_back(run.id());
  // Without a tty the container keeps create's stdio: our pipes or the caller's fds.
  int in = request.process.tty ? -1 : stdio.stdin_fd;
  int out_fd = stdio.stdout_fd >= 0 ? stdio.stdout_fd : out->write.get();
  int err_fd = stdio.stderr_fd >= 0 ? stdio.stderr_fd : err->write.get();
  auto pid = spawn_process(command(args, &run), in, out_fd, err_fd);
  if (!pid) {
    return pid.takeError();
  }
  out->write.reset();
  err->write.reset();
  int status = wait_process(*pid);
  run.created = true;  // even a failed create may leave a container to delete
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string output;
    char buf[4096];
    ssize_t n;
    ::fcntl(err->read.get(), F_SETFL, O_NONBLOCK);
    while ((n = ::read(err->read.get(), buf, sizeof(buf))) > 0) {
      output.append(buf, static_cast<size_t>(n));
    }
    return create_error(run, output);
  }
  auto pid_text = fs::read_file(run.file("pid"));
  if (!pid_text) {
    return pid_text.takeError();
  }
  if (llvm::StringRef(*pid_text).trim().getAsInteger(10, run.pid) || run.pid <= 0) {
    return make_error(name() + " run: bad pid file " + quote(*pid_text));
  }
  if (console) {
    auto received = console->receive_master(10000);
    if (!received) {
      return received.takeError();
    }
    *master = std::move(*received);
    winsize size{};
    if (stdio.stdin_fd >= 0 && ::ioctl(stdio.stdin_fd, TIOCGWINSZ, &size) == 0) {
      ::ioctl(master->get(), TIOCSWINSZ, &size);
    }
  }
  return llvm::Error::success();
}

llvm::Expected<ExitStatus> OciExecutor::wait(const RunRequest& request, ContainerRun& run,
                                             Pipe* out, Pipe* err, UniqueFd* master,
                                             const CancelToken* cancel) const {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, run.pid, 0)));
  if (!pidfd) {
    return make_io_error("watch container process", std::to_string(run.pid), errno);
  }
  PumpFds fds;
  fds.out = out->read.get();
  fds.err = err->read.get();
  fds.master = master->get();
  fds.stdin_fd = master->get() >= 0 ? request.stdio.stdin_fd : -1;
  fds.stdout_fd = request.stdio.stdout_fd;
  fds.process = pidfd.get();
  if (pump_io(fds, request.stdio.on_output, cancel) == PumpEnd::cancelled) {
    auto killed = run_command(command({"kill", run.id(), "KILL"}));
    if (!killed) {
      llvm::consumeError(killed.takeError());
    }
    wait_process(run.pid);
    return llvm::make_error<CancelledError>();
  }
  int status = wait_process(run.pid);
  if (status == -1) {
    return make_error("wait for container process " + std::to_string(run.pid) +
                      ": not a child of kiln");
  }
  if (WIFSIGNALED(status)) {
    return ExitStatus{0, WTERMSIG(status)};
  }
  return ExitStatus{WEXITSTATUS(status), 0};
}

llvm::Expected<ExitStatus> OciExecutor::run(const RunRequest& request, const CancelToken* cancel) {
  if (request.process.args.empty()) {
    return make_error("run container: no command given");
  }
  if (!request.process.platform.empty()) {
    if (auto err = check_platform_runnable(request.process.platform)) {
      return std::move(err);
    }
  }
  std::string id = request.container_id.empty() ? new_container_id() : request.container_id;
  std::string dir = fs::join(options_.state_dir, id);
  if (auto err = fs::make_dirs(dir, 0700)) {
    return err;
  }
  ContainerRun run(*this, id, dir);
  auto lock = FileLock::acquire(dir, LockMode::exclusive, LockTarget::directory);
  if (!lock) {
    return lock.takeError();
  }
  run.lock = std::move(*lock);
  auto guard = OwnerGuard::start(command({"state", id}), command({"delete", "--force", id}));
  if (!guard) {
    return guard.takeError();
  }
  run.guard = std::move(*guard);
  if (auto err = write_bundle(request, run)) {
    return err;
  }
  if (cancel && cancel->cancelled()) {
    return llvm::make_error<CancelledError>();
  }
  auto out = make_pipe();
  auto err = make_pipe();
  if (!out || !err) {
    return llvm::joinErrors(out.takeError(), err.takeError());
  }
  UniqueFd master;
  if (auto e = create(request, run, &*out, &*err, &master)) {
    return e;
  }
  run.guard.started(run.pid);
  if (request.on_started) {
    request.on_started(StartedContainer{run.id(), run.pid});
  }
  return wait(request, run, &*out, &*err, &master, cancel);
}

void OciExecutor::reclaim() const {
  reclaim_dead_runs(options_.state_dir,
                    options_.runtime_root_exclusive ? options_.runtime_root : "",
                    kReclaimMinAgeSeconds, [this](const std::string& id) {
                      auto result = run_command(command({"delete", "--force", id}));
                      if (!result) {
                        llvm::consumeError(result.takeError());
                      }
                    });
}

}  // namespace

StartFailure start_failure_of(llvm::StringRef runtime_message) {
  if (runtime_message.contains("executable file not found") ||
      runtime_message.contains("no such file or directory")) {
    return StartFailure::not_found;
  }
  return runtime_message.contains("permission denied") ? StartFailure::not_executable
                                                       : StartFailure::other;
}

llvm::Expected<RuntimeKind> parse_runtime_kind(llvm::StringRef value) {
  if (value.empty() || value == "runc") {
    return RuntimeKind::runc;
  }
  if (value == "crun") {
    return RuntimeKind::crun;
  }
  return llvm::make_error<UsageError>("unknown OCI runtime " + quote(value) +
                                      " (expected 'runc' or 'crun')");
}

llvm::Expected<std::string> find_runtime_binary(const ExecutorOptions& options) {
  if (!options.runtime_binary.empty()) {
    return options.runtime_binary;
  }
  const char* name = options.kind == RuntimeKind::crun ? "crun" : "runc";
  auto found = llvm::sys::findProgramByName(name);
  if (!found) {
    return make_error(llvm::Twine("OCI runtime ") + quote(name) + " not found in PATH");
  }
  return *found;
}

llvm::Expected<std::unique_ptr<Executor>> make_oci_executor(const ExecutorOptions& options) {
  auto found = find_runtime_binary(options);
  if (!found) {
    return found.takeError();
  }
  std::string binary = std::move(*found);
  if (auto err = fs::make_dirs(options.state_dir, 0700)) {
    return err;
  }
  // Container processes are re-parented to us once `create` exits; as subreaper we
  // can wait for them and see the real exit status or signal.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    return make_io_error("become subreaper for", "container processes", errno);
  }
  auto executor = std::make_unique<OciExecutor>(options, std::move(binary));
  executor->reclaim();
  return executor;
}

}  // namespace kiln::runtime
