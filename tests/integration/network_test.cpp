// User networks: containers find each other by name and alias as they come and
// go, -p reaches a container's address only, and the host's namespace gains
// nothing (issue 16).
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/integration/run_fixture.h"

namespace {

using kiln::testing::RunFixture;
using kiln::testutil::Output;

// A web server on port 8080 of every address, answering `text` at /.
std::vector<std::string> web_server(const std::string& text) {
  return {"sh", "-c",
          "mkdir -p /www && echo " + text + " > /www/index.html && httpd -f -p 8080 -h /www"};
}

std::string host_network() {
  Output addr = kiln::testutil::run({"ip", "-o", "addr"});
  Output link = kiln::testutil::run({"ip", "-o", "link"});
  Output route = kiln::testutil::run({"ip", "route"});
  // Drop link counters and flags that change on their own.
  std::string links;
  std::istringstream lines(link.out);
  std::string line;
  while (std::getline(lines, line)) {
    links += line.substr(0, line.find(':', line.find(':') + 1)) + "\n";
  }
  return addr.out + links + route.out;
}

std::string ip_on(const RunFixture& f, const std::string& network, const std::string& container) {
  auto json = nlohmann::json::parse(f.ok({"network", "inspect", network}));
  for (const auto& [id, c] : json[0]["Containers"].items()) {
    if (c["Name"] == container) {
      return c["IPv4Address"].get<std::string>();
    }
  }
  return "";
}

// Nothing of the store's networks is left: no namespace mounted, no veth.
void check_networks_clean(const RunFixture& f) {
  CHECK(f.store_mounts().empty());
  Output nsfs = kiln::testutil::run({"sh", "-c", "grep nsfs /proc/mounts | grep -c " + f.root()});
  CHECK(RunFixture::trim(nsfs.out) == "0");
  Output files = kiln::testutil::run({"find", f.root() + "/networks", "-name", "netns"});
  CHECK(files.out == "");
  // The network's pasta (outbound traffic) goes with its last container.
  CHECK(kiln::testutil::run({"pgrep", "-f", f.root() + "/networks/"}).out == "");
}

}  // namespace

TEST_CASE("containers on a user network fetch http://web:8080/ by name, also after web restarts",
          "[integration][network]") {
  RunFixture f;
  std::string before = host_network();
  f.ok({"network", "create", "app"});
  std::vector<std::string> run_web = {"run", "-d", "--name", "web", "--network", "app", "base:1"};
  auto server = web_server("one");
  run_web.insert(run_web.end(), server.begin(), server.end());
  f.ok(run_web);
  std::string first_ip = ip_on(f, "app", "web");
  CHECK(std::regex_match(first_ip, std::regex(R"(10\.89\.\d+\.\d+/24)")));
  // A client that stays up while the server goes and comes back.
  f.ok({"run", "-d", "--name", "client", "--network", "app", "base:1", "sleep", "600"});
  auto fetch = [&] {
    return f.kiln({"exec", "client", "wget", "-q", "-O", "-", "http://web:8080/"}).out;
  };
  CHECK(RunFixture::eventually([&] { return fetch() == "one\n"; }));
  // The host's namespace has no new interface, address or route while they run.
  CHECK(host_network() == before);
  if (::access("/usr/bin/pasta", X_OK) == 0) {
    CHECK(kiln::testutil::run({"pgrep", "-f", f.root() + "/networks/app/netns"}).out != "");
  }
  // A one-off container too, by name.
  CHECK(f.ok({"run", "--rm", "--network", "app", "base:1", "wget", "-q", "-O", "-",
              "http://web:8080/"}) == "one\n");
  CHECK(f.ok({"network", "inspect", "app"}).find("\"Name\": \"client\"") != std::string::npos);

  f.ok({"rm", "-f", "web"});
  CHECK(f.kiln({"exec", "client", "wget", "-q", "-O", "-", "http://web:8080/"}).exit_code != 0);
  server = web_server("two");
  run_web = {"run", "-d", "--name", "web", "--network", "app", "base:1"};
  run_web.insert(run_web.end(), server.begin(), server.end());
  f.ok(run_web);
  std::string second_ip = ip_on(f, "app", "web");
  CHECK(second_ip != first_ip);
  CHECK(RunFixture::eventually([&] { return fetch() == "two\n"; }));
  CHECK(host_network() == before);

  // Not from the host: the address lives in the network's own namespace (this
  // host routes 10.89/16 to its gateway, whose answer is not the server's).
  std::string ip = second_ip.substr(0, second_ip.find('/'));
  Output direct = kiln::testutil::run({"curl", "-s", "-m", "1", "http://" + ip + ":8080/"});
  CHECK(direct.out.find("two") == std::string::npos);

  CHECK(f.kiln({"network", "rm", "app"}).err.find("has active endpoints") != std::string::npos);
  f.check_clean({});
  check_networks_clean(f);
  CHECK(host_network() == before);
  CHECK(f.ok({"network", "rm", "app"}) == "app\n");
  CHECK(f.kiln({"network", "inspect", "app"}).err == "error: network app not found\n");
}

TEST_CASE(
    "network aliases (--network-alias, network connect --alias) resolve, and disconnect removes "
    "the name",
    "[integration][network]") {
  RunFixture f;
  f.ok({"network", "create", "--subnet", "10.77.3.0/24", "back"});
  std::vector<std::string> run_db = {
      "run", "-d", "--name", "db1", "--network", "back", "--network-alias", "database", "base:1"};
  auto server = web_server("db");
  run_db.insert(run_db.end(), server.begin(), server.end());
  f.ok(run_db);
  CHECK(ip_on(f, "back", "db1").rfind("10.77.3.", 0) == 0);
  auto fetch = [&](const std::string& network, const std::string& host) {
    return f.kiln({"run", "--rm", "--network", network, "base:1", "wget", "-q", "-O", "-",
                   "http://" + host + ":8080/"});
  };
  CHECK(RunFixture::eventually([&] { return fetch("back", "database").out == "db\n"; }));
  CHECK(fetch("back", "db1").out == "db\n");
  // Another network: db1 joins it with an alias of that network only.
  f.ok({"network", "create", "front"});
  CHECK(fetch("front", "db1").exit_code != 0);
  f.ok({"network", "connect", "--alias", "store", "front", "db1"});
  CHECK(fetch("front", "store").out == "db\n");
  CHECK(fetch("front", "database").exit_code != 0);
  // A rename is seen by the peers at once.
  f.ok({"rename", "db1", "db2"});
  CHECK(fetch("back", "db2").out == "db\n");
  CHECK(fetch("back", "db1").exit_code != 0);
  f.ok({"network", "disconnect", "front", "db2"});
  CHECK(fetch("front", "store").exit_code != 0);
  CHECK(fetch("back", "database").out == "db\n");
  // --add-host and --hostname land in /etc/hosts.
  std::string hosts = f.ok({"run", "--rm", "--network", "back", "--hostname", "box", "--add-host",
                            "printer:10.1.2.3", "base:1", "cat", "/etc/hosts"});
  CHECK(hosts.find("10.1.2.3\tprinter\n") != std::string::npos);
  CHECK(std::regex_search(hosts, std::regex(R"(10\.77\.3\.\d+\tbox)")));
  CHECK(f.ok({"run", "--rm", "--dns", "10.9.9.9", "base:1", "cat", "/etc/resolv.conf"}) ==
        "nameserver 10.9.9.9\n");
  f.check_clean({});
  auto declined = f.kiln({"network", "prune"}, "");  // no answer: nothing is removed
  CHECK(declined.err ==
        "WARNING! This will remove all custom networks not used by at least one container.\n"
        "Are you sure you want to continue? [y/N] ");
  CHECK(declined.out == "");
  CHECK(f.ok({"network", "prune"}, "y\n") == "Deleted Networks:\nback\nfront\n");
  check_networks_clean(f);
}

TEST_CASE(
    "publishing with -p reaches a server on the container's address, not one on its 127.0.0.1",
    "[integration][network]") {
  RunFixture f;
  int open_port = RunFixture::free_port();
  int local_port = RunFixture::free_port();
  while (local_port == open_port) {
    local_port = RunFixture::free_port();
  }
  f.ok({"run", "-d", "--name", "pub", "-p", std::to_string(open_port) + ":8080", "-p",
        "127.0.0.1:" + std::to_string(local_port) + ":8081", "base:1", "sh", "-c",
        "mkdir /www && echo pub > /www/index.html && httpd -p 8080 -h /www && "
        "httpd -f -p 127.0.0.1:8081 -h /www"});
  auto curl = [](int port) {
    return kiln::testutil::run(
        {"curl", "-s", "-m", "3", "http://127.0.0.1:" + std::to_string(port) + "/"});
  };
  CHECK(RunFixture::eventually([&] { return curl(open_port).out == "pub\n"; }));
  // The server on 127.0.0.1:8081 runs, but -p does not reach it (as in docker).
  CHECK(f.ok({"exec", "pub", "wget", "-q", "-O", "-", "http://127.0.0.1:8081/"}) == "pub\n");
  CHECK(curl(local_port).out == "");
  CHECK(f.ok({"port", "pub"}) == "8080/tcp -> 127.0.0.1:" + std::to_string(open_port) +
                                     "\n8081/tcp -> 127.0.0.1:" + std::to_string(local_port) +
                                     "\n");
  CHECK(f.ok({"port", "pub", "8080"}) == "127.0.0.1:" + std::to_string(open_port) + "\n");
  f.check_clean({});
  check_networks_clean(f);
}
