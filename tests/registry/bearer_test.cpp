// The bearer token flow against a small token server (tests/registry/token_server.py):
// challenge, token per scope with basic credentials, token reuse, refusal.
#include "registry/client.h"

#include "tests/registry/registry_fixture.h"

using namespace kiln;
using namespace kiln::registry;
using kiln::testing::ChildProcess;
using kiln::testing::TempDir;

TEST_CASE("bearer tokens are fetched per scope with the configured credentials") {
  TempDir dir;
  int port = kiln::testing::free_port();
  std::string domain = "127.0.0.1:" + std::to_string(port);
  ChildProcess server({"/usr/bin/python3", KILN_SOURCE_DIR "/tests/registry/token_server.py",
                       std::to_string(port), dir / "requests.log"},
                      dir / "server.log");
  REQUIRE(kiln::testing::wait_for_port(port));
  REQUIRE(!save_credentials(dir / "config.json", domain, {"alice", "wonderland", ""}));
  ClientOptions options;
  options.docker_config = dir / "config.json";
  auto client = Client::create(options);
  REQUIRE(static_cast<bool>(client));
  auto repo = oci::parse_reference(domain + "/team/app:1");
  REQUIRE(static_cast<bool>(repo));

  REQUIRE(!(*client)->check_login(domain));
  auto first = (*client)->get_manifest(*repo, "1");
  REQUIRE(static_cast<bool>(first));
  CHECK(first->media_type == "application/vnd.oci.image.manifest.v1+json");
  auto second = (*client)->get_manifest(*repo, "2");
  REQUIRE(static_cast<bool>(second));
  // The HTTPS probe fails at TLS and is not logged; the token is fetched once per scope.
  CHECK(kiln::testing::read_text(dir / "requests.log") ==
        "/v2/\n/token?service=fake\n/v2/\n/v2/team/app/manifests/1\n"
        "/token?service=fake&scope=repository:team/app:pull\n/v2/team/app/manifests/1\n"
        "/v2/team/app/manifests/2\n");

  ClientOptions wrong;
  wrong.docker_config = dir / "config.json";
  wrong.credentials[domain] = {"alice", "nope", ""};
  auto refused = Client::create(wrong);
  REQUIRE(static_cast<bool>(refused));
  auto denied = (*refused)->get_manifest(*repo, "1");
  REQUIRE(!denied);
  bool is_auth = false;
  std::string message;
  llvm::handleAllErrors(denied.takeError(), [&](const AuthError& e) {
    is_auth = true;
    message = e.message();
  });
  CHECK(is_auth);
  CHECK(message ==
        "manifest '1': get token from 'http://" + domain + "/token': HTTP 401: bad credentials");
}
