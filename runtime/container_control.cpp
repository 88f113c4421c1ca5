#include "runtime/container_control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Program.h>
#include <nlohmann/json.hpp>

#include "runtime/spawn.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::runtime {
namespace {

struct SignalName {
  const char* name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

std::string stripped_output(const CommandResult& result) {
  return llvm::StringRef(result.output).trim().str();
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

ExitStatus exit_status(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    return ExitStatus{0, WTERMSIG(wait_status)};
  }
  return ExitStatus{WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 255, 0};
}

}  // namespace

llvm::Expected<int> parse_signal(llvm::StringRef text) {
  unsigned number = 0;
  if (!text.getAsInteger(10, number)) {
    if (number >= 1 && number <= 64) {
      return static_cast<int>(number);
    }
  } else {
    std::string upper = text.upper();
    llvm::StringRef name = upper;
    name.consume_front("SIG");
    for (const SignalName& s : kSignals) {
      if (name == s.name) {
        return s.number;
      }
    }
    if (name.consume_front("RTMIN+") && !name.getAsInteger(10, number) &&
        SIGRTMIN + static_cast<int>(number) <= SIGRTMAX) {
      return SIGRTMIN + static_cast<int>(number);
    }
  }
  return llvm::make_error<UsageError>("invalid signal " + quote(text));
}

llvm::Expected<ContainerControl> ContainerControl::open(const ExecutorOptions& options) {
  auto binary = find_runtime_binary(options);
  if (!binary) {
    return binary.takeError();
  }
  return ContainerControl(std::move(*binary), options.runtime_root);
}

std::vector<std::string> ContainerControl::command(std::vector<std::string> args) const {
  std::vector<std::string> argv = {binary_};
  if (!root_.empty()) {
    argv.insert(argv.end(), {"--root", root_});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

llvm::Error ContainerControl::simple(llvm::StringRef what, std::vector<std::string> args) const {
  auto result = run_command(command(std::move(args)));
  if (!result) {
    return result.takeError();
  }
  if (!result->succeeded()) {
    return make_error(what + ": " + stripped_output(*result));
  }
  return llvm::Error::success();
}

llvm::Error ContainerControl::kill(llvm::StringRef id, int signal) const {
  auto result = run_command(command({"kill", id.str(), std::to_string(signal)}));
  if (!result) {
    return result.takeError();
  }
  std::string output = stripped_output(*result);
  // A process that just exited is not an error: the caller waits for the exit.
  if (!result->succeeded() && !llvm::StringRef(output).contains("process already finished") &&
      !llvm::StringRef(output).contains("container not running")) {
    return make_error("kill container " + quote(id) + ": " + output);
  }
  return llvm::Error::success();
}

llvm::Error ContainerControl::pause(llvm::StringRef id) const {
  return simple("pause container " + quote(id), {"pause", id.str()});
}

llvm::Error ContainerControl::resume(llvm::StringRef id) const {
  return simple("resume container " + quote(id), {"resume", id.str()});
}

llvm::Error ContainerControl::remove(llvm::StringRef id) const {
  auto result = run_command(command({"delete", "--force", id.str()}));
  if (!result) {
    return result.takeError();
  }
  std::string output = stripped_output(*result);
  if (!result->succeeded() && !llvm::StringRef(output).contains("does not exist")) {
    return make_error("delete container " + quote(id) + ": " + output);
  }
  return llvm::Error::success();
}

llvm::Expected<std::optional<std::string>> ContainerControl::status(llvm::StringRef id) const {
  auto result = run_command(command({"state", id.str()}));
  if (!result) {
    return result.takeError();
  }
  if (!result->succeeded()) {
    if (llvm::StringRef(result->output).contains("does not exist")) {
      return std::nullopt;
    }
    return make_error("state of container " + quote(id) + ": " + stripped_output(*result));
  }
  auto state = nlohmann::json::parse(result->output, nullptr, false);
  if (!state.is_object() || !state.contains("status") || !state["status"].is_string()) {
    return make_error("state of container " + quote(id) + ": unexpected output");
  }
  return std::optional<std::string>(state["status"].get<std::string>());
}

std::vector<std::string> ContainerControl::exec_argv(llvm::StringRef id,
                                                     const ExecRequest& request) const {
  std::vector<std::string> args = {"exec"};
  if (request.tty) {
    args.push_back("--tty");
  }
  for (const auto& e : request.env) {
    args.insert(args.end(), {"--env", e});
  }
  if (!request.cwd.empty()) {
    args.insert(args.end(), {"--cwd", request.cwd});
  }
  if (request.user) {
    args.insert(args.end(), {"--user", std::to_string(request.user->uid) + ":" +
                                           std::to_string(request.user->gid)});
    for (uint32_t gid : request.user->additional_gids) {
      args.insert(args.end(), {"--additional-gids", std::to_string(gid)});
    }
  }
  args.push_back(id.str());
  args.insert(args.end(), request.args.begin(), request.args.end());
  return command(std::move(args));
}

llvm::Expected<ExecResult> ContainerControl::exec_capture(llvm::StringRef id,
                                                          const ExecRequest& request,
                                                          int64_t timeout_ms,
                                                          size_t max_output) const {
  auto dir = fs::make_temp_dir("/tmp", "kiln-exec-");
  if (!dir) {
    return dir.takeError();
  }
  std::string pid_file = fs::join(*dir, "pid");
  std::vector<std::string> argv = exec_argv(id, request);
  // "exec" is argv[1] or after "--root X": insert the pid file right after it.
  auto at = std::find(argv.begin(), argv.end(), "exec");
  argv.insert(at + 1, {"--pid-file", pid_file});
  auto pipe = make_pipe();
  if (!pipe) {
    llvm::consumeError(fs::remove_all(*dir));
    return pipe.takeError();
  }
  auto pid = spawn_process(argv, -1, pipe->write.get(), pipe->write.get());
  if (!pid) {
    llvm::consumeError(fs::remove_all(*dir));
    return pid.takeError();
  }
  pipe->write.reset();
  ::fcntl(pipe->read.get(), F_SETFL, O_NONBLOCK);
  ExecResult result;
  int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
  int status = 0;
  bool exited = false;
  bool open = true;
  char buf[4096];
  while (!exited) {
    pollfd pfd{pipe->read.get(), POLLIN, 0};
    int wait_ms = 50;
    if (open) {
      ::poll(&pfd, 1, wait_ms);
    } else {
      ::usleep(wait_ms * 1000);
    }
    while (open) {
      ssize_t n = ::read(pipe->read.get(), buf, sizeof(buf));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        open = false;
      }
      if (n <= 0) {
        break;
      }
      size_t keep = std::min(static_cast<size_t>(n), max_output - result.output.size());
      result.output.append(buf, keep);
    }
    pid_t done = ::waitpid(*pid, &status, WNOHANG);
    exited = done == *pid;
    if (!exited && deadline != 0 && now_ms() >= deadline && !result.timed_out) {
      result.timed_out = true;
      auto text = fs::read_file(pid_file);
      int target = 0;
      if (text && !llvm::StringRef(*text).trim().getAsInteger(10, target) && target > 0) {
        ::kill(target, SIGKILL);
      } else if (!text) {
        llvm::consumeError(text.takeError());
      }
      ::kill(*pid, SIGKILL);
    }
  }
  llvm::consumeError(fs::remove_all(*dir));
  result.status = exit_status(status);
  return result;
}

}  // namespace kiln::runtime
