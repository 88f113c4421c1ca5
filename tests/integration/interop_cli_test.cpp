// Interop details end to end: pulls through registry mirrors (--registry-mirror,
// daemon.json, registries.conf) with fallback to the origin, `kiln search` over a
// registry's catalog, and `load` naming OCI archives that skopeo wrote.

#include <catch2/catch.hpp>

#include "tests/registry/registry_fixture.h"
#include "tests/testutil/testutil.h"

using kiln::testing::LocalRegistry;
using kiln::testutil::Output;
using kiln::testutil::TempDir;

namespace {

// Runs kiln with `--root root`, `args` and KILN_CONFIG_DIR=`config_dir`.
Output kiln_with(const std::string& root, const std::string& config_dir,
                 const std::vector<std::string>& args) {
  std::vector<std::string> argv = {KILN_BINARY, "--root", root};
  argv.insert(argv.end(), args.begin(), args.end());
  return kiln::testutil::run(argv, "", {"KILN_CONFIG_DIR=" + config_dir});
}

std::string ok(const Output& o) {
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  return o.out;
}

// A docker-archive of a one-file image named `name`, saved by kiln to `tar`.
void make_archive(const TempDir& dir, const std::string& name, const std::string& tar) {
  kiln::testutil::write_file(dir / "rootfs/hello.txt", name);
  kiln::testutil::tar_directory(dir / "rootfs", dir / "rootfs.tar");
  std::string root = dir / "maker";
  ok(kiln::testutil::kiln(root, {"import", dir / "rootfs.tar", name}));
  ok(kiln::testutil::kiln(root, {"save", "-o", tar, name}));
}

// Copies the docker-archive `tar` to registry reference `dest` with skopeo.
void push_archive(const std::string& tar, const std::string& dest) {
  ok(kiln::testutil::run({"skopeo", "copy", "-q", "--dest-tls-verify=false",
                          "docker-archive:" + tar, "docker://" + dest}));
}

}  // namespace

TEST_CASE("docker.io pulls go through --registry-mirror and daemon.json mirrors",
          "[integration][mirrors]") {
  TempDir dir;
  LocalRegistry mirror;
  make_archive(dir, "mirrored:1", dir / "img.tar");
  push_archive(dir / "img.tar", mirror.domain() + "/library/mirrored:1");
  std::string no_config = dir / "no-config";
  ok(kiln_with(dir / "a", no_config,
               {"pull", "-q", "--registry-mirror", "http://" + mirror.domain(), "mirrored:1"}));
  CHECK(ok(kiln_with(dir / "a", no_config, {"images", "--format", "{{.Repository}}:{{.Tag}}"})) ==
        "mirrored:1\n");

  kiln::testutil::write_file(dir / "conf/daemon.json",
                             R"({"registry-mirrors": ["http://)" + mirror.domain() + R"("]})");
  CHECK(ok(kiln_with(dir / "b", dir / "conf", {"pull", "-q", "docker.io/library/mirrored:1"})) ==
        "docker.io/library/mirrored:1\n");
}

TEST_CASE("registries.conf mirrors: served by the mirror, else the origin",
          "[integration][mirrors]") {
  TempDir dir;
  LocalRegistry origin, mirror;
  make_archive(dir, "app:1", dir / "img.tar");
  push_archive(dir / "img.tar", origin.domain() + "/team/app:1");
  push_archive(dir / "img.tar", mirror.domain() + "/cache/team/only:1");
  int down = kiln::testing::free_port();
  kiln::testutil::write_file(dir / "conf/registries.conf",
                             "[[registry]]\nlocation = \"" + origin.domain() +
                                 "\"\n\n[[registry.mirror]]\nlocation = \"127.0.0.1:" +
                                 std::to_string(down) + "\"\n\n[[registry.mirror]]\nlocation = \"" +
                                 mirror.domain() + "/cache\"\ninsecure = true\n");
  // Only the mirror has team/only: the unreachable first mirror is skipped.
  ok(kiln_with(dir / "root", dir / "conf", {"pull", "-q", origin.domain() + "/team/only:1"}));
  // The mirror lacks team/app: the origin serves it.
  ok(kiln_with(dir / "root", dir / "conf", {"pull", "-q", origin.domain() + "/team/app:1"}));
  CHECK(ok(kiln_with(dir / "root", dir / "conf",
                     {"images", "--format", "{{.Repository}}:{{.Tag}}"})) ==
        origin.domain() + "/team/app:1\n" + origin.domain() + "/team/only:1\n");
  // A digest-only mirror serves team/only by digest, not by tag.
  kiln::testutil::write_file(dir / "digest/registries.conf",
                             "[[registry]]\nlocation = \"" + origin.domain() +
                                 "\"\nmirror-by-digest-only = true\n[[registry.mirror]]\n"
                                 "location = \"" +
                                 mirror.domain() + "/cache\"\n");
  Output by_tag = kiln_with(dir / "digest-root", dir / "digest",
                            {"pull", "-q", origin.domain() + "/team/only:1"});
  CHECK(by_tag.exit_code == 1);
  std::string digest =
      ok(kiln::testutil::run({"skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                              "docker://" + mirror.domain() + "/cache/team/only:1"}));
  digest.pop_back();
  ok(kiln_with(dir / "digest-root", dir / "digest",
               {"pull", "-q", origin.domain() + "/team/only@" + digest}));
  // Without the mirror team/only does not exist.
  Output missing =
      kiln_with(dir / "other", dir / "no-config", {"pull", "-q", origin.domain() + "/team/only:1"});
  CHECK(missing.exit_code == 1);
}

TEST_CASE("search lists a registry's catalog in docker search's columns", "[integration][search]") {
  TempDir dir;
  LocalRegistry registry;
  make_archive(dir, "x:1", dir / "img.tar");
  for (const char* repo : {"team/web", "team/webhook", "tools/db"}) {
    push_archive(dir / "img.tar", registry.domain() + "/" + repo + ":1");
  }
  std::string reg = registry.domain();
  std::string conf = dir / "no-config";
  // Columns as wide as their widest cell plus 3, at least 10; OFFICIAL is empty.
  size_t width = (reg + "/team/webhook").size() + 3;
  auto name = [&](const std::string& text) { return text + std::string(width - text.size(), ' '); };
  CHECK(ok(kiln_with(dir / "root", conf, {"search", reg + "/web"})) ==
        name("NAME") + "DESCRIPTION   STARS     OFFICIAL\n" + name(reg + "/team/web") +
            "              0         \n" + name(reg + "/team/webhook") +
            "              0         \n");
  CHECK(ok(kiln_with(dir / "root", conf,
                     {"search", "--limit", "1", "--format", "{{.Name}}", reg + "/WEB"})) ==
        reg + "/team/web\n");
  CHECK(ok(kiln_with(dir / "root", conf, {"search", "--format", "{{.Name}}", reg + "/"})) ==
        reg + "/team/web\n" + reg + "/team/webhook\n" + reg + "/tools/db\n");
  Output hub = kiln_with(dir / "root", conf, {"search", "alpine"});
  CHECK(hub.exit_code == 1);
  CHECK(hub.err ==
        "error: search 'alpine': Docker Hub search needs Hub's own search API, which kiln does "
        "not use; kiln searches a registry's catalog: name the registry, as in 'kiln search "
        "localhost:5000/alpine'\n");
}

TEST_CASE("load names an OCI archive by a full ref.name, as skopeo writes it",
          "[integration][load]") {
  TempDir dir;
  make_archive(dir, "src:1", dir / "img.tar");
  ok(kiln::testutil::run({"skopeo", "copy", "-q", "docker-archive:" + dir / "img.tar",
                          "oci-archive:" + dir / "named.tar" + ":myapp:2"}));
  CHECK(ok(kiln::testutil::kiln(dir / "root", {"load", "-i", dir / "named.tar"})) ==
        "Loaded image: myapp:2\n");
  ok(kiln::testutil::run({"skopeo", "copy", "-q", "docker-archive:" + dir / "img.tar",
                          "oci-archive:" + dir / "tag-only.tar" + ":latest"}));
  std::string out = ok(kiln::testutil::kiln(dir / "root2", {"load", "-i", dir / "tag-only.tar"}));
  CHECK(llvm::StringRef(out).startswith("Loaded image ID: sha256:"));
}
