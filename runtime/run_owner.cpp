#include "runtime/run_owner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <functional>
#include <memory>

#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"

namespace kiln::runtime {
namespace {

// The names of the directories in `dir` (none when it cannot be read).
std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    return names;
  }
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && e->d_type == DT_DIR) {
      names.push_back(std::move(name));
    }
  }
  return names;
}

// `argv` as shell words, each in single quotes.
std::string shell_words(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    out += out.empty() ? "'" : " '";
    for (char c : arg) {
      out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    out += "'";
  }
  return out;
}

}  // namespace

llvm::Expected<OwnerGuard> OwnerGuard::start(const std::vector<std::string>& state_argv,
                                             const std::vector<std::string>& delete_argv) {
  // A socket rather than a pipe: send() can refuse SIGPIPE should the guard be gone.
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return make_io_error("create", "socket pair", errno);
  }
  UniqueFd theirs(fds[0]);
  UniqueFd ours(fds[1]);
  // Lines: the container's pid once it runs, "done" at release. At end of file
  // (the owner died) the container is deleted, unless it is not the one started
  // then (a later run under the same name).
  std::string script =
      "p=; while read -r l; do [ \"$l\" = done ] && exit 0; p=$l; done; "
      "if [ -n \"$p\" ]; then " +
      shell_words(state_argv) + " 2>/dev/null | grep -q \"\\\"pid\\\": $p,\" || exit 0; fi; exec " +
      shell_words(delete_argv);
  auto pid = spawn_process({"/bin/sh", "-c", script, "kiln-guard"}, theirs.get(), -1, -1);
  if (!pid) {
    return pid.takeError();
  }
  OwnerGuard guard;
  guard.pipe_ = std::move(ours);
  guard.pid_ = *pid;
  return guard;
}

OwnerGuard& OwnerGuard::operator=(OwnerGuard&& other) noexcept {
  if (this != &other) {
    release();
    pipe_ = std::move(other.pipe_);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

void OwnerGuard::started(int container_pid) {
  if (pipe_) {
    std::string line = std::to_string(container_pid) + "\n";
    (void)!::send(pipe_.get(), line.data(), line.size(), MSG_NOSIGNAL);
  }
}

void OwnerGuard::release() {
  if (pipe_) {
    ssize_t written;
    do {
      written = ::send(pipe_.get(), "done\n", 5, MSG_NOSIGNAL);
    } while (written < 0 && errno == EINTR);
    pipe_.reset();
  }
  if (pid_ > 0) {
    wait_process(pid_);
    pid_ = -1;
  }
}

void reclaim_dead_runs(const std::string& state_dir, const std::string& runtime_root,
                       int64_t min_age_seconds,
                       const std::function<void(const std::string& id)>& remove) {
  for (const std::string& id : subdirs(state_dir)) {
    std::string dir = fs::join(state_dir, id);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || std::time(nullptr) - st.st_ctime < min_age_seconds) {
      continue;
    }
    auto lock = FileLock::try_acquire(dir, LockMode::exclusive, LockTarget::directory);
    if (!lock || !*lock) {
      llvm::consumeError(lock.takeError());
      continue;  // its owner lives
    }
    remove(id);
    llvm::consumeError(fs::remove_all(dir));
  }
  if (runtime_root.empty()) {
    return;
  }
  for (const std::string& id : subdirs(runtime_root)) {
    if (!fs::exists(fs::join(state_dir, id))) {
      remove(id);
    }
  }
}

}  // namespace kiln::runtime
