// Retries, resumed downloads and precise errors, through a fault-injecting proxy
// (tests/registry/fault_proxy.py) in front of a real docker-registry.
#include "registry/client.h"

#include <nlohmann/json.hpp>

#include "registry/transfer.h"
#include "tests/registry/registry_fixture.h"

using namespace kiln;
using namespace kiln::registry;
using kiln::testing::ChildProcess;
using kiln::testing::FaultProxy;
using kiln::testing::LocalRegistry;
using kiln::testing::TempDir;
using kiln::testing::TestImage;

namespace {

std::unique_ptr<Client> make_client(int retries = 4) {
  ClientOptions options;
  options.docker_config = "/nonexistent/config.json";
  options.initial_backoff = std::chrono::milliseconds(10);
  options.max_retries = retries;
  auto client = Client::create(std::move(options));
  REQUIRE(static_cast<bool>(client));
  return std::move(*client);
}

oci::Reference ref_of(const std::string& text) {
  auto ref = oci::parse_reference(text);
  REQUIRE(static_cast<bool>(ref));
  return *ref;
}

/// The RegistryError's message and status of `err` (consumed).
std::pair<std::string, int> registry_failure(llvm::Error err) {
  std::pair<std::string, int> out{"", -1};
  llvm::handleAllErrors(
      std::move(err),
      [&](const RegistryError& e) {
        out = {e.message(), e.http_status()};
      },
      [&](const llvm::ErrorInfoBase& e) {
        out = {"not a RegistryError: " + e.message(), -1};
      });
  return out;
}

}  // namespace

TEST_CASE("pulls survive 500s, 429s and dropped connections, and resume with Range") {
  LocalRegistry registry;
  TestImage image;
  kiln::testing::make_test_image(image, 2, 200000, 3);
  auto direct = make_client();
  REQUIRE(static_cast<bool>(
      push_image(*direct, ref_of(registry.domain() + "/app/x:1"), image.store, image.manifest)));
  FaultProxy proxy(registry);
  auto client = make_client();
  oci::Reference ref = ref_of(proxy.domain() + "/app/x:1");
  const oci::Descriptor& layer = image.layers[0];

  SECTION("500 then 429 with Retry-After") {
    proxy.plan({{{"method", "GET"},
                 {"path", "/manifests/"},
                 {"action", "status"},
                 {"status", 503},
                 {"count", 1}},
                {{"method", "GET"},
                 {"path", "/blobs/"},
                 {"action", "status"},
                 {"status", 429},
                 {"retry_after", "0"},
                 {"count", 1}},
                {{"method", "GET"},
                 {"path", "/blobs/"},
                 {"action", "status"},
                 {"status", 500},
                 {"count", 2}}});
    MemoryBlobStore fresh;
    auto pulled = pull_image(*client, ref, fresh);
    REQUIRE(static_cast<bool>(pulled));
    CHECK(fresh.blobs() == image.store.blobs());
    CHECK(client->stats().retries == 4);
  }
  SECTION("a connection dropped mid-blob resumes where it stopped") {
    proxy.plan({{{"method", "GET"},
                 {"path", "/blobs/" + layer.digest.str()},
                 {"action", "truncate"},
                 {"after", 70000},
                 {"count", 1}}});
    MemoryBlobStore fresh;
    auto pulled = pull_image(*client, ref, fresh);
    REQUIRE(static_cast<bool>(pulled));
    CHECK(fresh.blobs() == image.store.blobs());
    CHECK(client->stats().retries == 1);
    CHECK(proxy.count("GET blob") == 4);  // config, 2 layers, and the resumed rest
  }
  SECTION("blob downloads follow redirects to another host") {
    proxy.plan({{{"method", "GET"}, {"path", "/blobs/"}, {"action", "redirect"}}});
    MemoryBlobStore fresh;
    auto pulled = pull_image(*client, ref, fresh);
    REQUIRE(static_cast<bool>(pulled));
    CHECK(fresh.blobs() == image.store.blobs());
    CHECK(proxy.count("GET blob") == 3);
  }
  SECTION("corrupt bytes fail with the digest and keep nothing") {
    proxy.plan(
        {{{"method", "GET"}, {"path", "/blobs/" + layer.digest.str()}, {"action", "corrupt"}}});
    MemoryBlobStore fresh;
    auto pulled = pull_image(*client, ref, fresh);
    REQUIRE(!pulled);
    std::string bytes = *image.store.read(layer.digest);
    bytes[0] = char(bytes[0] ^ 0xff);
    auto [message, status] = registry_failure(pulled.takeError());
    CHECK(message == "blob '" + layer.digest.str() + "': digest mismatch (got '" +
                         Digest::of(bytes).str() + "')");
    CHECK(status == 200);
    CHECK(!fresh.has(layer.digest));
    CHECK(!fresh.has(image.manifest));
  }
  SECTION("a blob that is always cut short fails after the retries") {
    auto few = make_client(2);
    proxy.plan({{{"method", "GET"},
                 {"path", "/blobs/" + layer.digest.str()},
                 {"action", "truncate"},
                 {"after", 1000}}});
    MemoryBlobStore fresh;
    auto pulled = pull_image(*few, ref, fresh);
    REQUIRE(!pulled);
    auto [message, status] = registry_failure(pulled.takeError());
    CHECK(message == "blob '" + layer.digest.str() + "': cannot reach '" + proxy.domain() +
                         "': Transferred a partial file");
    CHECK(status == 0);
    CHECK(!fresh.has(layer.digest));
  }
  SECTION("persistent 500s fail with the status") {
    auto few = make_client(1);
    proxy.plan(
        {{{"method", "GET"}, {"path", "/manifests/"}, {"action", "status"}, {"status", 500}}});
    MemoryBlobStore fresh;
    auto pulled = pull_image(*few, ref, fresh);
    REQUIRE(!pulled);
    auto [message, status] = registry_failure(pulled.takeError());
    CHECK(message == "manifest '1': HTTP 500");
    CHECK(status == 500);
  }
}

TEST_CASE("pushes retry failed uploads and a second push uploads nothing") {
  LocalRegistry registry;
  FaultProxy proxy(registry);
  TestImage image;
  kiln::testing::make_test_image(image, 3, 50000, 5);
  auto client = make_client();
  oci::Reference ref = ref_of(proxy.domain() + "/app/y:1");
  proxy.plan({{{"method", "PUT"},
               {"path", "/blobs/uploads/"},
               {"action", "status"},
               {"status", 502},
               {"count", 1}},
              {{"method", "PUT"},
               {"path", "/manifests/"},
               {"action", "status"},
               {"status", 500},
               {"count", 1}}});
  auto pushed = push_image(*client, ref, image.store, image.manifest);
  REQUIRE(static_cast<bool>(pushed));
  CHECK(pushed->uploaded == 4);
  CHECK(proxy.count("PUT upload") == 5);
  CHECK(proxy.count("POST upload") == 5);

  auto again = push_image(*client, ref, image.store, image.manifest);
  REQUIRE(static_cast<bool>(again));
  CHECK(again->existed == 4);
  CHECK(proxy.count("PUT upload") == 5);
  CHECK(proxy.count("POST upload") == 5);
  CHECK(proxy.count("PATCH upload") == 0);

  MemoryBlobStore fresh;
  REQUIRE(static_cast<bool>(pull_image(*client, ref, fresh)));
  CHECK(fresh.blobs() == image.store.blobs());
}
