// A one-request-per-connection HTTP/1.0 server on 127.0.0.1 for tests: it reads
// each request's head, asks the handler for the whole reply, writes it and closes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace kiln::testutil {

/// The request head ("GET /path HTTP/1.1\r\n..." without the blank line) and its
/// target without the leading '/' (the query included).
struct HttpRequest {
  std::string head;
  std::string path;
};

class LoopbackHttp {
 public:
  /// `answer` returns the whole reply (status line, headers, body) for a request;
  /// it runs on the server's thread.
  explicit LoopbackHttp(std::function<std::string(const HttpRequest&)> answer)
      : answer_(std::move(answer)) {
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
  ~LoopbackHttp() {
    stop_ = true;
    thread_.join();
    for (int c : held_) {
      ::close(c);
    }
    ::close(fd_);
  }
  LoopbackHttp(const LoopbackHttp&) = delete;
  LoopbackHttp& operator=(const LoopbackHttp&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// From now on, accepts connections and never answers them.
  void hang() { hang_ = true; }
  /// Connections accepted so far.
  int connections() const { return connections_; }

  /// An HTTP/1.0 reply with a Content-Length.
  static std::string reply(int status, const std::string& body,
                           const std::vector<std::string>& headers = {}) {
    std::string out = "HTTP/1.0 " + std::to_string(status) +
                      " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& h : headers) {
      out += h + "\r\n";
    }
    return out + "\r\n" + body;
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
      ++connections_;
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
      HttpRequest r{req.substr(0, req.find("\r\n\r\n")), ""};
      auto sp = req.find(' ');
      auto sp2 = req.find(' ', sp + 1);
      std::string out = reply(400, "");
      if (sp != std::string::npos && sp2 != std::string::npos) {
        r.path = req.substr(sp + 2, sp2 - sp - 2);
        out = answer_(r);
      }
      size_t sent = 0;
      while (sent < out.size()) {
        ssize_t n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
          break;
        }
        sent += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }

  std::function<std::string(const HttpRequest&)> answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> hang_{false};
  std::atomic<int> connections_{0};
  std::vector<int> held_;  // hung connections, closed at the end
  std::thread thread_;
};

}  // namespace kiln::testutil
