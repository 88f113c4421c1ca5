// Behaviour that BuildKit's feature test files assert (moby/buildkit frontend/dockerfile/
// dockerfile_{secrets,runnetwork,namedcontext,source_date_epoch}_test.go), checked on the
// busybox base with kiln's own Dockerfiles. tests/integration/BUILDKIT_TESTS.md maps each
// BuildKit test to the test here (or elsewhere) that covers it.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;
using kiln::testutil::read_file;
using kiln::testutil::run;

namespace {

bool exists(const std::string& path) { return run({"test", "-e", path}).exit_code == 0; }

}  // namespace

TEST_CASE("a secret mount takes mode, uid and gid and leaves no stub at its target",
          "[integration][buildkit]") {
  // BuildKit testSecretFileParams: the id defaults to the target's base name.
  BuildFixture f;
  kiln::testutil::write_file(f.path("pw"), "pw");
  f.file("Dockerfile", R"DF(FROM busybox:local
RUN --mount=type=secret,required=false,mode=741,uid=100,gid=102,target=/mysecret [ "$(stat -c "%u %g %f" /mysecret)" = "100 102 81e1" ]
RUN [ ! -e /mysecret ]
)DF");
  f.build_ok({"--secret", "id=mysecret,src=" + f.path("pw")});
}

TEST_CASE("RUN --network=none has only the loopback interface", "[integration][buildkit]") {
  // BuildKit testRunNoNetwork (kiln's default RUN network is not BuildKit's, so only the
  // none half is checked: no interface but lo, and no route to a host port).
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local
RUN --network=none sh -c 'ip -o link | cut -d: -f2 | tr -d " " > /links'
FROM scratch
COPY --from=0 /links /
)");
  f.build_ok({"-o", "type=local,dest=" + f.path("out")});
  CHECK(read_file(f.path("out/links")) == "lo\n");
}

TEST_CASE("RUN reaches a host loopback port by default and with --network=host, not with none",
          "[integration][buildkit]") {
  // BuildKit testRunGlobalNetwork and testRunHostNetwork: kiln's default RUN network is the
  // host's, as BuildKit's with force-network-mode=host (and kiln asks for no entitlement).
  BuildFixture f;
  kiln::testutil::StepCounter server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  f.file("Dockerfile", "FROM busybox:local\nRUN wget -q -O /d " + url + "/default\n" +
                           "RUN --network=host wget -q -O /h " + url + "/host\n" +
                           "RUN --network=none sh -c '! wget -q -T 2 -O /n " + url + "/none'\n");
  f.build_ok({});
  CHECK(server.count("default") == 1);
  CHECK(server.count("host") == 1);
  CHECK(server.count("none") == 0);
}

TEST_CASE("a --build-context directory replaces a stage of that name and obeys its .dockerignore",
          "[integration][buildkit]") {
  // BuildKit testNamedLocalContext.
  BuildFixture f;
  std::string other = f.path("basedir");
  kiln::testutil::write_file(other + "/out", "dummy-result");
  kiln::testutil::write_file(other + "/out2", "dummy-result");
  kiln::testutil::write_file(other + "/.dockerignore", "out2\n");
  f.file("Dockerfile", R"(FROM busybox:local AS base
RUN echo from-stage > /out
FROM scratch
COPY --from=base /o* /
)");
  f.build_ok({"--build-context", "base=" + other, "-o", "type=local,dest=" + f.path("out")});
  CHECK(read_file(f.path("out/out")) == "dummy-result");
  CHECK(!exists(f.path("out/out2")));
}

TEST_CASE("a --build-context of a stage the target does not need is never resolved",
          "[integration][buildkit]") {
  // BuildKit testEagerNamedContextLookup (the images that do not exist are never pulled).
  BuildFixture f;
  f.file("Dockerfile", R"(FROM broken AS notused
FROM busybox:local AS base
RUN echo base > /foo
FROM busybox:local AS otherstage
FROM scratch
COPY --from=base /foo /foo
)");
  f.build_ok({"--build-context", "notused=docker-image://127.0.0.1:1/nosuchimage:latest",
              "--build-context", "otherstage=docker-image://127.0.0.1:1/dontexist:latest", "-o",
              "type=local,dest=" + f.path("out")});
  CHECK(read_file(f.path("out/foo")) == "base\n");
}

TEST_CASE("a --build-context image of scratch replaces the base of a stage",
          "[integration][buildkit]") {
  // BuildKit testNamedImageContextScratch: only what the stage adds is in the result.
  BuildFixture f;
  f.file("Dockerfile", R"(FROM busybox:local AS build
COPY <<EOF /out
hello world!
EOF
)");
  f.build_ok({"--build-context", "busybox:local=docker-image://scratch", "-o",
              "type=local,dest=" + f.path("out")});
  CHECK(read_file(f.path("out/out")) == "hello world!\n");
  CHECK(run({"ls", "-A", f.path("out")}).out == "out\n");
}

TEST_CASE("a global ARG SOURCE_DATE_EPOCH default sets the image time, a --build-arg overrides it",
          "[integration][buildkit]") {
  // BuildKit testSourceDateEpochDockerfileDefault, …DefaultOverride and …DefaultInvalid
  // (the image's creation time; kiln writes no rewritten-timestamp annotation).
  BuildFixture f;
  f.file("Dockerfile", "ARG SOURCE_DATE_EPOCH=1445412480\nFROM scratch\nCOPY Dockerfile .\n");
  f.build_ok({"-t", "sde:1"});
  f.build_ok({"-t", "sde:2", "--build-arg", "SOURCE_DATE_EPOCH=1700000002"});
  auto created = [&](const std::string& ref) {
    Output o = kiln::testutil::kiln(f.root(), {"inspect", "--format", "{{.Created}}", ref});
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    return o.out;
  };
  CHECK(created("sde:1") == "2015-10-21T07:28:00Z\n");
  CHECK(created("sde:2") == "2023-11-14T22:13:22Z\n");

  f.file("Dockerfile", "ARG SOURCE_DATE_EPOCH=not-a-timestamp\nFROM scratch\nCOPY Dockerfile .\n");
  Output bad = f.build({});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("error: invalid SOURCE_DATE_EPOCH 'not-a-timestamp'\n") != std::string::npos);
}

TEST_CASE("a socket in the context is copied as an empty regular file", "[integration][buildkit]") {
  // BuildKit testCopySocket.
  BuildFixture f;
  f.file("Dockerfile", "FROM scratch\nCOPY . /\n");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = f.ctx() + "/socket.sock";
  REQUIRE(path.size() < sizeof(addr.sun_path));
  std::copy(path.begin(), path.end(), addr.sun_path);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  ::close(fd);
  ::chmod(path.c_str(), 0600);
  f.build_ok({"-o", "type=local,dest=" + f.path("out")});
  struct stat st {};
  REQUIRE(::lstat(f.path("out/socket.sock").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(st.st_size == 0);
  CHECK((st.st_mode & 07777) == 0600);
  // And in the image's layer too (not dropped by the layer tar).
  f.build_ok({"-t", "sock:1", "-o", "type=tar,dest=" + f.path("img.tar")});
  CHECK(run({"sh", "-c", "tar -tvf " + f.path("img.tar") + " | grep socket.sock"})
            .out.find("-rw-------") == 0);
}
