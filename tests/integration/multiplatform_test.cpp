// Multi-platform builds with real containers: RUN under qemu-user-static through
// binfmt_misc, the image index in the store, in archives and in a registry, pull
// and run of one platform, and the cross-compilation pattern running its
// build-platform steps once.

#include <glob.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/digest.h"
#include "tests/integration/multiplatform_fixture.h"
#include "tests/registry/registry_fixture.h"

using kiln::testing::LocalRegistry;
using kiln::testutil::MultiPlatformFixture;
using kiln::testutil::Output;
using kiln::testutil::read_file;
using nlohmann::json;

namespace {

Output kiln_ok(const std::string& root, const std::vector<std::string>& args) {
  Output o = kiln::testutil::kiln(root, args);
  INFO("kiln " << args.front() << ": " << o.err);
  REQUIRE(o.exit_code == 0);
  return o;
}

/// `kiln run --rm --platform P IMAGE cat FILE` in `root`.
std::string run_cat(const std::string& root, const std::string& platform, const std::string& image,
                    const std::string& file) {
  return kiln_ok(root, {"run", "--rm", "--platform", platform, image, "cat", file}).out;
}

/// The platforms ("linux/arm64") of an index's manifests, in order.
std::vector<std::string> index_platforms(const json& index) {
  std::vector<std::string> out;
  for (const auto& m : index["manifests"]) {
    std::string p = m["platform"]["os"].get<std::string>() + "/" +
                    m["platform"]["architecture"].get<std::string>();
    if (m["platform"].contains("variant")) {
      p += "/" + m["platform"]["variant"].get<std::string>();
    }
    out.push_back(p);
  }
  return out;
}

std::vector<std::string> glob_paths(const std::string& pattern) {
  glob_t g{};
  std::vector<std::string> out;
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    out.assign(g.gl_pathv, g.gl_pathv + g.gl_pathc);
  }
  ::globfree(&g);
  return out;
}

}  // namespace

TEST_CASE("a two-platform build runs RUN natively and under qemu into one image index",
          "[integration][multiplatform]") {
  MultiPlatformFixture f;
  f.file("Dockerfile", "FROM base:multi\nRUN uname -m > /arch\n");
  f.build_ok({"--platform", "linux/amd64,linux/arm64", "-t", "app:multi", "--metadata-file",
              f.path("meta.json")});
  auto meta = json::parse(read_file(f.path("meta.json")));
  CHECK(meta["containerimage.descriptor"]["mediaType"] ==
        "application/vnd.oci.image.index.v1+json");

  // Each platform's layer holds what its RUN saw.
  CHECK(run_cat(f.root(), "linux/amd64", "app:multi", "/arch") == "x86_64\n");
  CHECK(run_cat(f.root(), "linux/arm64", "app:multi", "/arch") == "aarch64\n");
  Output missing = kiln::testutil::kiln(
      f.root(), {"run", "--rm", "--platform", "linux/s390x", "app:multi", "true"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("has no manifest for platform 'linux/s390x' (it has linux/amd64, "
                         "linux/arm64)") != std::string::npos);

  // inspect shows the platforms and each image's config platform.
  json j = kiln::testutil::inspect(f, "app:multi");
  REQUIRE(j["Manifests"].size() == 2);
  CHECK(j["Manifests"][0]["Platform"] == "linux/amd64");
  CHECK(j["Manifests"][1]["Platform"] == "linux/arm64");
  CHECK(j["Architecture"] == "amd64");  // the host's, as docker shows it
  json arm =
      json::parse(kiln_ok(f.root(), {"inspect", "--platform", "linux/arm64", "app:multi"}).out);
  CHECK(arm[0]["Architecture"] == "arm64");
  CHECK(arm[0]["Os"] == "linux");

  // history shows one platform's (the host's by default, or --platform's).
  std::string history = kiln_ok(f.root(), {"history", "--no-trunc", "app:multi"}).out;
  CHECK(history.find("RUN /bin/sh -c uname -m > /arch") != std::string::npos);
  kiln_ok(f.root(), {"history", "--platform", "linux/arm64", "app:multi"});

  // kiln images --tree lists the index with its platforms.
  std::string tree = kiln_ok(f.root(), {"images", "--tree"}).out;
  CHECK(tree.find("app:multi") != std::string::npos);
  CHECK(tree.find("linux/amd64") != std::string::npos);
  CHECK(tree.find("linux/arm64") != std::string::npos);

  // The OCI layout holds the index with both manifests, with their platforms.
  kiln_ok(f.root(), {"save", "--format", "oci", "-o", f.path("app.tar"), "app:multi"});
  std::string out;
  REQUIRE(kiln::testing::run_command("mkdir -p " + f.path("layout") + " && tar -xf " +
                                     f.path("app.tar") + " -C " + f.path("layout")) == 0);
  json top = json::parse(read_file(f.path("layout/index.json")));
  REQUIRE(top["manifests"].size() == 1);
  CHECK(top["manifests"][0]["mediaType"] == "application/vnd.oci.image.index.v1+json");
  std::string index_digest = top["manifests"][0]["digest"];
  json index = json::parse(read_file(f.path("layout/blobs/sha256/" + index_digest.substr(7))));
  CHECK(index_platforms(index) == std::vector<std::string>{"linux/amd64", "linux/arm64"});
  for (const auto& m : index["manifests"]) {
    std::string d = m["digest"];
    json manifest = json::parse(read_file(f.path("layout/blobs/sha256/" + d.substr(7))));
    std::string c = manifest["config"]["digest"];
    json config = json::parse(read_file(f.path("layout/blobs/sha256/" + c.substr(7))));
    CHECK(config["architecture"] == m["platform"]["architecture"]);
    for (const auto& layer : manifest["layers"]) {
      std::string l = layer["digest"];
      CHECK(::access(f.path("layout/blobs/sha256/" + l.substr(7)).c_str(), F_OK) == 0);
    }
  }
  // skopeo reads each platform from the archive.
  for (const char* arch : {"amd64", "arm64"}) {
    REQUIRE(kiln::testing::run_command(std::string("skopeo inspect --override-os linux ") +
                                           "--override-arch " + arch +
                                           " --format '{{.Architecture}} {{len .Layers}}' "
                                           "oci-archive:" +
                                           f.path("app.tar"),
                                       &out) == 0);
    CHECK(out == std::string(arch) + " 2\n");
  }
  // The docker archive has every platform's blobs too; manifest.json names the host's.
  kiln_ok(f.root(), {"save", "-o", f.path("docker.tar"), "app:multi"});
  REQUIRE(kiln::testing::run_command("tar -xOf " + f.path("docker.tar") + " manifest.json", &out) ==
          0);
  json docker_manifest = json::parse(out);
  REQUIRE(docker_manifest.size() == 1);
  CHECK(docker_manifest[0]["RepoTags"][0] == "app:multi");

  // Both archives load back as the same index into a fresh store.
  for (const char* archive : {"app.tar", "docker.tar"}) {
    kiln::testutil::TempDir fresh;
    Output loaded = kiln_ok(fresh.path(), {"load", "-i", f.path(archive)});
    CHECK(loaded.out == "Loaded image: app:multi\n");
    json k = json::parse(kiln_ok(fresh.path(), {"inspect", "app:multi"}).out);
    CHECK(k[0]["Id"] == "sha256:" + index_digest.substr(7));
    CHECK(k[0]["Manifests"].size() == 2);
    CHECK(run_cat(fresh.path(), "linux/arm64", "app:multi", "/arch") == "aarch64\n");
  }
}

TEST_CASE("a pushed image index is what skopeo sees and pull --platform takes one platform",
          "[integration][multiplatform][registry]") {
  LocalRegistry registry;
  std::string reg = registry.domain();
  MultiPlatformFixture f;
  f.file("Dockerfile", "FROM base:multi\nRUN uname -m > /arch\n");
  f.build_ok({"--platform", "linux/amd64,linux/arm64", "--push", "-t", reg + "/app:multi"});

  std::string out;
  REQUIRE(kiln::testing::run_command(
              "skopeo inspect --raw --tls-verify=false docker://" + reg + "/app:multi", &out) == 0);
  std::string raw = out;
  json index = json::parse(out);
  CHECK(index["mediaType"] == "application/vnd.oci.image.index.v1+json");
  CHECK(index_platforms(index) == std::vector<std::string>{"linux/amd64", "linux/arm64"});
  for (const char* arch : {"amd64", "arm64"}) {
    REQUIRE(kiln::testing::run_command(std::string("skopeo inspect --tls-verify=false ") +
                                           "--override-os linux --override-arch " + arch +
                                           " --format '{{.Architecture}} {{.Os}} {{len .Layers}}' "
                                           "docker://" +
                                           reg + "/app:multi",
                                       &out) == 0);
    CHECK(out == std::string(arch) + " linux 2\n");
  }

  // kiln push of the stored index pushes the same index.
  Output again = kiln_ok(f.root(), {"push", reg + "/app:multi"});
  CHECK(again.out.find("digest: " + kiln::Digest::of(raw).str()) != std::string::npos);
  // rmi of the index removes every platform's blobs.
  kiln_ok(f.root(), {"rmi", reg + "/app:multi"});
  std::string arm_manifest = index["manifests"][1]["digest"];
  CHECK(::access((f.root() + "/blobs/sha256/" + arm_manifest.substr(7)).c_str(), F_OK) != 0);

  kiln::testutil::TempDir fresh;
  Output pulled = kiln_ok(fresh.path(), {"pull", "--platform", "linux/arm64", reg + "/app:multi"});
  // The Digest line is the index's, as docker's.
  CHECK(pulled.out.find("Digest: " + kiln::Digest::of(raw).str()) != std::string::npos);
  json j = json::parse(kiln_ok(fresh.path(), {"inspect", reg + "/app:multi"}).out);
  CHECK(j[0]["Architecture"] == "arm64");
  CHECK(run_cat(fresh.path(), "linux/arm64", reg + "/app:multi", "/arch") == "aarch64\n");

  // A two-platform build FROM that index in a store that has neither platform pulls
  // each platform's image; the name stays the host's.
  MultiPlatformFixture g;
  g.file("Dockerfile", "FROM " + reg + "/app:multi\nRUN uname -m >> /arch\n");
  g.build_ok({"--platform", "linux/amd64,linux/arm64", "-t", "again:1"});
  CHECK(run_cat(g.root(), "linux/arm64", "again:1", "/arch") == "aarch64\naarch64\n");
  CHECK(run_cat(g.root(), "linux/amd64", "again:1", "/arch") == "x86_64\nx86_64\n");
  json named = json::parse(kiln_ok(g.root(), {"inspect", reg + "/app:multi"}).out);
  CHECK(named[0]["Architecture"] == "amd64");
}

TEST_CASE("the cross-compilation pattern runs its build-platform steps once",
          "[integration][multiplatform]") {
  MultiPlatformFixture f;
  f.file("Dockerfile",
         "FROM --platform=$BUILDPLATFORM base:multi AS build\n"
         "RUN --mount=type=cache,target=/cache echo prepared >> /cache/prepare-runs && "
         "uname -m > /build-arch\n"
         "ARG TARGETOS TARGETARCH\n"
         "RUN echo \"tool for $TARGETOS/$TARGETARCH on $(cat /build-arch)\" > /out\n"
         "FROM base:multi\n"
         "COPY --from=build /out /out\n"
         "RUN uname -m >> /out\n");
  Output o = f.build_ok(
      {"--platform", "linux/amd64,linux/arm64", "-t", "cross:1", "--cache-to", "type=inline"});
  auto runs = glob_paths(f.root() + "/cache-mounts/*/prepare-runs");
  REQUIRE(runs.size() == 1);
  CHECK(read_file(runs[0]) == "prepared\n");  // one run for both platforms
  CHECK(run_cat(f.root(), "linux/amd64", "cross:1", "/out") ==
        "tool for linux/amd64 on x86_64\nx86_64\n");
  CHECK(run_cat(f.root(), "linux/arm64", "cross:1", "/out") ==
        "tool for linux/arm64 on x86_64\naarch64\n");
  // Each platform's config carries its inline cache.
  json j = kiln::testutil::inspect(f, "cross:1");
  REQUIRE(j["Manifests"].size() == 2);
  for (const auto& m : j["Manifests"]) {
    std::string config = m["Config"];
    CHECK(read_file(f.root() + "/blobs/sha256/" + config.substr(7)).find("\"kiln.cache.v1\"") !=
          std::string::npos);
  }
  // Progress names the build stage's steps with the build platform.
  CHECK(o.err.find("[linux/amd64 build 2/3] RUN --mount=type=cache") != std::string::npos);
  CHECK(o.err.find("[linux/arm64 build") == std::string::npos);
}

TEST_CASE("a build for one other platform makes that platform's image",
          "[integration][multiplatform]") {
  MultiPlatformFixture f;
  f.file("Dockerfile",
         "FROM base:multi\nARG TARGETPLATFORM\nRUN echo $TARGETPLATFORM $(uname -m) > /p\n");
  f.build_ok({"--platform", "linux/arm64", "-t", "one:arm"});
  json j = kiln::testutil::inspect(f, "one:arm");
  CHECK(j["Architecture"] == "arm64");
  CHECK(!j.contains("Manifests"));
  CHECK(run_cat(f.root(), "linux/arm64", "one:arm", "/p") == "linux/arm64 aarch64\n");

  // An image of another platform is not taken for this one (its registry, here
  // nothing on 127.0.0.1:1, is asked for the platform; both answers are shown).
  kiln_ok(f.root(), {"tag", "busybox:local", "127.0.0.1:1/bb:1"});
  f.file("Dockerfile", "FROM 127.0.0.1:1/bb:1\nRUN true\n");
  Output o = f.build({"--platform", "linux/arm64"});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("failed to resolve source metadata for '127.0.0.1:1/bb:1': image 'sha256:") !=
        std::string::npos);
  CHECK(o.err.find("' is for platform 'linux/amd64', not 'linux/arm64'; pull '127.0.0.1:1/bb:1'") !=
        std::string::npos);
}

TEST_CASE("a RUN for a platform without an emulator is refused, naming the fix",
          "[integration][multiplatform]") {
  MultiPlatformFixture f;
  f.file("Dockerfile", "FROM base:multi\nRUN uname -m > /arch\n");
  // kiln looks for handlers in KILN_BINFMT_DIR: one with none registered (the real
  // one is shared by every test running at the time).
  kiln::testutil::TempDir binfmt;
  kiln::testutil::write_file(binfmt.path() + "/status", "enabled\n");
  Output o = f.build({"--platform", "linux/amd64,linux/arm64", "-t", "app:refused"},
                     {"KILN_BINFMT_DIR=" + binfmt.path()});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("platform 'linux/arm64' needs an emulator: no binfmt_misc handler "
                   "'qemu-aarch64' is registered in '" +
                   binfmt.path() + "' (run 'kiln setup binfmt' as root") != std::string::npos);
  CHECK(o.err.find("Dockerfile:2") != std::string::npos);
  Output images = kiln::testutil::kiln(f.root(), {"images", "-q", "app:refused"});
  CHECK(images.out.empty());  // nothing was stored
  // A handler without the fix-binary flag would run nothing inside a container.
  kiln::testutil::write_file(binfmt.path() + "/qemu-aarch64",
                             "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
                             "flags: P\n");
  o = kiln::testutil::run({KILN_BINARY, "--root", f.root(), "run", "--rm", "--platform",
                           "linux/arm64", "base:multi", "true"},
                          "", {"KILN_BINFMT_DIR=" + binfmt.path()});
  CHECK(o.exit_code != 0);
  CHECK(o.err.find("lacks the fix-binary flag (F)") != std::string::npos);
  // With the machine's emulators, the same build works.
  f.build_ok({"--platform", "linux/amd64,linux/arm64", "-t", "app:refused"});
}

TEST_CASE("three platforms with a variant: linux/arm/v7 runs as armv7l",
          "[integration][multiplatform]") {
  MultiPlatformFixture f;
  f.file("Dockerfile",
         "FROM scratch\nARG TARGETARCH\nCOPY rootfs-${TARGETARCH}/ /\nRUN uname -m > /arch\n");
  f.file(".dockerignore", "");
  f.build_ok({"--platform", "linux/amd64,linux/arm64,linux/arm/v7", "-t", "three:1", "-o",
              "type=local,dest=" + f.path("out")});
  // A local output has a directory per platform, as BuildKit's.
  CHECK(read_file(f.path("out/linux_arm_v7/arch")) == "armv7l\n");
  CHECK(read_file(f.path("out/linux_amd64/arch")) == "x86_64\n");
  CHECK(run_cat(f.root(), "linux/arm/v7", "three:1", "/arch") == "armv7l\n");
  CHECK(run_cat(f.root(), "linux/arm64", "three:1", "/arch") == "aarch64\n");
  json arm =
      json::parse(kiln_ok(f.root(), {"inspect", "--platform", "linux/arm/v7", "three:1"}).out);
  CHECK(arm[0]["Architecture"] == "arm");
  CHECK(arm[0]["Variant"] == "v7");
  json j = kiln::testutil::inspect(f, "three:1");
  REQUIRE(j["Manifests"].size() == 3);
  CHECK(j["Manifests"][2]["Platform"] == "linux/arm/v7");
}

TEST_CASE("an image index lives with the store: images, system df, prunes and rmi",
          "[integration][multiplatform][gc]") {
  MultiPlatformFixture f;
  f.file("Dockerfile", "FROM base:multi\nRUN uname -m > /arch\n");
  f.build_ok({"--platform", "linux/amd64,linux/arm64", "-t", "app:multi"});
  // SIZE of an index: its platforms' layers, uncompressed, summed.
  Output images = kiln_ok(f.root(), {"images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"});
  CHECK(images.out.find("app:multi ") != std::string::npos);
  Output df = kiln_ok(f.root(), {"system", "df"});
  CHECK(df.out.find("Images") != std::string::npos);
  // Pruning the build cache keeps both platforms runnable.
  kiln_ok(f.root(), {"builder", "prune", "-a", "-f"});
  kiln_ok(f.root(), {"image", "prune", "-f"});
  CHECK(run_cat(f.root(), "linux/arm64", "app:multi", "/arch") == "aarch64\n");
  CHECK(run_cat(f.root(), "linux/amd64", "app:multi", "/arch") == "x86_64\n");
  Output check = kiln_ok(f.root(), {"system", "check"});
  CHECK(check.out.find("no problems") != std::string::npos);
  kiln_ok(f.root(), {"rmi", "app:multi"});
  Output after = kiln_ok(f.root(), {"images", "-q"});
  CHECK(after.out.find("app") == std::string::npos);
}
