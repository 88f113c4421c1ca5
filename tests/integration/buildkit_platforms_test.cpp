// What BuildKit's multi-platform frontend tests assert (moby/buildkit frontend/dockerfile/
// dockerfile_{platform,export}_test.go, dockerfile_test.go's testDefaultShellAndPath),
// with kiln's own Dockerfiles. None needs an emulator: the RUN steps are on the build
// platform, the others are file operations. tests/integration/BUILDKIT_TESTS.md maps
// each BuildKit test to the test here.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;
using kiln::testutil::read_file;
using kiln::testutil::run;
using nlohmann::json;

namespace {

/// Unpacks the tar at `tar` into `dir`.
void untar(const std::string& tar, const std::string& dir) {
  REQUIRE(run({"mkdir", "-p", dir}).exit_code == 0);
  Output o = run({"tar", "-xf", tar, "-C", dir});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
}

json read_json(const std::string& path) { return json::parse(read_file(path)); }

std::string blob(const std::string& dir, const std::string& digest) {
  return dir + "/blobs/sha256/" + digest.substr(7);
}

/// One platform's image of an unpacked OCI archive: "os/arch[/variant]" of the index
/// entry, its config and the path of its only layer.
struct ArchiveImage {
  std::string platform;
  json config;
  std::string layer;
};

/// The images of the index that the OCI archive unpacked at `dir` holds (index.json
/// naming the image index, as BuildKit's OCI exporter writes it, or listing it).
std::vector<ArchiveImage> archive_images(const std::string& dir) {
  json top = read_json(dir + "/index.json");
  REQUIRE(top["manifests"].size() == 1);
  json index = top["manifests"][0]["mediaType"] == "application/vnd.oci.image.index.v1+json"
                   ? read_json(blob(dir, top["manifests"][0]["digest"]))
                   : top;
  std::vector<ArchiveImage> out;
  for (const auto& m : index["manifests"]) {
    std::string p = m["platform"]["os"].get<std::string>() + "/" +
                    m["platform"]["architecture"].get<std::string>();
    if (m["platform"].contains("variant")) {
      p += "/" + m["platform"]["variant"].get<std::string>();
    }
    json manifest = read_json(blob(dir, m["digest"]));
    REQUIRE(manifest["layers"].size() == 1);
    out.push_back({p, read_json(blob(dir, manifest["config"]["digest"])),
                   blob(dir, manifest["layers"][0]["digest"])});
  }
  return out;
}

/// The file `name` of the layer tar at `layer`.
std::string layer_file(const std::string& layer, const std::string& name) {
  return run({"tar", "-xOf", layer, name}).out;
}

}  // namespace

TEST_CASE("FROM --platform=$BUILDPLATFORM runs natively for a foreign target, whose ARGs it sees",
          "[integration][buildkit][multiplatform]") {
  // BuildKit testPlatformArgsExplicit: a target platform nothing can run, and a
  // --build-arg overriding an automatic platform ARG.
  BuildFixture f;
  f.file("Dockerfile",
         "FROM --platform=$BUILDPLATFORM busybox:local AS build\nARG TARGETPLATFORM\n"
         "ARG TARGETOS\nRUN mkdir /out && echo -n $TARGETPLATFORM > /out/platform && "
         "echo -n $TARGETOS > /out/os\nFROM scratch\nCOPY --from=build out .\n");
  f.build_ok({"--platform", "darwin/ppc64le", "--build-arg", "TARGETOS=freebsd", "-o",
              "type=local,dest=" + f.path("out")});
  CHECK(read_file(f.path("out/platform")) == "darwin/ppc64le");
  CHECK(read_file(f.path("out/os")) == "freebsd");
}

TEST_CASE("several platforms export to a directory each, and to one OCI archive of an index",
          "[integration][buildkit][multiplatform]") {
  // BuildKit testExportMultiPlatform.
  BuildFixture f;
  f.file("Dockerfile",
         "FROM scratch\nARG TARGETARCH\nARG TARGETPLATFORM\nLABEL target=$TARGETPLATFORM\n"
         "COPY arch-$TARGETARCH whoami\n");
  for (const char* arch : {"arm", "amd64", "s390x", "ppc64le"}) {
    f.file(std::string("arch-") + arch, std::string("i am ") + arch);
  }
  std::string out = f.path("out");
  f.build_ok({"--platform", "windows/amd64,linux/arm,linux/s390x", "-o", "type=local,dest=" + out});
  CHECK(read_file(out + "/windows_amd64/whoami") == "i am amd64");
  CHECK(read_file(out + "/linux_arm_v7/whoami") == "i am arm");
  CHECK(read_file(out + "/linux_s390x/whoami") == "i am s390x");

  f.build_ok({"--platform", "windows/amd64,linux/arm/v6,linux/ppc64le", "-o",
              "type=oci,dest=" + f.path("out.tar")});
  untar(f.path("out.tar"), f.path("oci"));
  auto images = archive_images(f.path("oci"));
  REQUIRE(images.size() == 3);
  const std::vector<std::vector<std::string>> expected = {
      {"windows/amd64", "windows", "amd64", "i am amd64"},
      {"linux/arm/v6", "linux", "arm", "i am arm"},
      {"linux/ppc64le", "linux", "ppc64le", "i am ppc64le"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO(expected[i][0]);
    CHECK(images[i].platform == expected[i][0]);
    CHECK(images[i].config["os"] == expected[i][1]);
    CHECK(images[i].config["architecture"] == expected[i][2]);
    CHECK(images[i].config["config"]["Labels"]["target"] == expected[i][0]);
    CHECK(layer_file(images[i].layer, "whoami") == expected[i][3]);
  }
}

TEST_CASE("the Windows image of a two-platform build has cmd /S /C and no PATH",
          "[integration][buildkit][multiplatform]") {
  // BuildKit testDefaultShellAndPath.
  BuildFixture f;
  f.file("Dockerfile", "FROM scratch\nENTRYPOINT foo bar\nCOPY Dockerfile .\n");
  f.build_ok(
      {"--platform", "windows/amd64,linux/amd64", "-o", "type=oci,dest=" + f.path("out.tar")});
  untar(f.path("out.tar"), f.path("oci"));
  auto images = archive_images(f.path("oci"));
  REQUIRE(images.size() == 2);
  CHECK(images[0].platform == "windows/amd64");
  CHECK(images[0].config["config"]["Entrypoint"] == json::array({"cmd", "/S", "/C", "foo bar"}));
  CHECK(!images[0].config["config"].contains("Env"));
  CHECK(images[1].platform == "linux/amd64");
  CHECK(images[1].config["config"]["Entrypoint"] == json::array({"/bin/sh", "-c", "foo bar"}));
  CHECK(images[1].config["config"]["Env"] ==
        json::array({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}));
}

TEST_CASE("a tar output of several platforms holds a directory per platform",
          "[integration][buildkit][multiplatform]") {
  // BuildKit testTarExporterMulti.
  BuildFixture f;
  f.file("Dockerfile",
         "FROM scratch AS stage-linux\nCOPY foo forlinux\n\nFROM scratch AS stage-darwin\n"
         "COPY bar fordarwin\n\nFROM stage-$TARGETOS\n");
  f.file("foo", "data");
  f.file("bar", "data2");
  f.build_ok({"-o", "type=tar,dest=" + f.path("one.tar")});
  untar(f.path("one.tar"), f.path("one"));
  CHECK(read_file(f.path("one/forlinux")) == "data");

  f.build_ok({"--platform", "linux/amd64,darwin/amd64", "-o", "type=tar,dest=" + f.path("m.tar")});
  CHECK(run({"tar", "-tf", f.path("m.tar")}).out ==
        "darwin_amd64/\ndarwin_amd64/fordarwin\nlinux_amd64/\nlinux_amd64/forlinux\n");
  untar(f.path("m.tar"), f.path("multi"));
  CHECK(read_file(f.path("multi/linux_amd64/forlinux")) == "data");
  CHECK(read_file(f.path("multi/darwin_amd64/fordarwin")) == "data2");

  // To standard output too; without dest= it is refused.
  Output piped = f.build_ok({"--platform", "linux/amd64,darwin/amd64", "-o", "type=tar,dest=-"});
  CHECK(piped.out.size() == read_file(f.path("m.tar")).size());
  Output bare = f.build({"--platform", "linux/amd64,darwin/amd64", "-o", "type=tar"});
  CHECK(bare.exit_code != 0);
  CHECK_THAT(bare.err, Catch::Contains("output 'type=tar': dest= is required"));
}
