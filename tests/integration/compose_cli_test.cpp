// `kiln compose` beyond up and down: ports published on ephemeral host ports
// (compose port, kiln port, ps), compose run with stdin attached, the tty
// progress block, config's formats and `-f -`, and the service keys that become
// `kiln run` flags (mem_limit, cpus, platform).
#include <chrono>
#include <regex>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/compose_fixture.h"

using kiln::testing::ComposeFixture;
using kiln::testing::RunFixture;
using kiln::testutil::Output;

namespace {

Output curl(const std::string& address) {
  return kiln::testutil::run({"curl", "-sf", "-m", "3", "http://" + address + "/index.html"});
}

// Two httpd on 8000 and 8001 in one container; neither port has a host port.
const char* const kEphemeral = R"(services:
  web:
    image: base:1
    stop_signal: SIGKILL
    command: ["sh", "-c", "mkdir -p /www && echo served > /www/index.html && httpd -p 8001 -h /www && exec httpd -f -p 8000 -h /www"]
    ports:
      - "8000"
      - target: 8001
)";

}  // namespace

TEST_CASE_METHOD(ComposeFixture,
                 "compose publishes ports without a host port on ephemeral loopback ports") {
  write(kEphemeral);
  compose_ok({"up", "-d"});
  std::string address = trim(compose_ok({"port", "web", "8000"}));
  REQUIRE(std::regex_match(address, std::regex(R"(127\.0\.0\.1:[0-9]+)")));
  CHECK(address != "127.0.0.1:8000");
  CHECK(eventually([&] { return curl(address).out == "served\n"; }));
  std::string other =
      trim(compose_ok({"port", "--protocol", "tcp", "--index", "1", "web", "8001"}));
  CHECK(other != address);
  CHECK(eventually([&] { return curl(other).out == "served\n"; }));
  // kiln port and both ps show the chosen ports.
  CHECK(trim(ok({"port", "proj-web-1", "8000"})) == address);
  CHECK(ok({"port", "proj-web-1"}).find("8001/tcp -> " + other + "\n") != std::string::npos);
  CHECK(compose_ok({"ps"}).find(address + "->8000/tcp") != std::string::npos);
  CHECK(ok({"ps"}).find(address + "->8000/tcp, " + other + "->8001/tcp") != std::string::npos);
  auto inspect = nlohmann::json::parse(ok({"inspect", "proj-web-1"}))[0];
  CHECK(inspect["HostConfig"]["PortBindings"]["8000/tcp"][0]["HostPort"] == "");
  CHECK(inspect["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"] ==
        address.substr(address.find(':') + 1));

  Output missing = compose({"port", "web", "9999"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "error: no port 9999/tcp for container proj-web-1\n");
  CHECK(compose({"port", "web", "8000", "--protocol", "udp"}).err ==
        "error: no port 8000/udp for container proj-web-1\n");
  CHECK(compose({"port", "web", "http"}).err.find("invalid port 'http'") != std::string::npos);
  CHECK(compose({"port", "web", "8000", "--index", "2"}).err ==
        "error: service 'web' is not running\n");

  // Stopped, the ephemeral ports are gone; started again, they are bound anew.
  compose_ok({"stop", "-t", "1"});
  CHECK(ok({"port", "proj-web-1"}) == "");
  compose_ok({"start"});
  std::string again = trim(compose_ok({"port", "web", "8000"}));
  CHECK(eventually([&] { return curl(again).out == "served\n"; }));
  down_and_check();
}

TEST_CASE("kiln run -p CONTAINER_PORT publishes on an ephemeral loopback port",
          "[integration][run][compose]") {
  RunFixture f;
  std::string id = RunFixture::trim(
      f.ok({"run", "-d", "--name", "eph", "-p", "8000", "base:1", "sh", "-c",
            "mkdir /www && echo eph > /www/index.html && exec httpd -f -p 8000 -h /www"}));
  std::string address = RunFixture::trim(f.ok({"port", "eph", "8000/tcp"}));
  REQUIRE(std::regex_match(address, std::regex(R"(127\.0\.0\.1:[0-9]+)")));
  CHECK(RunFixture::eventually([&] { return curl(address).out == "eph\n"; }));
  CHECK(f.kiln({"run", "-d", "-p", "0.0.0.0::80", "base:1", "true"}).err ==
        "error: invalid publish '0.0.0.0::80': kiln publishes ports on loopback addresses "
        "(127.x.x.x) only\n");
  f.check_clean({id});
}

TEST_CASE_METHOD(ComposeFixture, "compose run attaches stdin, -T runs without a tty, -d detaches") {
  write("services:\n  svc:\n    image: base:1\n    command: sleep 300\n");
  Output piped = compose({"run", "--rm", "-T", "svc", "cat"}, "hi\n");
  INFO(piped.err);
  CHECK(piped.exit_code == 0);
  CHECK(piped.out == "hi\n");
  // Without -T it is the same when stdin is no terminal; the exit code is the
  // command's.
  Output code =
      compose({"run", "--rm", "svc", "sh", "-c", "read line; echo got $line; exit 3"}, "there\n");
  CHECK(code.exit_code == 3);
  CHECK(code.out == "got there\n");
  CHECK(ids().empty());  // --rm removed them
  // -i=false: the command sees no input.
  CHECK(compose({"run", "--rm", "-T", "--interactive=false", "svc", "cat"}, "ignored\n").out == "");
  Output detached = compose({"run", "-d", "svc", "sleep", "300"});
  REQUIRE(detached.exit_code == 0);
  std::string name = trim(detached.out);
  CHECK(std::regex_match(name, std::regex("proj-svc-run-[0-9a-f]{12}")));
  CHECK(ok({"ps", "--format", "{{.Names}}"}) == name + "\n");
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture, "compose up on a terminal draws docker's [+] Running block") {
  write(
      "services:\n  a:\n    image: base:1\n    command: sleep 300\n    stop_signal: SIGKILL\n"
      "  b:\n    image: base:1\n    command: sleep 300\n    stop_signal: SIGKILL\n");
  std::string cmd =
      std::string(KILN_BINARY) + " --root " + root() + " compose -f " + file + " -p proj up -d";
  Output tty = kiln::testutil::run({"script", "-qec", cmd, "/dev/null"});
  INFO(tty.out);
  CHECK(tty.exit_code == 0);
  CHECK(tty.out.find("[+] Running 3/3") != std::string::npos);
  CHECK(tty.out.find(" ✔ Container proj-a-1    Started") != std::string::npos);
  CHECK(tty.out.find(" ✔ Network proj_default  Created") != std::string::npos);
  // Not on a terminal: the lines as before, no block.
  std::string plain = compose_ok({"up", "-d"});
  CHECK(plain.find("[+]") == std::string::npos);
  CHECK(plain.find(" Container proj-a-1  Running\n") != std::string::npos);
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture, "compose config: --format json, --images, -q and -f -") {
  write(
      "name: cfg\nservices:\n  web:\n    image: base:1\n  app:\n    build: .\n"
      "volumes:\n  data: {}\n");
  auto json = nlohmann::json::parse(compose_ok({"config", "--format", "json"}));
  CHECK(json["services"]["web"]["image"] == "base:1");
  CHECK(json["volumes"]["data"]["name"] == "proj_data");
  CHECK(compose_ok({"config", "--images"}) == "proj-app\nbase:1\n");
  CHECK(compose_ok({"config", "--services"}) == "app\nweb\n");
  CHECK(compose_ok({"config", "--volumes"}) == "data\n");
  CHECK(compose_ok({"config", "-q"}) == "");
  // -o: the same text in a file, written whole (atomically); a missing directory is named.
  std::string saved = file + ".out";
  CHECK(compose_ok({"config", "-o", saved}) == "");
  CHECK(kiln::testutil::read_file(saved) == compose_ok({"config"}));
  Output nowhere = compose({"config", "-o", "/nonexistent-kiln-dir/c.yaml"});
  CHECK(nowhere.exit_code == 1);
  CHECK(nowhere.err.find("'/nonexistent-kiln-dir/c.yaml") != std::string::npos);
  CHECK(compose({"config", "--format", "xml"}).err ==
        "error: unsupported format 'xml' (valid: yaml, json)\n");

  // -f -: the file from stdin, standing in the current directory.
  std::string from_stdin = "services:\n  s:\n    image: base:1\n    volumes: [./d:/d]\n";
  Output piped = kiln({"compose", "-f", "-", "-p", "piped", "config"}, from_stdin);
  CHECK(piped.exit_code == 0);
  CHECK(piped.out.find("name: piped\n") == 0);
  CHECK(piped.out.find("source: " + std::filesystem::current_path().string() + "/d\n") !=
        std::string::npos);
  // stdin merged over a file.
  Output merged = kiln({"compose", "-f", file, "-f", "-", "-p", "m", "config", "--services"},
                       "services:\n  extra:\n    image: base:1\n");
  CHECK(merged.out == "app\nextra\nweb\n");
  // Hostile: nothing on stdin, stdin twice, and YAML that is no mapping.
  Output empty = kiln({"compose", "-f", "-", "-p", "e", "config"}, "");
  CHECK(empty.exit_code == 1);
  CHECK(empty.err == "error: -: empty compose file\n");
  Output twice = kiln({"compose", "-f", "-", "-f", "-", "config"}, "services: {}\n");
  CHECK(twice.err == "error: -f - (stdin) can be given only once\n");
  Output list = kiln({"compose", "-f", "-", "-p", "l", "config"}, "- a\n- b\n");
  CHECK(list.err == "error: -:1: top-level object must be a mapping\n");
}

TEST_CASE_METHOD(ComposeFixture,
                 "compose !reset drops an unknown key before validation but !override does not") {
  write("services:\n  web:\n    image: base:1\n    ports: [\"8080:80\"]\n");
  std::string over = path("proj/override.yaml");
  kiln::testutil::write_file(over,
                             "services:\n  web:\n    ports: !reset []\n"
                             "    no_such_key: !reset 1\n");
  Output reset = kiln({"compose", "-f", file, "-f", over, "-p", "proj", "config"});
  CHECK(reset.exit_code == 0);
  CHECK(reset.out.find("ports") == std::string::npos);
  CHECK(reset.out.find("no_such_key") == std::string::npos);
  kiln::testutil::write_file(over, "services:\n  web:\n    no_such_key: !override 1\n");
  Output unknown = kiln({"compose", "-f", file, "-f", over, "-p", "proj", "config"});
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.err.find("no_such_key") != std::string::npos);
}

TEST_CASE_METHOD(ComposeFixture, "compose applies mem_limit, cpus and platform as kiln run does") {
  write(
      "services:\n  app:\n    image: base:1\n    command: sleep 300\n    stop_signal: SIGKILL\n"
      "    mem_limit: 64m\n    cpus: 0.5\n");
  compose_ok({"up", "-d"});
  std::string stats = ok({"stats", "--no-stream", "proj-app-1"});
  CHECK(stats.find("/ 64MiB") != std::string::npos);
  std::string id = inspect("proj-app-1", "{{.Id}}");
  CHECK(kiln::testutil::read_file(root() + "/containers/" + id + "/config.json")
            .find("\"cpus\": 0.5") != std::string::npos);
  // deploy.resources.limits where mem_limit is not given.
  write(
      "services:\n  app:\n    image: base:1\n    command: sleep 300\n    stop_signal: SIGKILL\n"
      "    deploy:\n      resources:\n        limits:\n          memory: 32m\n");
  compose_ok({"up", "-d"});
  CHECK(ok({"stats", "--no-stream", "proj-app-1"}).find("/ 32MiB") != std::string::npos);
  // A platform the image does not have is refused, as kiln run --platform is.
  write(
      "services:\n  app:\n    image: base:1\n    command: sleep 300\n"
      "    platform: linux/s390x\n");
  Output wrong = compose({"up", "-d"});
  CHECK(wrong.exit_code != 0);
  CHECK(wrong.err.find("s390x") != std::string::npos);
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture,
                 "compose kill ends a service's container and compose start runs it again") {
  write("services:\n  svc:\n    image: base:1\n    command: sleep 300\n    restart: always\n");
  compose_ok({"up", "-d"});
  auto status = [&] {
    return trim(ok({"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "proj-svc-1"}));
  };
  CHECK(status() == "running 0");
  compose_ok({"kill", "svc"});
  // A kill is a stop the user asked for: restart: always does not bring it back.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(status() == "exited 137");
  compose_ok({"start", "svc"});
  CHECK(status() == "running 0");
  // A second start of a running container changes nothing.
  compose_ok({"start", "svc"});
  CHECK(status() == "running 0");
  down_and_check();
}
