// `kiln build` with a registry: FROM an image only the registry has (pulled),
// --push of the result, and a second push that uploads nothing (requests counted
// by tests/registry/fault_proxy.py in front of a real docker-registry).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/build_fixture.h"
#include "tests/registry/registry_fixture.h"

using kiln::testing::FaultProxy;
using kiln::testing::LocalRegistry;
using kiln::testutil::BuildFixture;
using kiln::testutil::Output;

namespace {

// Upload requests (POST/PATCH/PUT of blobs) the proxy has seen.
int uploads(const FaultProxy& proxy) {
  return proxy.count("POST upload") + proxy.count("PATCH upload") + proxy.count("PUT upload");
}

}  // namespace

TEST_CASE("FROM a registry image builds, --push publishes, a second push uploads nothing",
          "[integration][build][registry]") {
  LocalRegistry registry;
  FaultProxy proxy(registry);
  std::string reg = proxy.domain();

  BuildFixture publisher;
  Output o = kiln::testutil::kiln(publisher.root(), {"tag", "busybox:local", reg + "/base:1"});
  REQUIRE(o.exit_code == 0);
  o = kiln::testutil::kiln(publisher.root(), {"push", reg + "/base:1"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);

  BuildFixture f;  // a store that does not have base:1
  f.file("Dockerfile", "FROM " + reg + "/base:1\nRUN echo pushed > /pushed.txt\n");
  int manifests_before = proxy.count("GET manifest");
  f.build_ok({"--push", "-t", reg + "/app:1", "--metadata-file", f.path("meta.json")});
  CHECK(proxy.count("GET manifest") > manifests_before);  // FROM pulled the base
  auto meta = nlohmann::json::parse(kiln::testutil::read_file(f.path("meta.json")));
  std::string digest = meta["containerimage.digest"];

  std::string out;
  REQUIRE(kiln::testing::run_command("skopeo inspect --tls-verify=false --format '{{.Digest}}' "
                                     "docker://" +
                                         reg + "/app:1",
                                     &out) == 0);
  CHECK(out == digest + "\n");

  // The same build again: nothing runs, the image is the same, nothing is uploaded.
  int before = uploads(proxy);
  Output second =
      f.build_ok({"--push", "-t", reg + "/app:1", "--metadata-file", f.path("meta2.json")});
  auto meta2 = nlohmann::json::parse(kiln::testutil::read_file(f.path("meta2.json")));
  CHECK(meta2["containerimage.digest"] == digest);
  CHECK(uploads(proxy) == before);

  // A fresh store pulls what was pushed: same manifest digest.
  kiln::testutil::TempDir fresh;
  o = kiln::testutil::kiln(fresh.path(), {"pull", reg + "/app:1"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(o.out.find("Digest: " + digest) != std::string::npos);

  // --output type=registry pushes under its own name.
  f.build_ok({"--output", "type=registry,name=" + reg + "/other:2"});
  REQUIRE(kiln::testing::run_command("skopeo inspect --tls-verify=false --format '{{.Digest}}' "
                                     "docker://" +
                                         reg + "/other:2",
                                     &out) == 0);
  CHECK(out == digest + "\n");

  // A base image the registry does not have: the error names it.
  f.file("Dockerfile", "FROM " + reg + "/missing:1\n");
  Output missing = f.build({});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find(reg + "/missing:1") != std::string::npos);
}
