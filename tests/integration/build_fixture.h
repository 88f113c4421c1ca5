// Helpers for `kiln build` integration tests: a store with the busybox base
// imported, a context directory, and a loopback HTTP server that counts and
// timestamps the requests RUN steps make (`wget http://127.0.0.1:PORT/name`), so
// a test can tell which steps really ran and when.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/testutil/testutil.h"

namespace kiln::testutil {

/// Counts GET requests by path on 127.0.0.1:<port()>, with the time of each.
class StepCounter {
 public:
  StepCounter() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::listen(fd_, 64) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~StepCounter() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  StepCounter(const StepCounter&) = delete;
  StepCounter& operator=(const StepCounter&) = delete;

  int port() const { return port_; }
  /// A shell command for a RUN step that records `name`.
  std::string hit(const std::string& name) const {
    return "wget -q -O /dev/null http://127.0.0.1:" + std::to_string(port_) + "/" + name;
  }
  int count(const std::string& name) {
    std::lock_guard lock(mu_);
    return static_cast<int>(times_[name].size());
  }
  /// Answers GET `name` with `status`, `headers` (lines "Name: value") and `body`
  /// from now on (else "200 OK" and "ok").
  void respond(const std::string& name, const std::string& body,
               const std::vector<std::string>& headers = {}, int status = 200) {
    std::string reply = "HTTP/1.0 " + std::to_string(status) +
                        " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& h : headers) {
      reply += h + "\r\n";
    }
    std::lock_guard lock(mu_);
    replies_[name] = reply + "\r\n" + body;
  }
  /// The request line and headers of the last request for `name` ("" when none).
  std::string last_request(const std::string& name) {
    std::lock_guard lock(mu_);
    return requests_[name];
  }
  /// Times of the requests for `name`, oldest first.
  std::vector<std::chrono::steady_clock::time_point> times(const std::string& name) {
    std::lock_guard lock(mu_);
    return times_[name];
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        continue;
      }
      std::string req;
      char buf[1024];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) {
          break;
        }
        req.append(buf, static_cast<size_t>(n));
      }
      auto sp = req.find(' ');
      auto sp2 = req.find(' ', sp + 1);
      std::string reply = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
      if (sp != std::string::npos && sp2 != std::string::npos) {
        std::string path = req.substr(sp + 2, sp2 - sp - 2);
        std::lock_guard lock(mu_);
        times_[path].push_back(std::chrono::steady_clock::now());
        requests_[path] = req.substr(0, req.find("\r\n\r\n"));
        if (auto it = replies_.find(path); it != replies_.end()) {
          reply = it->second;
        }
      }
      size_t sent = 0;
      while (sent < reply.size()) {
        ssize_t n = ::write(c, reply.data() + sent, reply.size() - sent);
        if (n <= 0) {
          break;
        }
        sent += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> times_;
  std::map<std::string, std::string> replies_;
  std::map<std::string, std::string> requests_;
  std::thread thread_;
};

/// A temp dir holding a store (root/) with busybox:local imported and a build
/// context (ctx/).
class BuildFixture {
 public:
  BuildFixture() {
    make_busybox_rootfs(dir_ / "bb");
    tar_directory(dir_ / "bb", dir_ / "bb.tar");
    Output o = kiln(root(), {"import", dir_ / "bb.tar", "busybox:local"});
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
  }
  std::string root() const { return dir_ / "root"; }
  std::string ctx() const { return dir_ / "ctx"; }
  std::string path(const std::string& rel) const { return dir_ / rel; }
  /// Writes CONTEXT/rel.
  void file(const std::string& rel, const std::string& text) const {
    write_file(ctx() + "/" + rel, text);
  }
  /// `kiln build --progress=plain ARGS... CONTEXT` in this store.
  Output build(std::vector<std::string> args, const std::vector<std::string>& env = {}) const {
    std::vector<std::string> argv = {KILN_BINARY, "--root", root(), "build", "--progress=plain"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(ctx());
    return run(argv, "", env);
  }
  /// Like build() but requires success.
  Output build_ok(std::vector<std::string> args, const std::vector<std::string>& env = {}) const {
    Output o = build(std::move(args), env);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    return o;
  }

 private:
  TempDir dir_{"kiln-build-test-"};
};

/// `kiln build -o type=local,dest=OUT ARGS...` in `f`, required to succeed.
inline void build_to(const BuildFixture& f, const std::string& out,
                     std::vector<std::string> args = {}) {
  args.insert(args.begin(), {"-o", "type=local,dest=" + f.path(out)});
  f.build_ok(args);
}

/// A file of a rootfs written by build_to() into OUT.
inline std::string out_file(const BuildFixture& f, const std::string& out, const std::string& rel) {
  return read_file(f.path(out) + "/" + rel);
}

/// `kiln inspect REF` in `f`'s store, required to succeed: the image's object.
inline nlohmann::json inspect(const BuildFixture& f, const std::string& ref) {
  Output o = kiln(f.root(), {"inspect", ref});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  auto j = nlohmann::json::parse(o.out);
  return j.is_array() ? j[0] : j;
}

}  // namespace kiln::testutil
