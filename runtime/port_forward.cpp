#include "runtime/port_forward.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <list>
#include <mutex>
#include <thread>

#include "runtime/spawn.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::runtime {

llvm::Expected<UniqueFd> open_netns_of(int pid) {
  UniqueFd ns;
  if (pid > 0) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
    ns.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) {
      return make_io_error("open network namespace", path, errno);
    }
  }
  return ns;
}
namespace {

constexpr int kConnectTimeoutMs = 5000;

// Connects `fd` to `ip`:`port`, waiting at most kConnectTimeoutMs.
bool connect_to(int fd, in_addr ip, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr = ip;
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      return false;
    }
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, kConnectTimeoutMs) != 1) {
      return false;
    }
    int error = 0;
    socklen_t len = sizeof(error);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      return false;
    }
  }
  ::fcntl(fd, F_SETFL, flags);
  return true;
}

// Copies between `a` and `b` both ways until both directions are closed or `stop`
// becomes readable; half-closes are passed on.
void copy_both_ways(int a, int b, int stop) {
  bool a_open = true;
  bool b_open = true;
  char buf[64 * 1024];
  while (a_open || b_open) {
    pollfd pfds[3] = {
        {a_open ? a : -1, POLLIN, 0}, {b_open ? b : -1, POLLIN, 0}, {stop, POLLIN, 0}};
    if (::poll(pfds, 3, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (pfds[2].revents != 0) {
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (pfds[i].revents == 0) {
        continue;
      }
      int from = i == 0 ? a : b;
      int to = i == 0 ? b : a;
      bool& open = i == 0 ? a_open : b_open;
      ssize_t n = ::recv(from, buf, sizeof(buf), 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      if (n <= 0) {
        open = false;
        ::shutdown(to, SHUT_WR);
        if (n < 0) {
          return;  // reset: drop the connection
        }
        continue;
      }
      if (!fs::send_all(to, llvm::StringRef(buf, static_cast<size_t>(n)))) {
        return;
      }
    }
  }
}

class TcpForwarder : public PortForwarder {
 public:
  TcpForwarder(UniqueFd listener, UniqueFd stop, uint16_t host_port, uint16_t container_port,
               in_addr target_ip)
      : listener_(std::move(listener)),
        stop_(std::move(stop)),
        host_port_(host_port),
        container_port_(container_port),
        target_ip_(target_ip) {
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TcpForwarder() override {
    uint64_t one = 1;
    ssize_t ignored = ::write(stop_.get(), &one, sizeof(one));
    (void)ignored;
    acceptor_.join();
    for (Connection& c : connections_) {
      c.thread.join();
    }
  }

  llvm::Error set_target(int pid) override {
    auto ns = open_netns_of(pid);
    if (!ns) {
      return ns.takeError();
    }
    std::lock_guard lock(mutex_);
    netns_ = std::move(*ns);
    return llvm::Error::success();
  }

  uint16_t host_port() const override { return host_port_; }

 private:
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop() {
    while (true) {
      pollfd pfds[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
      if (::poll(pfds, 2, -1) < 0 && errno != EINTR) {
        return;
      }
      if (pfds[1].revents != 0) {
        return;
      }
      if (pfds[0].revents == 0) {
        continue;
      }
      UniqueFd in(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!in) {
        continue;
      }
      UniqueFd out = connect_in_container();
      if (!out) {
        continue;  // `in` is closed: the client sees the connection end
      }
      reap();
      connections_.emplace_back();
      Connection& c = connections_.back();
      c.thread = std::thread([a = std::move(in), b = std::move(out), stop = stop_.get(), &c] {
        copy_both_ways(a.get(), b.get(), stop);
        c.done = true;
      });
    }
  }

  // A socket connected to the container port, made in the container's namespace
  // (this thread enters it; the listener stays in the host's).
  UniqueFd connect_in_container() {
    std::lock_guard lock(mutex_);
    if (!netns_ || ::setns(netns_.get(), CLONE_NEWNET) != 0) {
      return UniqueFd();
    }
    UniqueFd out(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!out || !connect_to(out.get(), target_ip_, container_port_)) {
      return UniqueFd();
    }
    return out;
  }

  void reap() {
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->done) {
        it->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }

  UniqueFd listener_;
  UniqueFd stop_;  // eventfd: readable once the forwarder is being destroyed
  uint16_t host_port_;
  uint16_t container_port_;
  in_addr target_ip_;
  std::mutex mutex_;
  UniqueFd netns_;  // guarded by mutex_
  std::thread acceptor_;
  std::list<Connection> connections_;  // only the acceptor thread touches the list
};

}  // namespace

llvm::Expected<std::unique_ptr<PortForwarder>> PortForwarder::start(const std::string& host_ip,
                                                                    uint16_t host_port,
                                                                    uint16_t container_port,
                                                                    const std::string& target_ip) {
  in_addr target{};
  if (::inet_pton(AF_INET, target_ip.c_str(), &target) != 1) {
    return make_error("publish port: invalid container address " + quote(target_ip));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(host_port);
  if (::inet_pton(AF_INET, host_ip.c_str(), &addr.sin_addr) != 1) {
    return make_error("publish port: invalid IPv4 address " + quote(host_ip));
  }
  std::string where = host_ip + ":" + std::to_string(host_port);
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener) {
    return make_io_error("create socket for", where, errno);
  }
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    if (e == EADDRINUSE) {
      return make_error("publish port: bind " + where + ": address already in use");
    }
    return make_io_error("bind", where, e);
  }
  if (::listen(listener.get(), 128) != 0) {
    return make_io_error("listen on", where, errno);
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  if (!stop) {
    return make_io_error("create", "eventfd", errno);
  }
  return std::make_unique<TcpForwarder>(std::move(listener), std::move(stop), ntohs(addr.sin_port),
                                        container_port, target);
}

}  // namespace kiln::runtime
