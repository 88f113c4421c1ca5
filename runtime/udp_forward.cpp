// The UDP side of PortForwarder: one socket on the host address; each client
// (address and port) gets a socket made in the container's namespace and
// connected to the container's address, whose replies go back to that client.
// A client idle for a minute is forgotten.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/port_forward.h"
#include "runtime/spawn.h"
#include "support/error.h"

namespace kiln::runtime {
namespace {

constexpr auto kIdle = std::chrono::seconds(60);

class UdpForwarder : public PortForwarder {
 public:
  UdpForwarder(UniqueFd socket, UniqueFd stop, uint16_t host_port, uint16_t container_port,
               in_addr target)
      : socket_(std::move(socket)),
        stop_(std::move(stop)),
        host_port_(host_port),
        container_port_(container_port),
        target_(target) {
    thread_ = std::thread([this] { loop(); });
  }
  ~UdpForwarder() override {
    uint64_t one = 1;
    ssize_t ignored = ::write(stop_.get(), &one, sizeof(one));
    (void)ignored;
    thread_.join();
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
  struct Client {
    sockaddr_in address{};
    UniqueFd socket;
    std::chrono::steady_clock::time_point last;
  };
  static uint64_t key(const sockaddr_in& a) {
    return (uint64_t{a.sin_addr.s_addr} << 16) | a.sin_port;
  }

  // A socket connected to the container's port, made in its namespace (this
  // thread enters it; the host socket stays in the host's).
  UniqueFd connect_in_container() {
    std::lock_guard lock(mutex_);
    if (!netns_ || ::setns(netns_.get(), CLONE_NEWNET) != 0) {
      return UniqueFd();
    }
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(container_port_);
    to.sin_addr = target_;
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
      return UniqueFd();
    }
    return fd;
  }

  void loop() {
    char buf[65536];
    while (true) {
      std::vector<pollfd> fds = {{stop_.get(), POLLIN, 0}, {socket_.get(), POLLIN, 0}};
      std::vector<uint64_t> keys;
      for (auto& [k, c] : clients_) {
        fds.push_back({c.socket.get(), POLLIN, 0});
        keys.push_back(k);
      }
      if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) {
        return;
      }
      if (fds[0].revents != 0) {
        return;
      }
      auto now = std::chrono::steady_clock::now();
      if (fds[1].revents & POLLIN) {
        sockaddr_in from{};
        socklen_t len = sizeof(from);
        ssize_t n = ::recvfrom(socket_.get(), buf, sizeof(buf), 0,
                               reinterpret_cast<sockaddr*>(&from), &len);
        if (n >= 0) {
          auto it = clients_.find(key(from));
          if (it == clients_.end()) {
            UniqueFd fd = connect_in_container();
            if (fd) {
              it = clients_.emplace(key(from), Client{from, std::move(fd), now}).first;
            }
          }
          if (it != clients_.end()) {
            it->second.last = now;
            ssize_t sent = ::send(it->second.socket.get(), buf, static_cast<size_t>(n), 0);
            (void)sent;
          }
        }
      }
      for (size_t i = 2; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) {
          continue;
        }
        Client& c = clients_.at(keys[i - 2]);
        ssize_t n = ::recv(c.socket.get(), buf, sizeof(buf), 0);
        if (n >= 0) {
          c.last = now;
          ssize_t sent = ::sendto(socket_.get(), buf, static_cast<size_t>(n), 0,
                                  reinterpret_cast<sockaddr*>(&c.address), sizeof(c.address));
          (void)sent;
        }
      }
      for (auto it = clients_.begin(); it != clients_.end();) {
        it = now - it->second.last > kIdle ? clients_.erase(it) : std::next(it);
      }
    }
  }

  UniqueFd socket_;
  UniqueFd stop_;
  uint16_t host_port_;
  uint16_t container_port_;
  in_addr target_;
  std::mutex mutex_;
  UniqueFd netns_;                      // guarded by mutex_
  std::map<uint64_t, Client> clients_;  // the loop's thread only
  std::thread thread_;
};

}  // namespace

llvm::Expected<std::unique_ptr<PortForwarder>> PortForwarder::start_udp(
    const std::string& host_ip, uint16_t host_port, uint16_t container_port,
    const std::string& target_ip) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(host_port);
  in_addr target{};
  if (::inet_pton(AF_INET, host_ip.c_str(), &addr.sin_addr) != 1 ||
      ::inet_pton(AF_INET, target_ip.c_str(), &target) != 1) {
    return make_error("publish port: invalid IPv4 address " + quote(host_ip) + " or " +
                      quote(target_ip));
  }
  std::string where = host_ip + ":" + std::to_string(host_port) + "/udp";
  UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket) {
    return make_io_error("create socket for", where, errno);
  }
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    if (e == EADDRINUSE) {
      return make_error("publish port: bind " + where + ": address already in use");
    }
    return make_io_error("bind", where, e);
  }
  socklen_t len = sizeof(addr);
  ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  if (!stop) {
    return make_io_error("create", "eventfd", errno);
  }
  return std::make_unique<UdpForwarder>(std::move(socket), std::move(stop), ntohs(addr.sin_port),
                                        container_port, target);
}

}  // namespace kiln::runtime
