// The client against Debian's real docker-registry on 127.0.0.1, and skopeo as
// the independent peer.
#include "registry/client.h"

#include "registry/transfer.h"
#include "tests/registry/registry_fixture.h"

using namespace kiln;
using namespace kiln::registry;
using kiln::testing::LocalRegistry;
using kiln::testing::TempDir;
using kiln::testing::TestImage;

namespace {

std::unique_ptr<Client> make_client(ClientOptions options = {}) {
  options.docker_config = "/nonexistent/config.json";
  options.initial_backoff = std::chrono::milliseconds(10);
  auto client = Client::create(std::move(options));
  REQUIRE(static_cast<bool>(client));
  return std::move(*client);
}

oci::Reference ref_of(const std::string& text) {
  auto ref = oci::parse_reference(text);
  REQUIRE(static_cast<bool>(ref));
  return *ref;
}

}  // namespace

TEST_CASE("push then pull through docker-registry gives the same blobs") {
  LocalRegistry registry;
  TestImage image;
  kiln::testing::make_test_image(image, 3, 100000, 1);
  auto client = make_client();
  oci::Reference ref = ref_of(registry.domain() + "/kiln/app:1");

  auto pushed = push_image(*client, ref, image.store, image.manifest);
  REQUIRE(static_cast<bool>(pushed));
  CHECK(pushed->digest == image.manifest);
  CHECK(pushed->size == int64_t(image.manifest_bytes.size()));
  CHECK(pushed->uploaded == 4);
  CHECK(pushed->existed == 0);
  CHECK(client->stats().blob_uploads == 4);

  MemoryBlobStore fresh;
  auto pulled = pull_image(*client, ref, fresh);
  REQUIRE(static_cast<bool>(pulled));
  CHECK(pulled->digest == image.manifest);
  CHECK(pulled->manifest == image.manifest);
  CHECK(pulled->downloaded == 4);
  CHECK(fresh.blobs() == image.store.blobs());

  SECTION("a second push uploads nothing") {
    auto again = push_image(*client, ref, image.store, image.manifest);
    REQUIRE(static_cast<bool>(again));
    CHECK(again->uploaded == 0);
    CHECK(again->existed == 4);
    CHECK(client->stats().blob_uploads == 4);
  }
  SECTION("a second pull downloads nothing") {
    auto again = pull_image(*client, ref, fresh);
    REQUIRE(static_cast<bool>(again));
    CHECK(again->downloaded == 0);
  }
  SECTION("pull by digest") {
    MemoryBlobStore by_digest;
    auto by = pull_image(*client, ref_of(registry.domain() + "/kiln/app@" + image.manifest.str()),
                         by_digest);
    REQUIRE(static_cast<bool>(by));
    CHECK(by_digest.blobs() == image.store.blobs());
  }
  SECTION("skopeo sees what kiln pushed") {
    std::string out;
    REQUIRE(kiln::testing::run_command("skopeo inspect --raw --tls-verify=false docker://" +
                                           registry.domain() + "/kiln/app:1",
                                       &out) == 0);
    CHECK(out == image.manifest_bytes);
    REQUIRE(
        kiln::testing::run_command(
            "skopeo inspect --tls-verify=false --format '{{.Digest}} {{len .Layers}}' docker://" +
                registry.domain() + "/kiln/app:1",
            &out) == 0);
    CHECK(out == image.manifest.str() + " 3\n");
  }
  SECTION("connections are reused") { CHECK(client->stats().connections <= 8); }
}

TEST_CASE("chunked uploads and cross-repository mounts") {
  LocalRegistry registry;
  TestImage image;
  kiln::testing::make_test_image(image, 2, 300000, 7);
  ClientOptions options;
  options.chunk_size = 65536;
  auto client = make_client(options);
  auto first =
      push_image(*client, ref_of(registry.domain() + "/src/app:1"), image.store, image.manifest);
  if (!first) {
    FAIL(error_message(first.takeError()));
  }
  CHECK(first->uploaded == 3);

  PushOptions mount;
  mount.mount_from = "src/app";
  auto second = push_image(*client, ref_of(registry.domain() + "/dst/app:1"), image.store,
                           image.manifest, mount);
  REQUIRE(static_cast<bool>(second));
  CHECK(second->mounted == 3);
  CHECK(second->uploaded == 0);
  MemoryBlobStore fresh;
  REQUIRE(static_cast<bool>(pull_image(*client, ref_of(registry.domain() + "/dst/app:1"), fresh)));
  CHECK(fresh.blobs() == image.store.blobs());
}

TEST_CASE("kiln pulls what skopeo copy pushed, and picks linux/amd64 from an index") {
  LocalRegistry registry;
  TempDir dir;
  TestImage amd, arm;
  kiln::testing::make_test_image(amd, 2, 5000, 11);
  kiln::testing::make_test_image(arm, 1, 5000, 21);
  kiln::testing::write_oci_layout(dir / "amd", amd.store, amd.manifest, "v1");
  REQUIRE(kiln::testing::run_command("skopeo copy -q --dest-tls-verify=false oci:" + dir / "amd" +
                                     ":v1 docker://" + registry.domain() + "/multi/app:amd") == 0);
  auto client = make_client();
  MemoryBlobStore fresh;
  auto pulled = pull_image(*client, ref_of(registry.domain() + "/multi/app:amd"), fresh);
  REQUIRE(static_cast<bool>(pulled));
  CHECK(pulled->manifest == amd.manifest);
  CHECK(fresh.blobs() == amd.store.blobs());

  // An index of both, pushed by kiln (children first), read back by skopeo and kiln.
  oci::Index index;
  index.media_type = oci::media_type::kOciIndex.str();
  oci::Descriptor a = oci::describe(oci::media_type::kOciManifest, amd.manifest_bytes);
  a.platform = oci::Platform{"amd64", "linux", "", {}, ""};
  oci::Descriptor b = oci::describe(oci::media_type::kOciManifest, arm.manifest_bytes);
  b.platform = oci::Platform{"arm64", "linux", "", {}, "v8"};
  index.manifests = {b, a};
  MemoryBlobStore both;
  for (auto* store : {&amd.store, &arm.store}) {
    for (const auto& [digest, bytes] : store->blobs()) {
      both.put(bytes);
    }
  }
  std::string index_bytes = oci::to_json(index);
  Digest index_digest = both.put(index_bytes);
  auto pushed =
      push_image(*client, ref_of(registry.domain() + "/multi/app:all"), both, index_digest);
  REQUIRE(static_cast<bool>(pushed));
  CHECK(pushed->digest == index_digest);
  std::string out;
  REQUIRE(kiln::testing::run_command("skopeo inspect --raw --tls-verify=false docker://" +
                                         registry.domain() + "/multi/app:all",
                                     &out) == 0);
  CHECK(out == index_bytes);

  MemoryBlobStore multi;
  auto from_index = pull_image(*client, ref_of(registry.domain() + "/multi/app:all"), multi);
  REQUIRE(static_cast<bool>(from_index));
  CHECK(from_index->digest == index_digest);
  CHECK(from_index->manifest == amd.manifest);
  CHECK(multi.has(index_digest));
  CHECK(!multi.has(arm.manifest));

  PullOptions arm_options;
  arm_options.platform = oci::Platform{"arm64", "linux", "", {}, "v8"};
  MemoryBlobStore arm_store;
  auto arm_pulled =
      pull_image(*client, ref_of(registry.domain() + "/multi/app:all"), arm_store, arm_options);
  REQUIRE(static_cast<bool>(arm_pulled));
  CHECK(arm_pulled->manifest == arm.manifest);

  PullOptions s390;
  s390.platform = oci::Platform{"s390x", "linux", "", {}, ""};
  auto none = pull_image(*client, ref_of(registry.domain() + "/multi/app:all"), arm_store, s390);
  REQUIRE(!none);
  CHECK(error_message(none.takeError()) ==
        "manifest 'all': no matching manifest for linux/s390x in the manifest list entries");
}

TEST_CASE("registry errors name the object and the HTTP status") {
  LocalRegistry registry;
  auto client = make_client();
  MemoryBlobStore store;
  auto missing = pull_image(*client, ref_of(registry.domain() + "/kiln/none:1"), store);
  REQUIRE(!missing);
  llvm::Error err = missing.takeError();
  int status = 0;
  std::string text;
  llvm::handleAllErrors(std::move(err), [&](const RegistryError& e) {
    status = e.http_status();
    text = e.message();
    CHECK(e.registry() == registry.domain());
  });
  CHECK(status == 404);
  CHECK(text == "manifest '1': HTTP 404: manifest unknown");

  auto unreachable = make_client();
  int port = kiln::testing::free_port();
  auto down = pull_image(*unreachable, ref_of("127.0.0.1:" + std::to_string(port) + "/x:1"), store);
  REQUIRE(!down);
  CHECK(error_message(down.takeError()) ==
        "manifest '1': cannot reach '127.0.0.1:" + std::to_string(port) +
            "': Couldn't connect to server");
}
