#include "runtime/spawn.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "support/error.h"

extern char** environ;

namespace kiln::runtime {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset(other.release());
  }
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

llvm::Expected<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return make_io_error("create", "pipe", errno);
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

namespace {

// Adds "fd `target` = `fd`" (or /dev/null) to `actions`.
int add_fd(posix_spawn_file_actions_t* actions, int fd, int target, int null_flags) {
  if (fd < 0) {
    return posix_spawn_file_actions_addopen(actions, target, "/dev/null", null_flags, 0);
  }
  return posix_spawn_file_actions_adddup2(actions, fd, target);
}

}  // namespace

llvm::Expected<pid_t> spawn_process(const std::vector<std::string>& argv, int in, int out,
                                    int err) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  add_fd(&actions, in, 0, O_RDONLY);
  add_fd(&actions, out, 1, O_WRONLY);
  add_fd(&actions, err, 2, O_WRONLY);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  // Own process group: Ctrl-C reaches kiln, which then stops the container itself.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return make_io_error("run", argv[0], rc);
  }
  return pid;
}

int wait_process(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return status;
}

bool CommandResult::succeeded() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

llvm::Expected<CommandResult> run_command(const std::vector<std::string>& argv) {
  auto pipe = make_pipe();
  if (!pipe) {
    return pipe.takeError();
  }
  auto pid = spawn_process(argv, -1, pipe->write.get(), pipe->write.get());
  if (!pid) {
    return pid.takeError();
  }
  pipe->write.reset();
  CommandResult result;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(pipe->read.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    result.output.append(buf, static_cast<size_t>(n));
  }
  result.status = wait_process(*pid);
  return result;
}

void LineSplitter::feed(llvm::StringRef data) {
  while (!data.empty()) {
    size_t newline = data.find('\n');
    size_t room = kMaxLine - pending_.size();
    if (newline == llvm::StringRef::npos || newline > room) {
      size_t take = std::min(room, data.size());
      pending_.append(data.data(), take);
      data = data.drop_front(take);
      if (pending_.size() == kMaxLine) {
        finish();
      }
      continue;
    }
    llvm::StringRef line = data.take_front(newline);
    data = data.drop_front(newline + 1);
    if (callback_ && *callback_) {
      if (pending_.empty()) {
        (*callback_)(stream_, line);
      } else {
        pending_.append(line.data(), line.size());
        (*callback_)(stream_, pending_);
      }
    }
    pending_.clear();
  }
}

void LineSplitter::finish() {
  if (!pending_.empty() && callback_ && *callback_) {
    (*callback_)(stream_, pending_);
  }
  pending_.clear();
}

}  // namespace kiln::runtime
