// compose's views (view.h: ps rows and JSON, port, top), log multiplexing
// (logs.h), exec's arguments (session.h) and config's text (project.h), over a
// fake Engine.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "compose/logs.h"
#include "compose/service.h"
#include "compose/session.h"
#include "compose/view.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

namespace {

using namespace kiln::compose;

constexpr int64_t kSecond = 1000000000LL;

ContainerInfo container(const std::string& service, int number, const std::string& state) {
  ContainerInfo c;
  c.id = "id-" + service + "-" + std::to_string(number);
  c.name = "app-" + service + "-" + std::to_string(number);
  c.image = "app-" + service;
  c.labels = {{kProjectLabel, "app"},
              {kServiceLabel, service},
              {kNumberLabel, std::to_string(number)},
              {kOneoffLabel, "False"}};
  c.state = state;
  c.pid = state == "running" ? 100 + number : 0;
  return c;
}

// Containers and their logs in memory; everything else is not needed here.
class FakeEngine : public Engine {
 public:
  std::vector<ContainerInfo> containers;
  std::map<std::string, std::vector<std::string>> logs;

  llvm::Error create_network(const std::string&, const Labels&) override { return unused(); }
  llvm::Error remove_network(const std::string&) override { return unused(); }
  llvm::Expected<bool> network_exists(const std::string&) override { return unused(); }
  llvm::Error create_volume(const std::string&, const Labels&) override { return unused(); }
  llvm::Error remove_volume(const std::string&) override { return unused(); }
  llvm::Expected<bool> volume_exists(const std::string&) override { return unused(); }
  llvm::Expected<std::vector<std::string>> list_volumes(const Labels&) override { return unused(); }
  llvm::Expected<std::vector<std::string>> list_networks(const Labels&) override {
    return unused();
  }
  llvm::Expected<std::vector<ContainerInfo>> list_containers(const Labels& labels) override {
    std::vector<ContainerInfo> out;
    for (const auto& c : containers) {
      bool all = true;
      for (const auto& [k, v] : labels) {
        all = all && c.labels.count(k) && c.labels.at(k) == v;
      }
      if (all) {
        out.push_back(c);
      }
    }
    return out;
  }
  llvm::Expected<ContainerInfo> inspect_container(const std::string& id) override {
    for (const auto& c : containers) {
      if (c.id == id) {
        return c;
      }
    }
    return kiln::make_error("no container " + id);
  }
  llvm::Expected<std::string> create_container(const ContainerRequest&) override {
    return unused();
  }
  llvm::Error start_container(const std::string&) override { return unused(); }
  llvm::Error stop_container(const std::string&, int) override { return unused(); }
  llvm::Error kill_container(const std::string&, int) override { return unused(); }
  llvm::Error remove_container(const std::string&, bool) override { return unused(); }
  llvm::Error read_logs(const std::string& id, int tail, bool,
                        const std::function<void(const LogLine&)>& on_line) override {
    const auto& lines = logs[id];
    size_t from = tail < 0 || static_cast<size_t>(tail) >= lines.size() ? 0 : lines.size() - tail;
    for (size_t i = from; i < lines.size(); ++i) {
      on_line({false, lines[i], "t" + std::to_string(i)});
    }
    return llvm::Error::success();
  }
  llvm::Expected<std::vector<kiln::containers::ProcessInfo>> processes(
      const std::string& id) override {
    if (id == "id-db-1") {
      return kiln::make_error("container " + id + " is not running");
    }
    return std::vector<kiln::containers::ProcessInfo>{{7, "0", "1", "sleep 100"}};
  }
  llvm::Expected<std::string> image_id(const std::string&) override { return unused(); }
  llvm::Error remove_image(const std::string&) override { return unused(); }

 private:
  static llvm::Error unused() { return kiln::make_error("not in this fake"); }
};

Project project_named(const std::string& name) {
  Project p;
  p.name = name;
  return p;
}

}  // namespace

TEST_CASE("compose ps status words and command column", "[compose][view]") {
  int64_t now = 1000 * kSecond;
  ContainerInfo c = container("web", 1, "running");
  c.started_ns = now - 3 * kSecond;
  CHECK(ps_status(c, now) == "Up 3 seconds");
  c.health = "healthy";
  CHECK(ps_status(c, now) == "Up 3 seconds (healthy)");
  c.state = "exited";
  c.exit_code = 7;
  c.finished_ns = now - 120 * kSecond;
  CHECK(ps_status(c, now) == "Exited (7) 2 minutes ago");
  c.state = "restarting";
  c.exit_code = 1;
  c.finished_ns = now - kSecond;
  CHECK(ps_status(c, now) == "Restarting (1) 1 second ago");
  c.state = "created";
  CHECK(ps_status(c, now) == "Created");

  c.command = {"sleep", "100"};
  CHECK(ps_command(c) == "\"sleep 100\"");
  c.command = {"python", "-m", "http.server", "8000"};
  CHECK(ps_command(c) == "\"python -m http.serv…\"");
}

TEST_CASE("compose ps rows and JSON", "[compose][view]") {
  int64_t now = 1000 * kSecond;
  ContainerInfo c = container("web", 1, "running");
  c.created_ns = now - 60 * kSecond;
  c.started_ns = now - 59 * kSecond;
  c.command = {"sleep", "100"};
  c.ports = {"127.0.0.1:8080->80/tcp", "127.0.0.1:8443->443/tcp"};
  auto rows = ps_table({c}, now);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::vector<std::string>{"NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED",
                                            "STATUS", "PORTS"});
  CHECK(rows[1] == std::vector<std::string>{"app-web-1", "app-web", "\"sleep 100\"", "web",
                                            "About a minute ago", "Up 59 seconds",
                                            "127.0.0.1:8080->80/tcp, 127.0.0.1:8443->443/tcp"});
  auto j = ps_json(c, "app", now);
  CHECK(j["Service"] == "web");
  CHECK(j["Project"] == "app");
  CHECK(j["RunningFor"] == "About a minute ago");
  CHECK(j["Status"] == "Up 59 seconds");
  CHECK(j["Ports"] == "127.0.0.1:8080->80/tcp, 127.0.0.1:8443->443/tcp");
  std::string keys;
  for (const auto& item : j.items()) {
    keys += item.key() + " ";
  }
  CHECK(keys ==
        "Command CreatedAt ExitCode Health ID Image Labels Name Names Ports Project RunningFor "
        "Service State Status ");
}

TEST_CASE("compose ps shows running containers unless --all", "[compose][view]") {
  FakeEngine engine;
  engine.containers = {container("web", 2, "running"), container("db", 1, "exited"),
                       container("web", 1, "restarting"), container("cache", 1, "created")};
  engine.containers.push_back(container("other", 1, "running"));
  engine.containers.back().labels[kProjectLabel] = "elsewhere";
  Project project = project_named("app");

  auto shown = ps_containers(engine, project, {}, false);
  REQUIRE(static_cast<bool>(shown));
  REQUIRE(shown->size() == 2);
  CHECK((*shown)[0].name == "app-web-1");
  CHECK((*shown)[1].name == "app-web-2");
  CHECK(service_names(*shown) == std::vector<std::string>{"web"});

  auto all = ps_containers(engine, project, {}, true);
  REQUIRE(static_cast<bool>(all));
  CHECK(service_names(*all) == std::vector<std::string>{"cache", "db", "web"});

  auto db = ps_containers(engine, project, {"db"}, true);
  REQUIRE(static_cast<bool>(db));
  REQUIRE(db->size() == 1);
  CHECK(db->front().name == "app-db-1");
}

TEST_CASE("compose port finds the published address", "[compose][view]") {
  FakeEngine engine;
  engine.containers = {container("web", 1, "running")};
  engine.containers[0].ports = {"0.0.0.0:49153->8000/tcp", "127.0.0.1:5353->53/udp"};
  Project project = project_named("app");
  auto tcp = published_port(engine, project, "web", 1, 8000, "tcp");
  REQUIRE(static_cast<bool>(tcp));
  CHECK(*tcp == "0.0.0.0:49153");
  auto udp = published_port(engine, project, "web", 1, 53, "udp");
  REQUIRE(static_cast<bool>(udp));
  CHECK(*udp == "127.0.0.1:5353");
  auto missing = published_port(engine, project, "web", 1, 53, "tcp");
  REQUIRE(!missing);
  CHECK(llvm::toString(missing.takeError()) == "no port 53/tcp for container app-web-1");
  auto stopped = published_port(engine, project, "db", 1, 53, "tcp");
  REQUIRE(!stopped);
  CHECK(llvm::toString(stopped.takeError()) == "service 'db' is not running");
}

TEST_CASE("compose top lists the running containers' processes", "[compose][view]") {
  FakeEngine engine;
  engine.containers = {container("web", 1, "running"), container("db", 1, "running"),
                       container("cache", 1, "exited")};
  auto list = top(engine, project_named("app"), {});
  REQUIRE(static_cast<bool>(list));
  // db stopped between the listing and /proc: left out.
  REQUIRE(list->size() == 1);
  CHECK(list->front().name == "app-web-1");
  REQUIRE(list->front().processes.size() == 1);
  CHECK(list->front().processes[0].command == "sleep 100");
}

TEST_CASE("compose top's table: a header and a row per process", "[compose][view]") {
  ContainerProcesses c{"app-web-1", {{42, "0", "1", "sleep 100"}, {43, "?", "?", "sh"}}};
  CHECK(top_rows(c) == std::vector<std::vector<std::string>>{{"UID", "PID", "PPID", "CMD"},
                                                             {"0", "42", "1", "sleep 100"},
                                                             {"?", "43", "?", "sh"}});
  CHECK(top_rows(ContainerProcesses{"app-db-1", {}}).size() == 1);
}

TEST_CASE("compose logs: every container's lines, tails and exits", "[compose][logs]") {
  FakeEngine engine;
  engine.containers = {container("web", 1, "exited"), container("db", 1, "running")};
  engine.containers[0].exit_code = 3;
  engine.logs["id-web-1"] = {"w1", "w2", "w3"};
  engine.logs["id-db-1"] = {"d1"};
  LogOptions options;
  options.tail = 2;
  options.report_exit = true;
  std::map<size_t, std::vector<std::string>> lines;
  std::vector<std::string> exits;
  multiplex_logs(
      engine, engine.containers, options,
      [&](size_t i, const LogLine& line) { lines[i].push_back(line.time + " " + line.text); },
      [&](size_t i, int code) {
        exits.push_back(short_name(engine.containers[i]) + " " + std::to_string(code));
      },
      nullptr);
  CHECK(lines[0] == std::vector<std::string>{"t1 w2", "t2 w3"});
  CHECK(lines[1] == std::vector<std::string>{"t0 d1"});
  // Only the exited container is reported.
  CHECK(exits == std::vector<std::string>{"web-1 3"});

  lines.clear();
  exits.clear();
  multiplex_logs(
      engine, engine.containers, options,
      [&](size_t i, const LogLine& l) { lines[i].push_back(l.text); },
      [&](size_t i, int) { exits.push_back(std::to_string(i)); }, [] { return true; });
  CHECK(lines.empty());
  CHECK(exits.empty());
}

TEST_CASE("compose log prefixes drop the project name", "[compose][logs]") {
  ContainerInfo c = container("web", 1, "running");
  CHECK(short_name(c) == "web-1");
  c.name = "custom";
  CHECK(short_name(c) == "custom");
  c.labels.erase(kProjectLabel);
  c.name = "app-web-1";
  CHECK(short_name(c) == "app-web-1");
}

TEST_CASE("compose log labels: padded prefixes, one number per service", "[compose][logs]") {
  std::vector<ContainerInfo> list = {container("web", 1, "running"), container("db", 1, "running"),
                                     container("web", 2, "running"),
                                     container("worker", 10, "running")};
  auto labels = log_labels(list);
  REQUIRE(labels.size() == 4);
  CHECK(labels[0].name == "web-1");
  CHECK(labels[0].prefix == "web-1      | ");
  CHECK(labels[3].prefix == "worker-10  | ");
  CHECK(labels[0].service == 0);
  CHECK(labels[1].service == 1);
  CHECK(labels[2].service == 0);
  CHECK(labels[3].service == 2);

  CHECK(log_prefixes(labels, LogPrefix::none) == std::vector<std::string>{"", "", "", ""});
  CHECK(
      log_prefixes(labels, LogPrefix::plain) ==
      std::vector<std::string>{"web-1      | ", "db-1       | ", "web-2      | ", "worker-10  | "});
  CHECK(log_prefixes(labels, LogPrefix::coloured) ==
        std::vector<std::string>{"\033[36mweb-1      | \033[0m", "\033[33mdb-1       | \033[0m",
                                 "\033[36mweb-2      | \033[0m", "\033[32mworker-10  | \033[0m"});
}

TEST_CASE("compose exec's kiln exec arguments", "[compose][session]") {
  ExecOptions o;
  o.command = {"sh", "-c", "echo hi"};
  CHECK(exec_args(o, "abc") ==
        std::vector<std::string>{"exec", "-i", "abc", "sh", "-c", "echo hi"});
  o.tty = true;
  o.env = {"A=1", "B=2"};
  o.user = "nobody";
  o.workdir = "/tmp";
  CHECK(exec_args(o, "abc") == std::vector<std::string>{"exec", "-it", "-e", "A=1", "-e", "B=2",
                                                        "-u", "nobody", "-w", "/tmp", "abc", "sh",
                                                        "-c", "echo hi"});
  o = ExecOptions{};
  o.detach = true;
  o.command = {"true"};
  CHECK(exec_args(o, "abc") == std::vector<std::string>{"exec", "-d", "abc", "true"});
}

TEST_CASE("compose config prints names or the model", "[compose][config]") {
  std::string dir = "/tmp/kiln-compose-view-test-" + std::to_string(::getpid()) + "/app";
  kiln::testutil::write_file(dir + "/compose.yaml", R"(services:
  web:
    image: nginx:1
  worker:
    build: .
volumes:
  data: {}
)");
  LoadOptions options;
  options.working_dir = dir;
  auto project = load_project(options, nullptr);
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
  REQUIRE(static_cast<bool>(project));
  auto text = [&](ConfigPart part, bool json = false) {
    auto t = config_text(*project, part, json);
    REQUIRE(static_cast<bool>(t));
    return *t;
  };
  CHECK(text(ConfigPart::services) == "web\nworker\n");
  CHECK(text(ConfigPart::volumes) == "data\n");
  CHECK(text(ConfigPart::images) == "nginx:1\napp-worker\n");
  CHECK(text(ConfigPart::model) == config_yaml(*project));
  CHECK(text(ConfigPart::model, true) == config_json(*project));
  CHECK(text(ConfigPart::model).find("name: app\n") == 0);
}

TEST_CASE("compose images: each container's image, familiar name and short ID", "[compose][view]") {
  ContainerInfo web = container("web", 1, "running");
  web.image = "docker.io/library/app-web:latest";
  web.image_id = "sha256:" + std::string(12, 'a') + std::string(52, 'b');
  ContainerInfo db = container("db", 1, "exited");
  db.image = "127.0.0.1:5000/team/db:15";
  db.image_id = "sha256:" + std::string(64, 'c');
  CHECK(kiln::compose::images_table({web, db}) ==
        std::vector<std::vector<std::string>>{
            {"CONTAINER", "REPOSITORY", "TAG", "IMAGE ID"},
            {"app-web-1", "app-web", "latest", "aaaaaaaaaaaa"},
            {"app-db-1", "127.0.0.1:5000/team/db", "15", "cccccccccccc"}});
}
