#include "solver/ops/ssh_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "support/error.h"
#include "support/fs.h"

namespace kiln::solver::ops::detail {
namespace {

/// A sockaddr for `path`; a path too long for one goes through /proc/self/fd of
/// its directory, opened as `dir_fd` (closed by the caller; -1 when not needed).
bool socket_address(const std::string& path, sockaddr_un& addr, int& dir_fd) {
  addr = {};
  addr.sun_family = AF_UNIX;
  dir_fd = -1;
  std::string target = path;
  if (target.size() >= sizeof(addr.sun_path)) {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
      return false;
    }
    target = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + path.substr(slash + 1);
    if (target.size() >= sizeof(addr.sun_path)) {
      errno = ENAMETOOLONG;
      return false;
    }
  }
  std::memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  return true;
}

/// Connects to the unix socket at `path`; -1 with errno set on failure.
int connect_unix(const std::string& path) {
  sockaddr_un addr;
  int dir_fd = -1;
  if (!socket_address(path, addr, dir_fd)) {
    return -1;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int saved = errno;
  if (dir_fd >= 0) {
    ::close(dir_fd);
  }
  if (rc != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    errno = saved;
    return -1;
  }
  return fd;
}

}  // namespace

llvm::Expected<std::unique_ptr<SshRelay>> SshRelay::start(const std::string& path,
                                                          const std::string& agent, uint32_t uid,
                                                          uint32_t gid, uint32_t mode) {
  sockaddr_un addr;
  int dir_fd = -1;
  if (!socket_address(path, addr, dir_fd)) {
    return make_io_error("create the ssh agent socket", path, errno);
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int saved = errno;
  if (dir_fd >= 0) {
    ::close(dir_fd);
  }
  if (rc != 0 || ::listen(fd, 16) != 0) {
    saved = rc != 0 ? saved : errno;
    if (fd >= 0) {
      ::close(fd);
    }
    return make_io_error("create the ssh agent socket", path, saved);
  }
  if (::chown(path.c_str(), uid, gid) != 0 || ::chmod(path.c_str(), mode & 07777) != 0) {
    saved = errno;
    ::close(fd);
    return make_io_error("set the owner and mode of", path, saved);
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) {
    saved = errno;
    ::close(fd);
    return make_io_error("create a pipe for", path, saved);
  }
  std::unique_ptr<SshRelay> relay(new SshRelay(path, agent, fd, wake[0], wake[1]));
  relay->acceptor_ = std::thread([r = relay.get()] { r->accept_loop(); });
  return relay;
}

SshRelay::SshRelay(std::string path, std::string agent, int listen_fd, int wake_read,
                   int wake_write)
    : path_(std::move(path)),
      agent_(std::move(agent)),
      listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write) {}

SshRelay::~SshRelay() {
  ::close(wake_write_);  // wakes the acceptor and every pump
  acceptor_.join();
  std::vector<std::thread> pumps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pumps.swap(pumps_);
  }
  for (auto& t : pumps) {
    t.join();
  }
  ::close(listen_fd_);
  ::close(wake_read_);
  ::unlink(path_.c_str());
}

void SshRelay::accept_loop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[1].revents) {
      return;
    }
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    int upstream = connect_unix(agent_);
    if (upstream < 0) {
      ::close(client);  // the client sees the agent refuse
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    pumps_.emplace_back([this, client, upstream] { pump(client, upstream); });
  }
}

void SshRelay::pump(int client, int upstream) {
  char buf[16384];
  pollfd fds[3] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}, {wake_read_, POLLIN, 0}};
  bool open = true;
  while (open) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (fds[2].revents) {
      break;
    }
    for (int i = 0; i < 2 && open; ++i) {
      if (!fds[i].revents) {
        continue;
      }
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      open = n > 0 && fs::send_all(fds[1 - i].fd, llvm::StringRef(buf, static_cast<size_t>(n)));
    }
  }
  ::close(client);
  ::close(upstream);
}

}  // namespace kiln::solver::ops::detail
