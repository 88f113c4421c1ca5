// Signal names, and the port forwarder against a server in this process's own
// network namespace (the container case is in tests/integration/run_detached_test).
#include "runtime/container_control.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <catch2/catch.hpp>

#include "runtime/port_forward.h"
#include "support/error.h"

namespace rt = kiln::runtime;

namespace {

int parsed(const char* text) {
  auto n = rt::parse_signal(text);
  REQUIRE(static_cast<bool>(n));
  return *n;
}

std::string parse_error(const char* text) {
  auto n = rt::parse_signal(text);
  REQUIRE(!n);
  return kiln::error_message(n.takeError());
}

// A listening socket on 127.0.0.1 (a free port), and its port.
std::pair<int, uint16_t> listen_loopback() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return {fd, ntohs(addr.sin_port)};
}

// Connects to 127.0.0.1:`port`, sends `message`, half-closes and reads the reply.
std::string round_trip(uint16_t port, const std::string& message) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    if (::send(fd, message.data(), message.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(message.size())) {
      ::shutdown(fd, SHUT_WR);
      char buf[256];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
        reply.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return reply;
}

}  // namespace

TEST_CASE("signals parse by name, short name and number", "[runtime][signal]") {
  CHECK(parsed("SIGTERM") == SIGTERM);
  CHECK(parsed("TERM") == SIGTERM);
  CHECK(parsed("sigusr1") == SIGUSR1);
  CHECK(parsed("KILL") == SIGKILL);
  CHECK(parsed("9") == 9);
  CHECK(parsed("SIGRTMIN+3") == SIGRTMIN + 3);
  CHECK(parse_error("SIGNOPE") == "invalid signal 'SIGNOPE'");
  CHECK(parse_error("0") == "invalid signal '0'");
  CHECK(parse_error("") == "invalid signal ''");
}

TEST_CASE("the port forwarder copies both ways once it has a target", "[runtime][ports]") {
  auto [server, server_port] = listen_loopback();
  // An upper-casing echo server for two connections.
  std::thread echo([server = server] {
    for (int i = 0; i < 2; ++i) {
      int conn = ::accept(server, nullptr, nullptr);
      std::string got;
      char buf[256];
      ssize_t n;
      while ((n = ::recv(conn, buf, sizeof(buf), 0)) > 0) {
        got.append(buf, static_cast<size_t>(n));
      }
      for (char& c : got) {
        c = static_cast<char>(std::toupper(c));
      }
      ::send(conn, got.data(), got.size(), MSG_NOSIGNAL);
      ::close(conn);
    }
  });
  auto forwarder = rt::PortForwarder::start("127.0.0.1", 0, server_port);
  REQUIRE(static_cast<bool>(forwarder));
  uint16_t port = (*forwarder)->host_port();
  CHECK(port != 0);
  // No target yet (the container is not running): the connection is closed.
  CHECK(round_trip(port, "early") == "");
  REQUIRE(!(*forwarder)->set_target(static_cast<int>(::getpid())));
  CHECK(round_trip(port, "hello") == "HELLO");
  std::string big(200000, 'x');
  std::string big_reply = round_trip(port, big);
  CHECK(big_reply.size() == big.size());
  CHECK(big_reply.find_first_not_of('X') == std::string::npos);
  REQUIRE(!(*forwarder)->set_target(0));
  CHECK(round_trip(port, "late") == "");
  forwarder->reset();
  echo.join();
  auto taken = rt::PortForwarder::start("127.0.0.1", server_port, 80);
  CHECK(!taken);
  CHECK(kiln::error_message(taken.takeError()) ==
        "publish port: bind 127.0.0.1:" + std::to_string(server_port) + ": address already in use");
  ::close(server);
}

TEST_CASE("a UDP port forwarder relays datagrams both ways for each client", "[runtime]") {
  int server = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
  uint16_t server_port = ntohs(addr.sin_port);
  std::thread echo([server] {
    // Upper-cases two datagrams back to their senders.
    for (int i = 0; i < 2; ++i) {
      char buf[256];
      sockaddr_in from{};
      socklen_t from_len = sizeof(from);
      ssize_t n =
          ::recvfrom(server, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      for (ssize_t j = 0; j < n; ++j) {
        buf[j] = static_cast<char>(std::toupper(static_cast<unsigned char>(buf[j])));
      }
      ::sendto(server, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from),
               from_len);
    }
  });
  auto forwarder = rt::PortForwarder::start_udp("127.0.0.1", 0, server_port, "127.0.0.1");
  REQUIRE(static_cast<bool>(forwarder));
  REQUIRE(!(*forwarder)->set_target(static_cast<int>(::getpid())));
  auto exchange = [&](const std::string& text) {
    int client = ::socket(AF_INET, SOCK_DGRAM, 0);
    timeval timeout{3, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons((*forwarder)->host_port());
    ::sendto(client, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    char buf[256];
    ssize_t n = ::recv(client, buf, sizeof(buf), 0);
    ::close(client);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  CHECK(exchange("one") == "ONE");
  CHECK(exchange("two") == "TWO");  // another client, its own reply
  echo.join();
  forwarder->reset();
  ::close(server);
}
