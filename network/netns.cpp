#include "network/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "support/error.h"
#include "support/fs.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

namespace kiln::network {
namespace {

const char* ip_binary() {
  static const char* const kCandidates[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
  for (const char* path : kCandidates) {
    if (::access(path, X_OK) == 0) {
      return path;
    }
  }
  return "ip";
}

int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return status;
}

}  // namespace

llvm::Error create_netns(llvm::StringRef path) {
  std::string file = path.str();
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
  if (fd < 0) {
    return make_io_error("create network namespace file", path, errno);
  }
  ::close(fd);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return make_io_error("create", "pipe", errno);
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(report[0]);
    ::close(report[1]);
    return make_io_error("fork to create network namespace", path, e);
  }
  if (pid == 0) {
    // The child: a new namespace, bind-mounted from its own nsfs entry.
    int error = 0;
    if (::unshare(CLONE_NEWNET) != 0 ||
        ::mount("/proc/self/ns/net", file.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      error = errno;
    }
    ssize_t ignored = ::write(report[1], &error, sizeof(error));
    (void)ignored;
    ::_exit(error == 0 ? 0 : 1);
  }
  ::close(report[1]);
  int error = 0;
  ssize_t n = ::read(report[0], &error, sizeof(error));
  ::close(report[0]);
  wait_child(pid);
  if (n != sizeof(error)) {
    error = EIO;
  }
  if (error != 0) {
    ::unlink(file.c_str());
    return make_io_error("create network namespace on", path, error);
  }
  return llvm::Error::success();
}

bool netns_mounted(llvm::StringRef path) {
  struct statfs st {};
  return ::statfs(path.str().c_str(), &st) == 0 &&
         static_cast<unsigned long>(st.f_type) == NSFS_MAGIC;
}

void remove_netns(llvm::StringRef path) {
  std::string file = path.str();
  while (netns_mounted(file)) {
    if (::umount2(file.c_str(), MNT_DETACH) != 0) {
      break;
    }
  }
  ::unlink(file.c_str());
}

llvm::Error ip_batch(llvm::StringRef netns_path, llvm::StringRef commands) {
  std::string ns = netns_path.str();
  int nsfd = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    return make_io_error("open network namespace", netns_path, errno);
  }
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    ::close(nsfd);
    return make_io_error("create", "pipe", errno);
  }
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(nsfd);
    ::close(in[0]);
    ::close(in[1]);
    return make_io_error("create", "pipe", errno);
  }
  // The commands are small: written before ip starts, they wait in the pipe (and
  // an ip that fails early cannot make us write to a closed pipe).
  fs::write_all(in[1], commands);
  ::close(in[1]);
  const char* ip = ip_binary();
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setns(nsfd, CLONE_NEWNET) != 0) {
      ::_exit(126);
    }
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    const char* argv[] = {ip, "-batch", "-", nullptr};
    ::execv(ip, const_cast<char* const*>(argv));
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(nsfd);
  ::close(in[0]);
  ::close(out[1]);
  if (pid < 0) {
    ::close(out[0]);
    return make_io_error("fork to run ip in", netns_path, fork_errno);
  }
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) {
      output.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(out[0]);
  int status = wait_child(pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error("configure network namespace " + quote(netns_path) +
                      ": ip: " + llvm::StringRef(output).trim() + " (exit status " +
                      std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128) + ")");
  }
  return llvm::Error::success();
}

}  // namespace kiln::network
