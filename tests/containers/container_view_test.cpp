// How containers read in `kiln ps` and `kiln inspect`: docker's status words,
// command and ports columns, with no store and no runtime.
#include "containers/container_view.h"

#include <catch2/catch.hpp>

using kiln::containers::ContainerSpec;
using kiln::containers::ContainerState;
using kiln::containers::ContainerStatus;

namespace {
constexpr int64_t kSecond = 1000000000;
}  // namespace

TEST_CASE("status text as docker ps writes it", "[containers][view]") {
  int64_t now = 1000 * kSecond;
  ContainerState s;
  CHECK(kiln::containers::status_text(s, now) == "Created");
  s.status = ContainerStatus::running;
  s.started_ns = now - 3 * kSecond;
  CHECK(kiln::containers::status_text(s, now) == "Up 3 seconds");
  s.health.status = "starting";
  CHECK(kiln::containers::status_text(s, now) == "Up 3 seconds (health: starting)");
  s.health.status = "healthy";
  s.started_ns = now - 120 * kSecond;
  CHECK(kiln::containers::status_text(s, now) == "Up 2 minutes (healthy)");
  s.paused = true;
  CHECK(kiln::containers::status_text(s, now) == "Up 2 minutes (Paused)");
  s = ContainerState{};
  s.status = ContainerStatus::exited;
  CHECK(kiln::containers::status_text(s, now) == "Created");  // never started
  s.started_ns = now - 200 * kSecond;
  s.finished_ns = now - 120 * kSecond;
  s.exit_code = 7;
  CHECK(kiln::containers::status_text(s, now) == "Exited (7) 2 minutes ago");
  s.status = ContainerStatus::restarting;
  s.exit_code = 1;
  s.finished_ns = now - kSecond;
  CHECK(kiln::containers::status_text(s, now) == "Restarting (1) 1 second ago");
}

TEST_CASE("command and ports columns", "[containers][view]") {
  ContainerSpec spec;
  spec.process.args = {"httpd", "-f", "-p", "80"};
  CHECK(kiln::containers::command_text(spec) == "httpd -f -p 80");
  kiln::containers::ContainerView view{spec, ContainerState{}};
  CHECK(kiln::containers::ports_text(view) == "");
  view.spec.ports.push_back({"127.0.0.1", 8080, 80, "tcp"});
  view.spec.ports.push_back({"127.0.0.2", 5353, 53, "udp"});
  CHECK(kiln::containers::ports_text(view) == "127.0.0.1:8080->80/tcp, 127.0.0.2:5353->53/udp");
  // An ephemeral host port shows only once the runner has bound and recorded it.
  view.spec.ports.push_back({"127.0.0.1", 0, 8000, "tcp"});
  CHECK(kiln::containers::ports_text(view) == "127.0.0.1:8080->80/tcp, 127.0.0.2:5353->53/udp");
  view.state.status = kiln::containers::ContainerStatus::running;
  view.state.host_ports = {8080, 5353, 40123};
  CHECK(kiln::containers::ports_text(view) ==
        "127.0.0.1:8080->80/tcp, 127.0.0.2:5353->53/udp, 127.0.0.1:40123->8000/tcp");
}
