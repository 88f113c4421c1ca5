// `kiln compose` services reaching each other by service name, over kiln's user
// networks (network/).
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/run_fixture.h"

using kiln::testing::RunFixture;
using kiln::testutil::Output;

TEST_CASE_METHOD(RunFixture, "compose services reach each other by service name, also scaled") {
  std::string file = path("names/compose.yaml");
  kiln::testutil::write_file(path("names/www/index.html"), "served by web\n");
  kiln::testutil::write_file(file, R"(services:
  web:
    image: base:1
    command: httpd -f -p 8080 -h /www
    volumes:
      - ./www:/www
    networks:
      default:
        aliases: [www.local]
  client:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
    depends_on: [web]
)");
  auto compose = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"compose", "-f", file, "-p", "names"});
    return kiln(args);
  };
  Output up = compose({"up", "-d", "--scale", "web=3"});
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  for (const char* host : {"web", "www.local", "names-web-2"}) {
    std::string url = std::string("http://") + host + ":8080/";
    CHECK(eventually([&] {
      return compose({"exec", "-T", "client", "wget", "-q", "-O-", url}).out == "served by web\n";
    }));
  }
  // Three replicas answer to the name web.
  Output hosts = compose({"exec", "-T", "client", "sh", "-c", "grep -c -w web /etc/hosts"});
  CHECK(hosts.out == "3\n");
  Output down = compose({"down", "-v", "-t", "1"});
  INFO(down.err);
  CHECK(down.exit_code == 0);
  CHECK(kiln({"network", "ls", "-q", "--filter", "name=names_default"}).out == "");
  check_clean(all_ids());
}

TEST_CASE("compose runs examples/stackdemo: the app reaches redis by its service name",
          "[integration][stackdemo][slow]") {
  kiln::testutil::TempDir dir("kiln-compose-stackdemo-");
  std::string root = dir / "root";
  Output base = kiln::testutil::run({KILN_SOURCE_DIR "/examples/stackdemo/make-base"});
  INFO(base.err);
  REQUIRE(base.exit_code == 0);
  std::string tar = base.out.substr(0, base.out.find('\n'));
  REQUIRE(kiln::testutil::kiln(root, {"import", tar, "debian:bookworm-local"}).exit_code == 0);
  int port = RunFixture::free_port();
  std::string project = dir / "stackdemo";
  kiln::testutil::write_file(project + "/redis/Dockerfile",
                             "FROM debian:bookworm-local\n"
                             "RUN apt-get update && apt-get install -y --no-install-recommends "
                             "redis-server && rm -rf /var/lib/apt/lists/*\n"
                             "CMD [\"redis-server\", \"--protected-mode\", \"no\", \"--save\", "
                             "\"\", \"--appendonly\", \"no\"]\n");
  kiln::testutil::write_file(project + "/compose.yaml", R"(services:
  web:
    build: )" KILN_SOURCE_DIR R"(/examples/stackdemo
    ports:
      - "PORT:8000"
    environment:
      HOST: 0.0.0.0
      REDIS_HOST: redis
    depends_on: [redis]
  redis:
    build: ./redis
)");
  std::string text = kiln::testutil::read_file(project + "/compose.yaml");
  text.replace(text.find("PORT"), 4, std::to_string(port));
  kiln::testutil::write_file(project + "/compose.yaml", text);
  std::string file = project + "/compose.yaml";
  Output up = kiln::testutil::kiln(root, {"compose", "-f", file, "up", "-d", "--wait"});
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto curl = [&] {
    return kiln::testutil::run(
               {"curl", "-s", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port) + "/"})
        .out;
  };
  std::string first;
  for (int i = 0; i < 150 && first.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first = curl();
  }
  std::string second = curl();
  CHECK(first == "Hello World! I have been seen 1 times.\n");
  CHECK(second == "Hello World! I have been seen 2 times.\n");
  Output down = kiln::testutil::kiln(root, {"compose", "-f", file, "down", "-v", "-t", "1"});
  INFO(down.err);
  CHECK(down.exit_code == 0);
  Output mounts = kiln::testutil::run({"sh", "-c", "grep -c " + root + " /proc/mounts || true"});
  CHECK(mounts.out == "0\n");
}
