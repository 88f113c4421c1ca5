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
  CHECK(bad.err.find("error: invalid SOURCE_DATE_EPOCH: not-a-timestamp\n") != std::string::npos);
}

TEST_CASE("SOURCE_DATE_EPOCH=context on a local context leaves SOURCE_DATE_EPOCH unset",
          "[integration][buildkit]") {
  // BuildKit testSourceDateEpochContextLocalUnset (and its docs: "local context: ignored,
  // leaving SOURCE_DATE_EPOCH unset"), also on a context that holds only the Dockerfile.
  BuildFixture f;
  f.file("Dockerfile",
         "FROM busybox:local\nARG SOURCE_DATE_EPOCH\nRUN echo -n \"[$SOURCE_DATE_EPOCH]\" > /e\n"
         "FROM scratch\nCOPY --from=0 /e /\nCOPY Dockerfile /\n");
  f.build_ok({"--build-arg", "SOURCE_DATE_EPOCH=context", "-o", "type=local,dest=" + f.path("o1")});
  CHECK(read_file(f.path("o1/e")) == "[]");
  f.build_ok({"-t", "ctx:1"}, {"SOURCE_DATE_EPOCH=context"});
  Output created = kiln::testutil::kiln(f.root(), {"inspect", "--format", "{{.Created}}", "ctx:1"});
  REQUIRE(created.exit_code == 0);
  CHECK(created.out.substr(0, 4) >= "2025");  // the build's time, not an epoch
}

TEST_CASE("SOURCE_DATE_EPOCH names a stage: the time of its one ADD of a URL",
          "[integration][buildkit]") {
  // BuildKit testSourceDateEpochStageHTTPArchive, …StageOverride and …StageInvalid.
  BuildFixture f;
  kiln::testutil::StepCounter server;
  run({"mkdir", "-p", f.path("src")});
  kiln::testutil::write_file(f.path("src/foo"), "bar");
  REQUIRE(run({"tar", "-C", f.path("src"), "--mtime=@1700000402", "-cf", f.path("src.tar"), "foo"})
              .exit_code == 0);
  server.respond("src.tar", read_file(f.path("src.tar")));
  server.respond("dated.bin", "not an archive", {"Last-Modified: Tue, 14 Nov 2023 22:15:01 GMT"});
  server.respond("plain.bin", "not an archive");
  server.respond("gone.tar", "no", {}, 404);
  std::string base = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto dockerfile = [&](const std::string& file) {
    return "ARG SOURCE_DATE_EPOCH=mysource\nFROM scratch AS mysource\nADD " + base + file +
           " /\nFROM busybox:local\nARG SOURCE_DATE_EPOCH\n"
           "RUN echo -n \"[$SOURCE_DATE_EPOCH]\" > /epoch\n";
  };
  auto created = [&](const std::string& ref) {
    Output o = kiln::testutil::kiln(f.root(), {"inspect", "--format", "{{.Created}}", ref});
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    return o.out;
  };
  auto epoch_of = [&](const std::string& tag) {
    std::string out = f.path("out-" + tag.substr(tag.find(':') + 1));
    f.build_ok({"-t", tag, "-o", "type=local,dest=" + out});
    return read_file(out + "/epoch");
  };

  // The newest regular file of the archive (no Last-Modified).
  f.file("Dockerfile", dockerfile("src.tar"));
  CHECK(epoch_of("stage:archive") == "[1700000402]");
  CHECK(created("stage:archive") == "2023-11-14T22:20:02Z\n");
  // The server's Last-Modified comes first.
  f.file("Dockerfile", dockerfile("dated.bin"));
  CHECK(epoch_of("stage:dated") == "[1700000101]");
  CHECK(created("stage:dated") == "2023-11-14T22:15:01Z\n");
  // Neither: no time, SOURCE_DATE_EPOCH is left empty.
  f.file("Dockerfile", dockerfile("plain.bin"));
  CHECK(epoch_of("stage:plain") == "[]");
  // A --build-arg overrides the stage, which is then not fetched.
  f.file("Dockerfile", dockerfile("src.tar"));
  int fetched = server.count("src.tar");
  f.build_ok({"-t", "stage:override", "--build-arg", "SOURCE_DATE_EPOCH=1700000502"});
  CHECK(created("stage:override") == "2023-11-14T22:21:42Z\n");
  CHECK(server.count("src.tar") == fetched);
  // A failed download fails the build, naming the value.
  f.file("Dockerfile", dockerfile("gone.tar"));
  Output gone = f.build({});
  CHECK(gone.exit_code == 1);
  CHECK_THAT(gone.err, Catch::Contains("error: SOURCE_DATE_EPOCH 'mysource': invalid response "
                                       "status 404"));
  // A stage that is not source-only is refused at its FROM line.
  f.file("Dockerfile",
         "ARG SOURCE_DATE_EPOCH=mysource\nFROM scratch AS mysource\nCOPY Dockerfile "
         "/Dockerfile\nFROM scratch\n");
  Output invalid = f.build({});
  CHECK(invalid.exit_code == 1);
  CHECK_THAT(invalid.err, Catch::Contains(">>> FROM scratch AS mysource"));
  CHECK_THAT(invalid.err, Catch::Contains("error: SOURCE_DATE_EPOCH stage does not meet "
                                          "source-only requirements: unsupported copy "
                                          "instruction"));
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

TEST_CASE("a local output replaces what an earlier export left in its directory",
          "[integration][buildkit]") {
  // BuildKit's local exporter writes over existing files (its tests export twice into
  // one directory); a symlink there is replaced, never followed out of it.
  BuildFixture f;
  f.file("Dockerfile", "FROM scratch\nCOPY f /f\nCOPY d /d\n");
  f.file("f", "one\n");
  f.file("d/g", "g one\n");
  std::string out = f.path("out");
  f.build_ok({"-o", "type=local,dest=" + out});
  CHECK(read_file(out + "/f") == "one\n");
  f.file("f", "two\n");
  f.file("d/g", "g two\n");
  kiln::testutil::write_file(out + "/kept", "not in the image\n");
  kiln::testutil::write_file(f.path("outside/g"), "outside\n");
  REQUIRE(run({"rm", "-r", out + "/d"}).exit_code == 0);
  REQUIRE(run({"ln", "-s", f.path("outside"), out + "/d"}).exit_code == 0);
  f.build_ok({"-o", "type=local,dest=" + out});
  CHECK(read_file(out + "/f") == "two\n");
  CHECK(read_file(out + "/d/g") == "g two\n");
  CHECK(run({"test", "-L", out + "/d"}).exit_code != 0);
  CHECK(read_file(f.path("outside/g")) == "outside\n");
  CHECK(read_file(out + "/kept") == "not in the image\n");
}

TEST_CASE("a Dockerfile that reads no context builds when the context is missing",
          "[integration][buildkit]") {
  // BuildKit testDockerfileLazyContextAccess: the context is read only by the steps
  // that need it. Offline, the context directory does not exist at all.
  BuildFixture f;
  std::string missing = f.path("no-such-context");
  auto build = [&](const std::string& dockerfile) {
    kiln::testutil::write_file(f.path("df/Dockerfile"), dockerfile);
    return run({KILN_BINARY, "--root", f.root(), "build", "--progress=plain", "-f",
                f.path("df/Dockerfile"), missing});
  };
  Output meta = build("FROM scratch\nLABEL org.mobyproject.buildkit.test=unused-context\n");
  INFO(meta.err);
  CHECK(meta.exit_code == 0);
  Output copy = build("FROM scratch\nCOPY marker /marker\n");
  CHECK(copy.exit_code == 1);
  CHECK_THAT(copy.err, Catch::Contains("'marker' not found"));
  Output mount =
      build("FROM busybox:local\nRUN --mount=type=bind,source=.,target=/src test -f /src/marker\n");
  CHECK(mount.exit_code != 0);
  CHECK(!exists(missing));
}
