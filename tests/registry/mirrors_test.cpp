// Mirror settings: locations, daemon.json and registries.conf.

#include "registry/mirrors.h"

#include <catch2/catch.hpp>

#include "support/error.h"

using kiln::registry::Mirror;
using kiln::registry::RegistryConfig;

TEST_CASE("mirror locations: scheme, host and path prefix", "[mirrors]") {
  auto a = kiln::registry::parse_mirror("https://mirror.example");
  REQUIRE(static_cast<bool>(a));
  CHECK(*a == Mirror{"mirror.example", "", "https", false});
  auto b = kiln::registry::parse_mirror("127.0.0.1:5001/cache/hub/");
  REQUIRE(static_cast<bool>(b));
  CHECK(*b == Mirror{"127.0.0.1:5001", "cache/hub", "", false});
  auto bad = kiln::registry::parse_mirror("ftp://x");
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) ==
        "registry mirror 'ftp://x': unsupported scheme 'ftp'");
}

TEST_CASE("daemon.json: registry-mirrors mirror docker.io", "[mirrors]") {
  RegistryConfig config;
  REQUIRE(!kiln::registry::parse_daemon_json(
      R"({"registry-mirrors": ["https://docker.mirrors.example.cn", "http://10.0.0.1:5000"],
          "insecure-registries": ["10.0.0.1:5000"], "debug": true})",
      config));
  REQUIRE(config.mirrors.size() == 1);
  CHECK(config.mirrors["docker.io"] ==
        std::vector<Mirror>{{"docker.mirrors.example.cn", "", "https", false},
                            {"10.0.0.1:5000", "", "http", false}});
  CHECK(config.insecure_registries == std::vector<std::string>{"10.0.0.1:5000"});
  RegistryConfig other;
  llvm::Error err = kiln::registry::parse_daemon_json(R"({"registry-mirrors": "x"})", other);
  CHECK(kiln::error_message(std::move(err)) == "'registry-mirrors' must be a list of strings");
}

TEST_CASE("registries.conf: per-registry mirrors and insecure settings", "[mirrors]") {
  RegistryConfig config;
  llvm::Error err = kiln::registry::parse_registries_conf(R"(
# containers-registries.conf(5)
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "registry-1.docker.io"

[[registry.mirror]]
location = "mirror.example.com/hub"

[[registry.mirror]]
location = "127.0.0.1:5001"
insecure = true

[[registry]]
location = "quay.io"
insecure = true
)",
                                                          config);
  REQUIRE(!err);
  CHECK(config.mirrors["docker.io"] == std::vector<Mirror>{{"mirror.example.com", "hub", "", false},
                                                           {"127.0.0.1:5001", "", "", true}});
  CHECK(config.mirrors.count("quay.io") == 0);
  CHECK(config.insecure_registries == std::vector<std::string>{"127.0.0.1:5001", "quay.io"});
  RegistryConfig broken;
  err = kiln::registry::parse_registries_conf("[[registry.mirror]]\nlocation = \"x\"\n", broken);
  CHECK(kiln::error_message(std::move(err)) ==
        "line 1: [[registry.mirror]] outside a [[registry]]");
}

TEST_CASE("registries.conf: which pulls a mirror serves", "[mirrors]") {
  RegistryConfig config;
  llvm::Error err = kiln::registry::parse_registries_conf(R"(
[[registry]]
location = "a.example"
mirror-by-digest-only = true
[[registry.mirror]]
location = "m1.example"

[[registry]]
location = "b.example"
[[registry.mirror]]
pull-from-mirror = "tag-only"
location = "m2.example"
)",
                                                          config);
  REQUIRE(!err);
  REQUIRE(config.mirrors["a.example"].size() == 1);
  CHECK(config.mirrors["a.example"][0].pull_from == Mirror::PullFrom::digest_only);
  REQUIRE(config.mirrors["b.example"].size() == 1);
  CHECK(config.mirrors["b.example"][0].pull_from == Mirror::PullFrom::tag_only);
  RegistryConfig bad;
  err = kiln::registry::parse_registries_conf(
      "[[registry]]\nlocation = \"a\"\n[[registry.mirror]]\npull-from-mirror = \"some\"\n", bad);
  CHECK(kiln::error_message(std::move(err)) ==
        "line 4: pull-from-mirror 'some' (expected 'all', 'digest-only' or 'tag-only')");
}

TEST_CASE("configuration files are optional and errors name the file", "[mirrors]") {
  auto none = kiln::registry::load_registry_config("/nonexistent-kiln-config", {"mirror:5000"});
  REQUIRE(static_cast<bool>(none));
  CHECK(none->mirrors["docker.io"] == std::vector<Mirror>{{"mirror:5000", "", "", false}});
  auto bad = kiln::registry::load_registry_config("/nonexistent-kiln-config", {"gopher://m"});
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) ==
        "--registry-mirror: registry mirror 'gopher://m': unsupported scheme 'gopher'");
}
