// `kiln compose` with real containers on busybox bases: up/ps/down leave
// nothing behind, a second up changes nothing, an edited service is recreated
// alone, depends_on service_healthy delays its dependent, --scale, up --wait,
// builds, and the tutorial's compose file (image names adapted).
#include <filesystem>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/build_fixture.h"
#include "tests/integration/compose_fixture.h"

using kiln::testing::ComposeFixture;
using kiln::testing::RunFixture;
using kiln::testutil::Output;

namespace {

const char* const kTwoServices = R"(services:
  web:
    image: base:1
    command: ["sh", "-c", "echo web says $$GREETING; exec sleep 300"]
    stop_signal: SIGKILL
    environment:
      GREETING: hello
    depends_on: [db]
  db:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
)";

}  // namespace

TEST_CASE_METHOD(ComposeFixture, "compose up -d, ps and down -v leave nothing behind") {
  write(kTwoServices);
  std::string out = compose_ok({"up", "-d"});
  CHECK(out.find("Network proj_default  Created") != std::string::npos);
  CHECK(out.find("Container proj-db-1  Started") != std::string::npos);
  CHECK(out.find("Container proj-web-1  Started") != std::string::npos);
  CHECK(out.find("Container proj-db-1  Started") < out.find("Container proj-web-1  Created"));
  auto running = ids();
  REQUIRE(running.size() == 2);
  CHECK(running.count("proj-web-1"));
  CHECK(label("proj-web-1", "com.docker.compose.service") == "web");
  CHECK(eventually([&] {
    return compose_ok({"logs", "web"}).find("web-1  | web says hello") != std::string::npos;
  }));
  std::string ps = compose_ok({"ps"});
  CHECK(ps.find("NAME") == 0);
  CHECK(ps.find("proj-db-1") != std::string::npos);
  CHECK(compose_ok({"ps", "--services"}) == "db\nweb\n");
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture,
                 "compose up twice is a no-op and an edited service is recreated alone") {
  write(kTwoServices);
  compose_ok({"up", "-d"});
  auto first = ids();
  std::string again = compose_ok({"up", "-d"});
  CHECK(again.find("Container proj-db-1  Running") != std::string::npos);
  CHECK(again.find("Container proj-web-1  Running") != std::string::npos);
  CHECK(again.find("Created") == std::string::npos);
  CHECK(again.find("Recreated") == std::string::npos);
  CHECK(ids() == first);

  std::string edited = kTwoServices;
  edited.replace(edited.find("GREETING: hello"), 15, "GREETING: bonjour");
  write(edited);
  std::string out = compose_ok({"up", "-d"});
  CHECK(out.find("Container proj-web-1  Recreated") != std::string::npos);
  CHECK(out.find("Container proj-db-1  Running") != std::string::npos);
  auto second = ids();
  CHECK(second.at("proj-db-1") == first.at("proj-db-1"));
  CHECK(second.at("proj-web-1") != first.at("proj-web-1"));
  CHECK(eventually([&] {
    return compose_ok({"logs", "web"}).find("web says bonjour") != std::string::npos;
  }));
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture, "compose depends_on service_healthy delays the dependent") {
  write(R"(services:
  web:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
    depends_on:
      db:
        condition: service_healthy
  db:
    image: base:1
    command: sh -c 'sleep 2; touch /ready; exec sleep 300'
    stop_signal: SIGKILL
    healthcheck:
      test: test -f /ready
      interval: 200ms
      start_period: 10s
)");
  std::string out = compose_ok({"up", "-d"});
  size_t healthy = out.find("Container proj-db-1  Healthy");
  REQUIRE(healthy != std::string::npos);
  CHECK(healthy < out.find("Container proj-web-1  Created"));
  // web started after db had been running for the two seconds it takes to get healthy.
  std::string db_started = inspect("proj-db-1", "{{.State.StartedAt}}");
  std::string web_started = inspect("proj-web-1", "{{.State.StartedAt}}");
  auto seconds = [](const std::string& t) {  // "...T05:35:15.123456789Z"
    size_t tpos = t.find('T');
    return std::stod(t.substr(tpos + 1, 2)) * 3600 + std::stod(t.substr(tpos + 4, 2)) * 60 +
           std::stod(t.substr(tpos + 7, t.size() - tpos - 8));
  };
  CHECK(seconds(web_started) - seconds(db_started) >= 1.9);
  CHECK(inspect("proj-db-1", "{{.State.Health.Status}}") == "healthy");
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture, "compose up --wait fails with the unhealthy service's output") {
  write(R"(services:
  sick:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
    healthcheck:
      test: echo not ready yet; exit 1
      interval: 100ms
      retries: 2
)");
  Output o = compose({"up", "-d", "--wait"});
  CHECK(o.exit_code == 1);
  CHECK(o.err.find("error: container proj-sick-1 is unhealthy: not ready yet") !=
        std::string::npos);
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture, "compose up --scale runs three replicas and scales back") {
  write(kTwoServices);
  compose_ok({"up", "-d", "--scale", "web=3"});
  auto three = ids();
  CHECK(three.count("proj-web-1"));
  CHECK(three.count("proj-web-2"));
  CHECK(three.count("proj-web-3"));
  CHECK(label("proj-web-3", "com.docker.compose.container-number") == "3");
  std::string out = compose_ok({"up", "-d", "--scale", "web=1"});
  CHECK(out.find("Container proj-web-3  Removed") != std::string::npos);
  auto one = ids();
  CHECK(one.size() == 2);
  CHECK(one.at("proj-web-1") == three.at("proj-web-1"));
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture, "compose runs the tutorial's compose file") {
  // docker-compose.yml of the tutorial, with local images: container_name, a
  // published port, depends_on, DEBUG=1, a named volume, two ${PROJECTDIR} binds
  // and a command override.
  int port = free_port();
  std::string projectdir = path("tutorial");
  kiln::testutil::write_file(projectdir + "/backend/index.html", "hello from the backend\n");
  file = path("tutorial/docker-compose.yml");
  kiln::testutil::write_file(file, R"(version: "3.7"
services:
  web:
    image: base:1
    container_name: tutorial-web
    ports:
      - "PORT:8000"
    depends_on:
      - db
    environment:
      - DEBUG=1
    volumes:
      - ${PROJECTDIR}/backend:/workspaces
      - ${PROJECTDIR}/data:/data
      - app-data:/var/lib/app
    command: httpd -f -p 8000 -h /workspaces
  db:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
    volumes:
      - db-data:/var/lib/db
volumes:
  app-data:
  db-data:
    name: tutorial-db-data
)");
  std::string text = kiln::testutil::read_file(file);
  text.replace(text.find("PORT"), 4, std::to_string(port));
  kiln::testutil::write_file(file, text);
  ::setenv("PROJECTDIR", projectdir.c_str(), 1);
  compose_ok({"up", "-d"});
  CHECK(ids().count("tutorial-web"));
  CHECK(ok({"compose", "-f", file, "-p", "proj", "exec", "-T", "web", "env"}).find("DEBUG=1") !=
        std::string::npos);
  CHECK(eventually([&] {
    return kiln::testutil::run(
               {"busybox", "wget", "-q", "-O-", "http://127.0.0.1:" + std::to_string(port) + "/"})
               .out == "hello from the backend\n";
  }));
  ok({"compose", "-f", file, "-p", "proj", "exec", "-T", "web", "sh", "-c",
      "echo kept > /var/lib/app/f; echo bound > /data/g"});
  CHECK(kiln::testutil::read_file(projectdir + "/data/g") == "bound\n");
  CHECK(volume_exists("tutorial-db-data"));
  CHECK(volume_exists("proj_app-data"));
  // Without -v the named volume keeps its data for the next up.
  compose_ok({"down", "-t", "1"});
  compose_ok({"up", "-d"});
  CHECK(ok({"compose", "-f", file, "-p", "proj", "exec", "-T", "web", "cat", "/var/lib/app/f"}) ==
        "kept\n");
  down_and_check();
  ::unsetenv("PROJECTDIR");
}

TEST_CASE_METHOD(ComposeFixture,
                 "compose build builds every buildable service and down --rmi local removes them") {
  // The step both Dockerfiles share runs once; the builds run side by side.
  kiln::testutil::StepCounter steps;
  kiln::testutil::write_file(dir + "/a/Dockerfile", "FROM base:1\nRUN " + steps.hit("shared") +
                                                        "\nRUN " + steps.hit("a") +
                                                        " && echo a > /name\n");
  kiln::testutil::write_file(dir + "/b/Dockerfile", "FROM base:1\nRUN " + steps.hit("shared") +
                                                        "\nRUN " + steps.hit("b") +
                                                        " && echo b > /name\n");
  write(R"(services:
  a:
    build: ./a
    command: sleep 300
    stop_signal: SIGKILL
  b:
    build:
      context: ./b
    command: sleep 300
    stop_signal: SIGKILL
)");
  std::string out = compose_ok({"build"});
  CHECK(out.find("Service a  Built") != std::string::npos);
  CHECK(out.find("Service b  Built") != std::string::npos);
  CHECK(steps.count("shared") == 1);
  CHECK(steps.count("a") == 1);
  CHECK(steps.count("b") == 1);
  std::string images = ok({"images"});
  CHECK(images.find("proj-a") != std::string::npos);
  CHECK(images.find("proj-b") != std::string::npos);
  compose_ok({"up", "-d"});
  CHECK(ok({"compose", "-f", file, "-p", "proj", "exec", "-T", "b", "cat", "/name"}) == "b\n");
  auto before = ids();
  compose_ok({"down", "--rmi", "local", "-t", "1"});
  images = ok({"images"});
  CHECK(images.find("proj-a") == std::string::npos);
  CHECK(images.find("proj-b") == std::string::npos);
  std::vector<std::string> list;
  for (auto& [name, id] : before) {
    list.push_back(id);
  }
  check_clean(list);
}

TEST_CASE_METHOD(ComposeFixture,
                 "compose build builds every service in one solve: a stage two targets share "
                 "runs once, a failing service is named") {
  // Two services, one context and Dockerfile, two targets over a shared stage.
  kiln::testutil::StepCounter steps;
  kiln::testutil::write_file(dir + "/Dockerfile", "FROM base:1 AS shared\nRUN " +
                                                      steps.hit("shared") +
                                                      " && echo shared > /shared\n"
                                                      "FROM shared AS a\nRUN echo a > /name\n"
                                                      "FROM shared AS b\nRUN echo b > /name\n");
  write(R"(services:
  a:
    build:
      context: .
      target: a
  b:
    build:
      context: .
      target: b
)");
  std::string out = compose_ok({"build"});
  CHECK(steps.count("shared") == 1);
  // One solve: the shared step shows once, under both services' names.
  CHECK(out.find("[a,b shared 2/2] RUN") != std::string::npos);
  CHECK(out.find("Service a  Built") != std::string::npos);
  CHECK(out.find("Service b  Built") != std::string::npos);
  CHECK(ok({"run", "--rm", "proj-a", "cat", "/shared", "/name"}) == "shared\na\n");
  CHECK(ok({"run", "--rm", "proj-b", "cat", "/shared", "/name"}) == "shared\nb\n");
  // Again: nothing runs.
  compose_ok({"build"});
  CHECK(steps.count("shared") == 1);

  // A failing service fails the build, named in the error.
  kiln::testutil::write_file(dir + "/Dockerfile",
                             "FROM base:1 AS shared\nRUN " + steps.hit("shared") +
                                 " && echo shared > /shared\n"
                                 "FROM shared AS a\nRUN echo a2 > /name\n"
                                 "FROM shared AS b\nRUN echo broken; exit 3\n");
  Output failed = compose({"build"});
  INFO("stdout: " << failed.out << "\nstderr: " << failed.err);
  CHECK(failed.exit_code != 0);
  CHECK(failed.err.find("target 'b': failed to solve: process \"/bin/sh -c echo broken; exit "
                        "3\" did not complete successfully: exit code: 3") != std::string::npos);
  CHECK(steps.count("shared") == 1);
  ok({"rmi", "proj-a", "proj-b"});
}

TEST_CASE_METHOD(ComposeFixture, "compose mounts file-based secrets and configs read-only") {
  kiln::testutil::write_file(dir + "/db_password.txt", "s3cret\n");
  kiln::testutil::write_file(dir + "/app.conf", "level=debug\n");
  write(R"(services:
  app:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
    secrets:
      - db_password
    configs:
      - source: app_config
        target: /etc/app/app.conf
secrets:
  db_password:
    file: ./db_password.txt
configs:
  app_config:
    file: ./app.conf
)");
  compose_ok({"up", "-d"});
  CHECK(ok({"compose", "-f", file, "-p", "proj", "exec", "-T", "app", "cat",
            "/run/secrets/db_password", "/etc/app/app.conf"}) == "s3cret\nlevel=debug\n");
  Output write_secret =
      compose({"exec", "-T", "app", "sh", "-c", "echo x > /run/secrets/db_password"});
  CHECK(write_secret.exit_code != 0);
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture,
                 "compose depends_on service_completed_successfully waits for the exit code") {
  write(R"(services:
  migrate:
    image: base:1
    command: sh -c 'sleep 1; echo migrated'
  app:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
    depends_on:
      migrate:
        condition: service_completed_successfully
)");
  std::string out = compose_ok({"up", "-d"});
  size_t exited = out.find("Container proj-migrate-1  Exited");
  REQUIRE(exited != std::string::npos);
  CHECK(exited < out.find("Container proj-app-1  Created"));
  compose_ok({"down", "-t", "1"});

  write(R"(services:
  migrate:
    image: base:1
    command: sh -c 'exit 3'
  app:
    image: base:1
    command: sleep 300
    depends_on:
      migrate:
        condition: service_completed_successfully
)");
  Output failed = compose({"up", "-d"});
  CHECK(failed.exit_code == 1);
  CHECK(failed.err.find("error: service \"migrate\" didn't complete successfully: exit 3") !=
        std::string::npos);
  CHECK(ids().count("proj-app-1") == 0);
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture,
                 "compose up --force-recreate and --no-deps recreate only the named service") {
  write(kTwoServices);
  compose_ok({"up", "-d"});
  auto first = ids();
  std::string out = compose_ok({"up", "-d", "--force-recreate", "--no-deps", "web"});
  CHECK(out.find("Container proj-web-1  Recreated") != std::string::npos);
  CHECK(out.find("proj-db-1") == std::string::npos);
  auto second = ids();
  CHECK(second.at("proj-db-1") == first.at("proj-db-1"));
  CHECK(second.at("proj-web-1") != first.at("proj-web-1"));
  down_and_check();
}

TEST_CASE_METHOD(
    ComposeFixture,
    "compose restarts a dependent with restart: true when its dependency is recreated") {
  std::string text = R"(services:
  web:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
    depends_on:
      db:
        condition: service_started
        restart: true
  db:
    image: base:1
    command: sleep 300
    stop_signal: SIGKILL
    environment:
      VERSION: "1"
)";
  write(text);
  compose_ok({"up", "-d"});
  auto first = ids();
  std::string web_started = inspect("proj-web-1", "{{.State.StartedAt}}");
  text.replace(text.find("VERSION: \"1\""), 12, "VERSION: \"2\"");
  write(text);
  std::string out = compose_ok({"up", "-d"});
  CHECK(out.find("Container proj-db-1  Recreated") != std::string::npos);
  CHECK(out.find("Container proj-web-1  Restarted") != std::string::npos);
  CHECK(out.find("Container proj-db-1  Recreated") < out.find("Container proj-web-1  Restarted"));
  auto second = ids();
  CHECK(second.at("proj-web-1") == first.at("proj-web-1"));
  CHECK(inspect("proj-web-1", "{{.State.StartedAt}}") != web_started);
  down_and_check();
}

TEST_CASE_METHOD(ComposeFixture, "compose init: true runs docker-init as the service's PID 1") {
  write(R"(services:
  app:
    image: base:1
    init: true
    command: sleep 300
  plain:
    image: base:1
    command: sleep 300
)");
  compose_ok({"up", "-d"});
  CHECK(compose_ok({"exec", "app", "cat", "/proc/1/comm"}) == "docker-init\n");
  CHECK(compose_ok({"exec", "plain", "cat", "/proc/1/comm"}) == "sleep\n");
  down_and_check();
}
