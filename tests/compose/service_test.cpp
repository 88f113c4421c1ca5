// Compose's names, labels and config hash (service.h) on a loaded project.
#include <catch2/catch.hpp>

#include <filesystem>

#include "compose/service.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

namespace {

using namespace kiln::compose;

Project load(const std::string& yaml) {
  static int n = 0;
  std::string dir = "/tmp/kiln-compose-service-test-" + std::to_string(::getpid()) + "-" +
                    std::to_string(n++) + "/My_App";
  kiln::testutil::write_file(dir + "/compose.yaml", yaml);
  LoadOptions options;
  options.working_dir = dir;
  auto project = load_project(options, nullptr);
  REQUIRE(static_cast<bool>(project));
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
  return std::move(*project);
}

const ServiceConfig& find(const std::vector<ServiceConfig>& services, const std::string& name) {
  for (const auto& s : services) {
    if (s.name == name) {
      return s;
    }
  }
  FAIL("no service " << name);
  return services.front();
}

const char* const kProject = R"(services:
  web:
    build: .
    environment:
      MODE: a
    depends_on:
      db:
        condition: service_healthy
    volumes:
      - data:/data
      - /cache
    deploy:
      replicas: 2
  db:
    image: busybox
    container_name: the-db
    networks:
      back:
        aliases: [database]
networks:
  back:
volumes:
  data:
    name: shared-data
)";

}  // namespace

TEST_CASE("compose names containers, networks, volumes and built images like docker compose v2") {
  Project p = load(kProject);
  CHECK(p.name == "my_app");
  auto services = project_services(p);
  REQUIRE(static_cast<bool>(services));
  REQUIRE(services->size() == 2);
  CHECK((*services)[0].name == "db");  // dependencies first
  const ServiceConfig& web = find(*services, "web");
  const ServiceConfig& db = find(*services, "db");
  CHECK(web.image == "my_app-web");
  CHECK(!web.named_image);
  CHECK(web.replicas == 2);
  CHECK(container_name(p, web, 2) == "my_app-web-2");
  CHECK(container_name(p, db, 1) == "the-db");
  CHECK(network_name(p, "default") == "my_app_default");
  CHECK(network_name(p, "back") == "my_app_back");
  CHECK(volume_name(p, "data") == "shared-data");

  auto request = container_request(p, web, 2, "sha256:abc");
  REQUIRE(static_cast<bool>(request));
  CHECK(request->name == "my_app-web-2");
  CHECK(request->labels.at("com.docker.compose.project") == "my_app");
  CHECK(request->labels.at("com.docker.compose.service") == "web");
  CHECK(request->labels.at("com.docker.compose.container-number") == "2");
  CHECK(request->labels.at("com.docker.compose.oneoff") == "False");
  CHECK(request->labels.at("com.docker.compose.depends_on") == "db:service_healthy:false");
  CHECK(request->labels.at("com.docker.compose.config-hash") == service_hash(web, "sha256:abc"));
  REQUIRE(request->mounts.size() == 2);
  CHECK(request->mounts[0].source == "shared-data");
  CHECK(request->mounts[1].source.size() == 64);  // an anonymous volume
  REQUIRE(request->networks.size() == 1);
  CHECK(request->networks[0].network == "my_app_default");
  CHECK(request->networks[0].aliases == std::vector<std::string>{"web"});

  auto db_request = container_request(p, db, 1, "sha256:def");
  REQUIRE(static_cast<bool>(db_request));
  REQUIRE(db_request->networks.size() == 1);
  CHECK(db_request->networks[0].network == "my_app_back");
  CHECK(db_request->networks[0].aliases == std::vector<std::string>{"db", "database"});
}

TEST_CASE("compose config hash changes with the service, not with its scale or build") {
  std::string base = kProject;
  Project p = load(base);
  auto services = project_services(p);
  REQUIRE(static_cast<bool>(services));
  std::string hash = service_hash(find(*services, "web"), "sha256:abc");
  CHECK(hash != service_hash(find(*services, "web"), "sha256:other-image"));

  std::string scaled = base;
  scaled.replace(scaled.find("replicas: 2"), 11, "replicas: 5");
  auto scaled_services = project_services(load(scaled));
  REQUIRE(static_cast<bool>(scaled_services));
  CHECK(service_hash(find(*scaled_services, "web"), "sha256:abc") == hash);
  CHECK(service_hash(find(*scaled_services, "db"), "sha256:abc") ==
        service_hash(find(*services, "db"), "sha256:abc"));

  std::string edited = base;
  edited.replace(edited.find("MODE: a"), 7, "MODE: b");
  auto edited_services = project_services(load(edited));
  REQUIRE(static_cast<bool>(edited_services));
  CHECK(service_hash(find(*edited_services, "web"), "sha256:abc") != hash);
  CHECK(service_hash(find(*edited_services, "db"), "sha256:abc") ==
        service_hash(find(*services, "db"), "sha256:abc"));
}

TEST_CASE("compose reports a dependency cycle") {
  Project p = load(R"(services:
  a:
    image: busybox
    depends_on: [b]
  b:
    image: busybox
    depends_on: [a]
)");
  auto services = project_services(p);
  REQUIRE(!static_cast<bool>(services));
  CHECK(kiln::error_message(services.takeError()) == "dependency cycle detected at service 'a'");
}
