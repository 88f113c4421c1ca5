#include "runtime/console_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "support/error.h"

namespace kiln::runtime {

llvm::Expected<ConsoleSocket> ConsoleSocket::listen(llvm::StringRef path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return make_error("console socket path " + quote(path) + " is too long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    return make_io_error("create console socket", path, errno);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd.get(), 1) != 0) {
    return make_io_error("listen on console socket", path, errno);
  }
  return ConsoleSocket(path.str(), std::move(fd));
}

ConsoleSocket::~ConsoleSocket() {
  if (fd_) {
    ::unlink(path_.c_str());
  }
}

llvm::Expected<UniqueFd> ConsoleSocket::receive_master(int timeout_ms) {
  pollfd pfd{fd_.get(), POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms) <= 0) {
    return make_error("the runtime did not send the terminal on " + quote(path_));
  }
  UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) {
    return make_io_error("accept on console socket", path_, errno);
  }
  char name[256];
  iovec iov{name, sizeof(name)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  cmsghdr* cmsg = n < 0 ? nullptr : CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
    return make_error("the runtime sent no terminal on " + quote(path_));
  }
  int master = -1;
  std::memcpy(&master, CMSG_DATA(cmsg), sizeof(int));
  return UniqueFd(master);
}

}  // namespace kiln::runtime
