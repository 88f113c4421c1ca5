// kiln import/save/load against real skopeo and umoci, save/load round trips, and
// two kiln processes sharing one store.

#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cache/store_db.h"
#include "support/digest.h"
#include "support/error.h"
#include "tests/testutil/testutil.h"

using kiln::testutil::Output;
using kiln::testutil::run;
using kiln::testutil::TempDir;

namespace {

// Runs kiln and requires success.
std::string kiln_ok(const std::string& root, const std::vector<std::string>& args,
                    const std::string& input = {}) {
  Output o = kiln::testutil::kiln(root, args, input);
  INFO("kiln " << args.front() << ": " << o.err);
  REQUIRE(o.exit_code == 0);
  return o.out;
}

std::string run_ok(const std::vector<std::string>& argv) {
  Output o = run(argv);
  INFO(argv.front() << ": " << o.err);
  REQUIRE(o.exit_code == 0);
  return o.out;
}

// Imports the busybox rootfs as busybox:1 (created at the epoch) and returns its ID.
std::string import_busybox(const TempDir& dir, const std::string& root) {
  kiln::testutil::make_busybox_rootfs(dir / "rootfs");
  kiln::testutil::tar_directory(dir / "rootfs", dir / "rootfs.tar");
  Output o = run({KILN_BINARY, "--root", root, "import", dir / "rootfs.tar", "busybox:1"}, "",
                 {"SOURCE_DATE_EPOCH=0"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  REQUIRE(o.out.size() == 72);
  return o.out.substr(0, 71);
}

nlohmann::json inspect(const std::string& root, const std::string& image) {
  return nlohmann::json::parse(kiln_ok(root, {"inspect", image}))[0];
}

// The manifest digest kiln stores for `image` (from RepoDigests).
std::string manifest_digest(const std::string& root, const std::string& image) {
  std::string repo_digest = inspect(root, image)["RepoDigests"][0];
  return repo_digest.substr(repo_digest.find('@') + 1);
}

// What a store holds: blob names and the image table.
std::string store_state(const std::string& root) {
  return run_ok({"ls", root + "/blobs/sha256"}) + run_ok({"ls", "-A", root + "/tmp"}) +
         kiln_ok(root, {"images", "--digests", "--no-trunc", "--format", "json"});
}

}  // namespace

TEST_CASE("an imported busybox saves to archives that skopeo and umoci read",
          "[integration][archive]") {
  TempDir dir;
  std::string root = dir / "root";
  std::string id = import_busybox(dir, root);
  nlohmann::json image = inspect(root, "busybox:1");
  CHECK(image["Id"] == id);
  CHECK(image["Created"] == "1970-01-01T00:00:00Z");
  REQUIRE(image["RootFS"]["Layers"].size() == 1);
  std::string diff_id = image["RootFS"]["Layers"][0];
  std::string manifest = manifest_digest(root, "busybox:1");
  // The layer is a valid gzip stream whose content hashes to the diff ID.
  auto manifest_json = nlohmann::json::parse(
      kiln::testutil::read_file(root + "/blobs/sha256/" + manifest.substr(7)));
  std::string layer = manifest_json["layers"][0]["digest"];
  CHECK(manifest_json["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");
  Output unzip =
      run({"sh", "-c", "gzip -dc < " + root + "/blobs/sha256/" + layer.substr(7) + " | sha256sum"});
  CHECK(unzip.out.substr(0, 64) == diff_id.substr(7));

  kiln_ok(root, {"save", "-o", dir / "docker.tar", "busybox:1"});
  auto docker =
      nlohmann::json::parse(run_ok({"skopeo", "inspect", "docker-archive:" + dir / "docker.tar"}));
  CHECK(docker["Layers"] == nlohmann::json::array({diff_id}));
  CHECK(docker["Created"] == "1970-01-01T00:00:00Z");
  std::string config =
      run_ok({"skopeo", "inspect", "--config", "--raw", "docker-archive:" + dir / "docker.tar"});
  CHECK(kiln::Digest::of(config).str() == id);

  kiln::testutil::write_file(dir / "oci.tar",
                             kiln_ok(root, {"save", "--format", "oci", "busybox:1"}));
  std::string raw = run_ok({"skopeo", "inspect", "--raw", "oci-archive:" + dir / "oci.tar"});
  CHECK(kiln::Digest::of(raw).str() == manifest);
  run_ok({"mkdir", dir / "layout"});
  run_ok({"tar", "-C", dir / "layout", "-xf", dir / "oci.tar"});
  run_ok({"umoci", "unpack", "--image", dir / "layout:1", dir / "bundle"});
  run_ok({"cmp", "/bin/busybox", dir / "bundle/rootfs/bin/busybox"});
  CHECK(run_ok({"readlink", dir / "bundle/rootfs/bin/sh"}) == "busybox\n");
}

TEST_CASE("archives written by skopeo load with the same image ID and blobs",
          "[integration][archive]") {
  TempDir dir;
  std::string root = dir / "root";
  std::string id = import_busybox(dir, root);
  std::string manifest = manifest_digest(root, "busybox:1");
  std::string layer = inspect(root, "busybox:1")["RootFS"]["Layers"][0];
  kiln_ok(root, {"save", "--format", "oci", "-o", dir / "oci.tar", "busybox:1"});
  run_ok({"skopeo", "copy", "-q", "oci-archive:" + dir / "oci.tar",
          "oci-archive:" + dir / "skopeo-oci.tar:copied/oci:2"});
  run_ok({"skopeo", "copy", "-q", "oci-archive:" + dir / "oci.tar",
          "docker-archive:" + dir / "skopeo-docker.tar:copied/docker:3"});

  std::string fresh = dir / "fresh";
  CHECK(kiln_ok(fresh, {"load", "-i", dir / "skopeo-oci.tar"}) == "Loaded image: copied/oci:2\n");
  CHECK(kiln_ok(fresh, {"load"}, kiln::testutil::read_file(dir / "skopeo-docker.tar")) ==
        "Loaded image: copied/docker:3\n");
  CHECK(inspect(fresh, "copied/oci:2")["Id"] == id);
  CHECK(inspect(fresh, "copied/docker:3")["Id"] == id);
  // skopeo keeps the OCI manifest and its gzip layer as they were.
  CHECK(manifest_digest(fresh, "copied/oci:2") == manifest);
  CHECK(inspect(fresh, "copied/docker:3")["RootFS"]["Layers"][0] == layer);
  CHECK(kiln_ok(fresh, {"images", "-q"}) == id.substr(7, 12) + "\n" + id.substr(7, 12) + "\n");
}

TEST_CASE("save, load into a fresh store and save again gives identical bytes",
          "[integration][archive]") {
  TempDir dir;
  std::string root = dir / "root";
  std::string id = import_busybox(dir, root);
  kiln_ok(root, {"tag", "busybox:1", "localhost:5000/tools/bb:v2"});
  for (std::string format : {"docker", "oci"}) {
    INFO(format);
    std::string first =
        kiln_ok(root, {"save", "--format", format, "busybox:1", "localhost:5000/tools/bb:v2"});
    std::string fresh = dir / ("fresh-" + format);
    CHECK(kiln_ok(fresh, {"load"}, first) ==
          "Loaded image: busybox:1\nLoaded image: localhost:5000/tools/bb:v2\n");
    std::string second =
        kiln_ok(fresh, {"save", "--format", format, "busybox:1", "localhost:5000/tools/bb:v2"});
    CHECK(first.size() == second.size());
    CHECK((first == second));
    CHECK(inspect(fresh, "localhost:5000/tools/bb:v2")["Id"] == id);
  }
}
