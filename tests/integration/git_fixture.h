// Git repositories made by a test and served as git's "dumb" HTTP protocol serves
// them: static files (after `git update-server-info`) from a loopback server.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/testutil/testutil.h"

namespace kiln::testutil {

/// Serves the files under a directory on 127.0.0.1:<port()> (GET only; the query
/// is ignored, so git's smart-protocol probe gets the static info/refs and falls
/// back to the dumb protocol). With hang(), it accepts and never answers.
class StaticFileServer {
 public:
  explicit StaticFileServer(std::string dir) : dir_(std::move(dir)) {
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
  ~StaticFileServer() {
    stop_ = true;
    thread_.join();
    for (int c : held_) {
      ::close(c);
    }
    ::close(fd_);
  }
  StaticFileServer(const StaticFileServer&) = delete;
  StaticFileServer& operator=(const StaticFileServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// From now on, accepts connections and never answers them.
  void hang() { hang_ = true; }
  /// Requests seen so far.
  int requests() const { return requests_; }

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
      ++requests_;
      if (hang_) {
        held_.push_back(c);
        continue;
      }
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) {
          break;
        }
        req.append(buf, static_cast<size_t>(n));
      }
      auto sp = req.find(' ');
      auto sp2 = req.find(' ', sp + 1);
      std::string reply = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      if (sp != std::string::npos && sp2 != std::string::npos) {
        std::string path = req.substr(sp + 1, sp2 - sp - 1);
        path = path.substr(0, path.find('?'));
        std::string file = dir_ + path;
        struct stat st {};
        if (path.find("..") == std::string::npos && ::stat(file.c_str(), &st) == 0 &&
            S_ISREG(st.st_mode)) {
          std::string body = read_file(file);
          reply = "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body;
        }
      }
      size_t sent = 0;
      while (sent < reply.size()) {
        ssize_t n = ::send(c, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
          break;
        }
        sent += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }

  std::string dir_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> hang_{false};
  std::atomic<int> requests_{0};
  std::vector<int> held_;
  std::thread thread_;
};

/// Runs `script` with sh -e in `dir` (created), git configured for a test
/// (no global or system config, a name and email); requires success.
inline std::string git_script(const std::string& dir, const std::string& script) {
  run({"mkdir", "-p", dir});
  Output o = run({"sh", "-ec", "cd '" + dir + "' && " + script}, "",
                 {"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=test",
                  "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=test",
                  "GIT_COMMITTER_EMAIL=test@example.com"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  return o.out;
}

/// The commit `rev` names in the repository at `dir`.
inline std::string git_rev(const std::string& dir, const std::string& rev) {
  std::string out = git_script(dir, "git rev-parse '" + rev + "'");
  return out.substr(0, out.find('\n'));
}

}  // namespace kiln::testutil
