// The seed's example: examples/stackdemo (Flask + Redis) built on a Debian base
// made with debootstrap and `kiln import`, run with `kiln run`, answering on
// 127.0.0.1 with a redis-server the test starts.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"
#include "tests/registry/registry_fixture.h"

using kiln::testing::free_port;
using kiln::testutil::Output;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

// Starts argv in the background; returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    FILE* f = std::fopen(log.c_str(), "w");
    ::dup2(fileno(f), 1);
    ::dup2(fileno(f), 2);
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Ctrl-C: `kiln run` passes it on to the container, where Flask exits on SIGINT (as
// PID 1 it would ignore SIGTERM, as under docker); redis exits on either.
void stop(pid_t pid) {
  ::kill(pid, SIGINT);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

std::string curl(int port) {
  return run({"curl", "-s", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port) + "/"})
      .out;
}

}  // namespace

TEST_CASE("stackdemo: Flask + Redis on a debootstrap base answers on 127.0.0.1",
          "[integration][stackdemo][slow]") {
  Output base = run({KILN_SOURCE_DIR "/examples/stackdemo/make-base"});
  INFO(base.err);
  REQUIRE(base.exit_code == 0);
  std::string tar = base.out.substr(0, base.out.find('\n'));
  TempDir dir("kiln-stackdemo-");
  std::string root = dir / "root";
  Output imported = kiln::testutil::kiln(root, {"import", tar, "debian:bookworm-local"});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  Output built = kiln::testutil::kiln(root, {"build", "--progress=plain", "-t", "stackdemo:1",
                                             KILN_SOURCE_DIR "/examples/stackdemo"});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);

  int redis_port = free_port();
  pid_t redis = spawn({"redis-server", "--port", std::to_string(redis_port), "--bind", "127.0.0.1",
                       "--save", "", "--appendonly", "no"},
                      dir / "redis.log");
  int app_port = free_port();
  pid_t app = spawn({KILN_BINARY, "--root", root, "run", "--rm", "--network", "host", "-e",
                     "PORT=" + std::to_string(app_port), "-e",
                     "REDIS_PORT=" + std::to_string(redis_port), "stackdemo:1"},
                    dir / "app.log");
  std::string first;
  for (int i = 0; i < 150 && first.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first = curl(app_port);
  }
  std::string second = curl(app_port);
  stop(app);
  stop(redis);
  INFO(kiln::testutil::read_file(dir / "app.log"));
  CHECK(first == "Hello World! I have been seen 1 times.\n");
  CHECK(second == "Hello World! I have been seen 2 times.\n");
  // `kiln run --rm` removed its container: nothing of it stays mounted.
  Output mounts = run({"sh", "-c", "grep -c " + root + " /proc/mounts || true"});
  CHECK(mounts.out == "0\n");
}
