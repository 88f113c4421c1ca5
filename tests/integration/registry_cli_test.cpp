// `kiln pull`, `kiln push`, `kiln login`/`logout` end to end: the kiln binary, a
// real docker-registry (plain HTTP, and TLS with htpasswd basic auth and a CA made
// here), and skopeo as the peer.

#include <sys/stat.h>

#include "tests/registry/registry_fixture.h"

using kiln::testing::LocalRegistry;
using kiln::testing::RegistryConfig;
using kiln::testing::TempDir;
using kiln::testing::TestImage;

namespace {

/// Runs kiln with `args` and environment `env` ("A=b C=d"); stdout+stderr in `out`.
int kiln_run(const std::string& env, const std::string& args, std::string* out) {
  return kiln::testing::run_command(env + " " KILN_BINARY " " + args + " 2>&1", out);
}

/// Copies `image` to `dest` (docker://...) with skopeo.
void skopeo_push(const TestImage& image, const std::string& dest) {
  TempDir layout;
  kiln::testing::write_oci_layout(layout.path, image.store, image.manifest, "v1");
  REQUIRE(kiln::testing::run_command("skopeo copy -q --dest-tls-verify=false oci:" + layout.path +
                                     ":v1 docker://" + dest) == 0);
}

std::string short_id(const kiln::Digest& d) { return d.short_hex(); }

}  // namespace

TEST_CASE("kiln pull and push against docker-registry") {
  LocalRegistry registry;
  TempDir root;
  TestImage image;
  kiln::testing::make_test_image(image, 2, 20000, 31);
  std::string reg = registry.domain();
  skopeo_push(image, reg + "/peer/app:1");
  std::string env = "KILN_ROOT=" + root.path + " DOCKER_CONFIG=" + root / "docker";

  std::string out;
  REQUIRE(kiln_run(env, "pull " + reg + "/peer/app:1", &out) == 0);
  std::string layer0 = short_id(image.layers[0].digest);
  std::string layer1 = short_id(image.layers[1].digest);
  CHECK(llvm::StringRef(out).startswith("1: Pulling from peer/app\n"));
  CHECK(llvm::StringRef(out).contains(layer0 + ": Pull complete\n"));
  CHECK(llvm::StringRef(out).contains(layer1 + ": Pull complete\n"));
  CHECK(llvm::StringRef(out).endswith("Digest: " + image.manifest.str() +
                                      "\nStatus: Downloaded newer image for " + reg +
                                      "/peer/app:1\n" + reg + "/peer/app:1\n"));

  REQUIRE(kiln_run(env, "pull " + reg + "/peer/app:1", &out) == 0);
  CHECK(out == "1: Pulling from peer/app\n" + layer0 + ": Already exists\n" + layer1 +
                   ": Already exists\nDigest: " + image.manifest.str() +
                   "\nStatus: Image is up to date for " + reg + "/peer/app:1\n" + reg +
                   "/peer/app:1\n");

  REQUIRE(kiln_run(env, "tag " + reg + "/peer/app:1 " + reg + "/mine/app:2", &out) == 0);
  REQUIRE(kiln_run(env, "push " + reg + "/mine/app:2", &out) == 0);
  CHECK(llvm::StringRef(out).startswith("The push refers to repository [" + reg + "/mine/app]\n"));
  CHECK(llvm::StringRef(out).contains(layer0 + ": Pushed\n"));
  CHECK(llvm::StringRef(out).endswith("2: digest: " + image.manifest.str() + " size: " +
                                      std::to_string(image.manifest_bytes.size()) + "\n"));
  REQUIRE(kiln_run(env, "push " + reg + "/mine/app:2", &out) == 0);
  bool either = out == "The push refers to repository [" + reg + "/mine/app]\n" + layer0 +
                           ": Layer already exists\n" + layer1 + ": Layer already exists\n" +
                           "2: digest: " + image.manifest.str() +
                           " size: " + std::to_string(image.manifest_bytes.size()) + "\n" ||
                out == "The push refers to repository [" + reg + "/mine/app]\n" + layer1 +
                           ": Layer already exists\n" + layer0 + ": Layer already exists\n" +
                           "2: digest: " + image.manifest.str() +
                           " size: " + std::to_string(image.manifest_bytes.size()) + "\n";
  CHECK(either);

  REQUIRE(kiln::testing::run_command("skopeo inspect --tls-verify=false --format '{{.Digest}}' "
                                     "docker://" +
                                         reg + "/mine/app:2",
                                     &out) == 0);
  CHECK(out == image.manifest.str() + "\n");

  TempDir fresh;
  REQUIRE(kiln_run("KILN_ROOT=" + fresh.path, "pull -q " + reg + "/mine/app:2", &out) == 0);
  CHECK(out == reg + "/mine/app:2\n");
  CHECK(kiln::testing::read_text(fresh / ("blobs/sha256/" + image.manifest.hex())) ==
        image.manifest_bytes);

  REQUIRE(kiln_run(env, "pull " + reg + "/peer/none:1", &out) == 1);
  CHECK(out == "1: Pulling from peer/none\nerror: pull '" + reg +
                   "/peer/none:1': manifest '1': HTTP 404: manifest unknown\n");
}

TEST_CASE("kiln login, push and pull over TLS with htpasswd basic auth") {
  TempDir dir;
  REQUIRE(kiln::testing::run_command(
              "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
              "-addext subjectAltName=IP:127.0.0.1 -keyout " +
              dir / "key.pem" + " -out " + dir / "cert.pem" + " >/dev/null 2>&1") == 0);
  REQUIRE(kiln::testing::run_command("htpasswd -Bbn alice wonderland > " + dir / "htpasswd") == 0);
  RegistryConfig config;
  config.tls_cert = dir / "cert.pem";
  config.tls_key = dir / "key.pem";
  config.htpasswd = dir / "htpasswd";
  LocalRegistry registry(config);
  std::string reg = registry.domain();
  REQUIRE(!kiln::fs::make_dirs(dir / ("certs.d/" + reg)));
  kiln::testing::write_text(dir / ("certs.d/" + reg + "/ca.crt"),
                            kiln::testing::read_text(dir / "cert.pem"));
  std::string env = "KILN_ROOT=" + dir / "root" + " DOCKER_CONFIG=" + dir / "docker" +
                    " KILN_CERTS_D=" + dir / "certs.d";
  std::string out;

  REQUIRE(kiln_run("echo wrong | " + env, "login -u alice --password-stdin " + reg, &out) == 3);
  CHECK(out == "error: login '" + reg + "': GET /v2/: HTTP 401: authentication required\n");
  CHECK(!kiln::fs::exists(dir / "docker/config.json"));

  REQUIRE(kiln_run(env, "pull " + reg + "/locked/app:1", &out) == 3);
  CHECK(out == "1: Pulling from locked/app\nerror: pull '" + reg +
                   "/locked/app:1': manifest '1': HTTP 401: authentication required\n");

  REQUIRE(kiln_run("echo wonderland | " + env, "login -u alice --password-stdin " + reg, &out) ==
          0);
  CHECK(out == "Login Succeeded\n");
  struct stat st {};
  REQUIRE(stat((dir / "docker/config.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  TestImage image;
  kiln::testing::make_test_image(image, 1, 1000, 41);
  TempDir layout;
  kiln::testing::write_oci_layout(layout.path, image.store, image.manifest, "v1");
  REQUIRE(kiln::testing::run_command(
              "skopeo copy -q --dest-creds alice:wonderland --dest-tls-verify=false"
              " oci:" +
              layout.path + ":v1 docker://" + reg + "/locked/app:1") == 0);
  REQUIRE(kiln_run(env, "pull -q " + reg + "/locked/app:1", &out) == 0);
  CHECK(out == reg + "/locked/app:1\n");
  REQUIRE(kiln_run(env, "tag " + reg + "/locked/app:1 " + reg + "/locked/copy:1", &out) == 0);
  REQUIRE(kiln_run(env, "push -q " + reg + "/locked/copy:1", &out) == 0);
  CHECK(out == reg + "/locked/copy:1\n");

  // Without the CA the registry cannot be trusted and plain HTTP is refused.
  REQUIRE(kiln_run("KILN_ROOT=" + dir / "root" + " DOCKER_CONFIG=" + dir / "docker" +
                       " KILN_CERTS_D=" + dir / "none",
                   "pull -q " + reg + "/locked/app:1", &out) == 1);
  CHECK(out == "error: pull '" + reg + "/locked/app:1': manifest '1': HTTP 400\n");

  REQUIRE(kiln_run(env, "logout " + reg, &out) == 0);
  CHECK(out == "Removing login credentials for " + reg + "\n");
  REQUIRE(kiln_run(env, "pull -q " + reg + "/locked/app:1", &out) == 3);
}
