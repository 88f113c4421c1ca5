#include "solver/ops/git_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "support/error.h"
#include "support/trace.h"

extern char** environ;

namespace kiln::solver::ops::detail {
namespace {

/// The last `n` non-empty lines of `text`, joined by "; ".
std::string last_lines(llvm::StringRef text, size_t n) {
  llvm::SmallVector<llvm::StringRef, 16> lines;
  text.split(lines, '\n', -1, false);
  std::string out;
  size_t first = lines.size() > n ? lines.size() - n : 0;
  for (size_t i = first; i < lines.size(); ++i) {
    llvm::StringRef l = lines[i].trim();
    if (!l.empty()) {
      out += (out.empty() ? "" : "; ") + l.str();
    }
  }
  return out;
}

std::vector<std::string> git_environment() {
  static const char* const kOwn[] = {
      "GIT_TERMINAL_PROMPT=", "GIT_ALLOW_PROTOCOL=", "LC_ALL=", "GIT_DIR=",
      "GIT_WORK_TREE=",       "GIT_INDEX_FILE="};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    llvm::StringRef var(*e);
    if (!llvm::any_of(kOwn, [&](const char* own) { return var.startswith(own); })) {
      env.push_back(var.str());
    }
  }
  env.push_back("GIT_TERMINAL_PROMPT=0");
  env.push_back("GIT_ALLOW_PROTOCOL=http:https:git:ssh:file");
  env.push_back("LC_ALL=C");
  return env;
}

}  // namespace

llvm::Expected<std::string> run_git(const std::vector<std::string>& args,
                                    const CancelToken* cancel) {
  const char* git_env = std::getenv("KILN_GIT");
  std::string git = git_env && *git_env ? git_env : "git";
  std::vector<std::string> argv = {git};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = git_environment();
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) {
    cargv.push_back(a.data());
  }
  cargv.push_back(nullptr);
  for (auto& e : env) {
    cenv.push_back(e.data());
  }
  cenv.push_back(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return make_error("git: pipe: " + std::string(std::strerror(errno)));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return make_error("git: pipe: " + std::string(std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return make_error("run " + quote(git) + ": " + std::strerror(rc) +
                      " (kiln needs the git command for git sources)");
  }
  trace("git: " + llvm::join(args, " "));
  std::atomic<bool> killed{false};
  uint64_t callback = 0;
  if (cancel) {
    callback = cancel->on_cancel([pid, &killed] {
      killed = true;
      ::kill(-pid, SIGKILL);
    });
  }
  std::string stdout_text, stderr_text;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        continue;
      }
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        std::string& sink = i == 0 ? stdout_text : stderr_text;
        if (sink.size() < (64u << 20)) {
          sink.append(buf, static_cast<size_t>(n));
        }
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) {
      ::close(f.fd);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (cancel) {
    cancel->remove_callback(callback);
  }
  if (killed || (cancel && cancel->cancelled())) {
    ::kill(-pid, SIGKILL);  // anything git left in its group (ssh, remote helpers)
    return llvm::make_error<CancelledError>();
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string what = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                         : "signal " + std::to_string(WTERMSIG(status));
    std::string said = last_lines(stderr_text, 3);
    return make_error("git: " + what + (said.empty() ? "" : ": " + said));
  }
  return stdout_text;
}

}  // namespace kiln::solver::ops::detail
