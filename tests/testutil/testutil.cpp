#include "tests/testutil/testutil.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace kiln::testutil {

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    run({"rm", "-rf", "--one-file-system", path_});
  }
}

void write_file(const std::string& path, const std::string& text) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    run({"mkdir", "-p", path.substr(0, slash)});
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void make_busybox_rootfs(const std::string& dir) {
  run({"mkdir", "-p", dir + "/bin", dir + "/etc", dir + "/root", dir + "/tmp"});
  ::chmod((dir + "/tmp").c_str(), 01777);
  run({"cp", "/bin/busybox", dir + "/bin/busybox"});
  Output list = run({"/bin/busybox", "--list"});
  std::istringstream names(list.out);
  std::string name;
  while (names >> name) {
    if (name != "busybox") {
      ::symlink("busybox", (dir + "/bin/" + name).c_str());
    }
  }
  write_file(dir + "/etc/passwd",
             "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002:app:/home/app:/bin/sh\n");
  write_file(dir + "/etc/group", "root:x:0:\ngrp:x:1002:\nextra:x:1003:app\n");
}

void tar_directory(const std::string& dir, const std::string& tar_path) {
  Output o = run({"tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0",
                  "--numeric-owner", "-C", dir, "-cf", tar_path, "."});
  if (o.exit_code != 0) {
    throw std::runtime_error("tar failed: " + o.err);
  }
}

Output run(const std::vector<std::string>& argv, const std::string& input,
           const std::vector<std::string>& extra_env) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) ||
      ::pipe2(err_pipe, O_CLOEXEC)) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    env_store.emplace_back(*e);
  }
  for (const auto& e : extra_env) {
    env_store.push_back(e);
  }
  std::vector<char*> env;
  for (auto& e : env_store) {
    env.push_back(e.data());
  }
  env.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  Output result;
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = std::string("spawn failed: ") + std::strerror(rc);
    return result;
  }
  size_t written = 0;
  if (input.empty()) {
    ::close(in_pipe[1]);
    in_pipe[1] = -1;
  } else {
    ::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  }
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    struct pollfd fds[3] = {{out_open ? out_pipe[0] : -1, POLLIN, 0},
                            {err_open ? err_pipe[0] : -1, POLLIN, 0},
                            {in_pipe[1], POLLOUT, 0}};
    ::poll(fds, 3, -1);
    if (in_pipe[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(in_pipe[1], input.data() + written, input.size() - written);
      if (n > 0) {
        written += static_cast<size_t>(n);
      }
      if (n < 0 || written == input.size()) {
        ::close(in_pipe[1]);
        in_pipe[1] = -1;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
        if (n <= 0) {
          (i == 0 ? out_open : err_open) = false;
        } else {
          (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
        }
      }
    }
  }
  if (in_pipe[1] >= 0) {
    ::close(in_pipe[1]);
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Output kiln(const std::string& root, const std::vector<std::string>& args,
            const std::string& input) {
  std::vector<std::string> argv = {KILN_BINARY, "--root", root};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, input);
}

}  // namespace kiln::testutil
