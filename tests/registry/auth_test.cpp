#include "registry/auth.h"

#include <sys/stat.h>

#include <cstdlib>

#include "registry/client.h"
#include "tests/registry/registry_fixture.h"

using namespace kiln;
using namespace kiln::registry;
using kiln::testing::TempDir;

TEST_CASE("parse_challenge reads bearer parameters with quotes and escapes") {
  auto c = parse_challenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push", error="a \"q\"")");
  REQUIRE(static_cast<bool>(c));
  CHECK(c->scheme == "bearer");
  CHECK(c->params["realm"] == "https://auth.docker.io/token");
  CHECK(c->params["service"] == "registry.docker.io");
  CHECK(c->params["scope"] == "repository:library/alpine:pull,push");
  CHECK(c->params["error"] == "a \"q\"");
  auto basic = parse_challenge(R"(Basic realm="kiln-test")");
  REQUIRE(static_cast<bool>(basic));
  CHECK(basic->scheme == "basic");
  CHECK(basic->params["realm"] == "kiln-test");
  auto bad = parse_challenge("");
  REQUIRE(!bad);
  CHECK(error_message(bad.takeError()) == "invalid WWW-Authenticate header ''");
}

TEST_CASE("base64 round-trips and rejects bad input") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("user:pa:ss") == "dXNlcjpwYTpzcw==");
  CHECK(*base64_decode("dXNlcjpwYTpzcw==") == "user:pa:ss");
  auto bad = base64_decode("a*b");
  REQUIRE(!bad);
  CHECK(error_message(bad.takeError()) == "invalid base64");
}

TEST_CASE("registry hosts and insecure registries") {
  CHECK(registry_host("docker.io") == "registry-1.docker.io");
  CHECK(registry_host("127.0.0.1:5000") == "127.0.0.1:5000");
  CHECK(config_key("docker.io") == "https://index.docker.io/v1/");
  CHECK(config_key("ghcr.io") == "ghcr.io");
  CHECK(is_insecure_registry("localhost:5000", {}));
  CHECK(is_insecure_registry("127.0.0.1:5000", {}));
  CHECK(is_insecure_registry("[::1]:5000", {}));
  CHECK(!is_insecure_registry("ghcr.io", {}));
  CHECK(is_insecure_registry("reg.local:5000", {"reg.local:5000"}));
  CHECK(!is_insecure_registry("reg.local:5001", {"reg.local:5000"}));
}

TEST_CASE("credentials are saved to and read from docker's config, mode 0600") {
  TempDir dir;
  std::string path = dir / "sub/config.json";
  kiln::testing::write_text(dir / "x", "");
  CHECK(!*load_credentials(path, "127.0.0.1:5000"));
  REQUIRE(!save_credentials(path, "127.0.0.1:5000", {"alice", "s3cret:x", ""}));
  REQUIRE(!save_credentials(path, "docker.io", {"bob", "pw", ""}));
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(kiln::testing::read_text(path) ==
        "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5000\": {\n\t\t\t\"auth\": \"YWxpY2U6czNjcmV0Ong=\"\n"
        "\t\t},\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": "
        "\"Ym9iOnB3\"\n\t\t}\n\t}\n}\n");
  auto alice = load_credentials(path, "127.0.0.1:5000");
  REQUIRE(static_cast<bool>(alice));
  REQUIRE(alice->has_value());
  CHECK(**alice == Credentials{"alice", "s3cret:x", ""});
  CHECK((*load_credentials(path, "docker.io"))->username == "bob");
  CHECK(*erase_credentials(path, "docker.io"));
  CHECK(!*erase_credentials(path, "docker.io"));
  CHECK(!*load_credentials(path, "docker.io"));
  CHECK(*load_credentials(path, "127.0.0.1:5000"));
}

TEST_CASE("auths keys match with a scheme and a path") {
  TempDir dir;
  kiln::testing::write_text(dir / "config.json",
                            R"({"auths":{"http://reg.local:5000/v2/":{"auth":"dTpw"}}})");
  auto creds = load_credentials(dir / "config.json", "reg.local:5000");
  REQUIRE(static_cast<bool>(creds));
  REQUIRE(creds->has_value());
  CHECK((*creds)->username == "u");
  CHECK((*creds)->password == "p");
  kiln::testing::write_text(dir / "bad.json", "{");
  auto bad = load_credentials(dir / "bad.json", "reg.local:5000");
  REQUIRE(!bad);
  CHECK(llvm::StringRef(error_message(bad.takeError()))
            .startswith("read '" + dir / "bad.json" + "': invalid JSON: "));
}

TEST_CASE("credential helpers from credHelpers and credsStore are run") {
  TempDir dir;
  std::string helper = dir / "docker-credential-kilntest";
  kiln::testing::write_text(
      helper,
      "#!/bin/sh\nread server\nif [ \"$1\" = get ] && [ \"$server\" = reg.local:5000 ]; then\n"
      "  echo '{\"ServerURL\":\"reg.local:5000\",\"Username\":\"helper-user\",\"Secret\":\"hs\"}'\n"
      "  exit 0\nfi\necho 'credentials not found in native keychain'\nexit 1\n");
  chmod(helper.c_str(), 0755);
  std::string old_path = std::getenv("PATH");
  setenv("PATH", (dir.path + ":" + old_path).c_str(), 1);
  kiln::testing::write_text(dir / "config.json",
                            R"({"credHelpers":{"reg.local:5000":"kilntest"},"auths":{}})");
  auto creds = load_credentials(dir / "config.json", "reg.local:5000");
  REQUIRE(static_cast<bool>(creds));
  REQUIRE(creds->has_value());
  CHECK(**creds == Credentials{"helper-user", "hs", ""});
  kiln::testing::write_text(dir / "store.json", R"({"credsStore":"kilntest"})");
  auto none = load_credentials(dir / "store.json", "other:5000");
  REQUIRE(static_cast<bool>(none));
  CHECK(!none->has_value());
  kiln::testing::write_text(dir / "missing.json", R"({"credsStore":"nosuchhelper"})");
  auto missing = load_credentials(dir / "missing.json", "other:5000");
  setenv("PATH", old_path.c_str(), 1);
  REQUIRE(!missing);
  CHECK(error_message(missing.takeError()) ==
        "credential helper 'docker-credential-nosuchhelper' not found in PATH");
}
