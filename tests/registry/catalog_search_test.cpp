// `kiln search`'s argument: which registry's catalog, which term, how many rows.
#include "registry/catalog_search.h"

#include <catch2/catch.hpp>

#include "support/error.h"

TEST_CASE("a search names a registry and a term", "[registry][search]") {
  auto s = kiln::registry::parse_catalog_search("localhost:5000/App", 10);
  REQUIRE(static_cast<bool>(s));
  CHECK(s->domain == "localhost:5000");
  CHECK(s->term == "App");
  CHECK(s->limit == 10);
  s = kiln::registry::parse_catalog_search("registry.example.com/", 25);
  REQUIRE(static_cast<bool>(s));
  CHECK(s->domain == "registry.example.com");
  CHECK(s->term == "");
  s = kiln::registry::parse_catalog_search("localhost/x", 25);
  REQUIRE(static_cast<bool>(s));
  CHECK(s->domain == "localhost");
}

TEST_CASE("Docker Hub and a limit out of range are refused", "[registry][search]") {
  auto hub = kiln::registry::parse_catalog_search("alpine", 25);
  REQUIRE(!hub);
  CHECK(kiln::error_message(hub.takeError()) ==
        "search 'alpine': Docker Hub search needs Hub's own search API, which kiln does not "
        "use; kiln searches a registry's catalog: name the registry, as in "
        "'kiln search localhost:5000/alpine'");
  auto index = kiln::registry::parse_catalog_search("index.docker.io/alpine", 25);
  REQUIRE(!index);
  llvm::consumeError(index.takeError());
  auto limit = kiln::registry::parse_catalog_search("localhost:5000/x", 101);
  REQUIRE(!limit);
  CHECK(kiln::error_message(limit.takeError()) == "limit 101 is outside the range of [1, 100]");
}

TEST_CASE("login servers name registries", "[registry][auth]") {
  CHECK(kiln::registry::server_domain("https://index.docker.io/v1/") == "docker.io");
  CHECK(kiln::registry::server_domain("registry-1.docker.io") == "docker.io");
  CHECK(kiln::registry::server_domain("docker.io") == "docker.io");
  CHECK(kiln::registry::server_domain("http://localhost:5000/v2/") == "localhost:5000");
  CHECK(kiln::registry::server_domain("localhost:5000") == "localhost:5000");
}
