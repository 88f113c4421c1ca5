// The build context is a boundary: symlinks in it resolve as if the context
// were "/" (as BuildKit resolves them), so COPY, ADD and RUN bind mounts can
// neither read nor write the host through a link. The "host" here is a temp dir
// the test creates next to the context, never a real system file.

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;
using kiln::testutil::read_file;
using kiln::testutil::write_file;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

/// A fixture with a host dir `host/` (holding secret.txt) outside the context
/// and, in the context, `etcdir` (absolute link to it) and `up` (a relative
/// link climbing far above the context).
struct Boundary {
  BuildFixture f;
  std::string host = f.path("host");
  Boundary() {
    write_file(host + "/secret.txt", "HOST-SECRET\n");
    f.file("keep.txt", "keep\n");
    REQUIRE(::symlink(host.c_str(), (f.ctx() + "/etcdir").c_str()) == 0);
    REQUIRE(::symlink("../../../../../../../../../../..", (f.ctx() + "/up").c_str()) == 0);
  }
  /// Builds `dockerfile` into a fresh out() and returns the result.
  Output build(const std::string& dockerfile) {
    f.file("Dockerfile", "FROM busybox:local\n" + dockerfile);
    ++builds;
    return f.build({"-o", "type=local,dest=" + out()});
  }
  /// The output directory of the last build.
  std::string out() const { return f.path("out" + std::to_string(builds)); }
  int builds = 0;
};

}  // namespace

TEST_CASE("COPY and ADD resolve context symlinks inside the context, never on the host",
          "[integration][build][security]") {
  Boundary b;
  std::string up_secret = "up" + b.host + "/secret.txt";
  struct Case {
    std::string dockerfile;
    std::string error;
  };
  std::vector<Case> cases = {
      {"COPY etcdir/secret.txt /s\n", "'etcdir/secret.txt' not found"},
      {"COPY --chmod=644 etcdir/secret.txt /s\n", "'etcdir/secret.txt' not found"},
      {"ADD etcdir/secret.txt /s\n", "'etcdir/secret.txt' not found"},
      {"COPY " + up_secret + " /s\n", "'" + up_secret + "' not found"},
  };
  for (const auto& c : cases) {
    INFO(c.dockerfile);
    Output o = b.build(c.dockerfile);
    INFO(o.err);
    CHECK(o.exit_code != 0);
    CHECK(o.err.find(c.error) != std::string::npos);
    CHECK(o.err.find("HOST-SECRET") == std::string::npos);
    CHECK(!exists(b.out() + "/s"));
  }
  // A wildcard that matches nothing copies nothing (COPY allows that).
  Output wild = b.build("COPY etcdir/*.txt /s/\n");
  INFO(wild.err);
  REQUIRE(wild.exit_code == 0);
  CHECK(!exists(b.out() + "/s/secret.txt"));
  // A link that is itself the source is followed inside the context: its
  // target does not exist there, so the link is copied as a link.
  Output o = b.build("COPY etcdir /d/\n");
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(!exists(b.out() + "/d/secret.txt"));
}

TEST_CASE("a context symlink to an absolute path means that path in the context",
          "[integration][build][security]") {
  Boundary b;
  // BuildKit: `conf -> /etc2` is CONTEXT/etc2; `rel -> ../../etc2` clamps at the root.
  b.f.file("etc2/app.conf", "in-context\n");
  REQUIRE(::symlink("/etc2", (b.f.ctx() + "/conf").c_str()) == 0);
  REQUIRE(::symlink("../../etc2", (b.f.ctx() + "/rel").c_str()) == 0);
  Output o = b.build(
      "COPY conf/app.conf /a.conf\nCOPY rel/*.conf /w/\n"
      "RUN --mount=type=bind,source=conf,target=/m cat /m/app.conf > /bound.conf\n");
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(read_file(b.out() + "/a.conf") == "in-context\n");
  CHECK(read_file(b.out() + "/w/app.conf") == "in-context\n");
  CHECK(read_file(b.out() + "/bound.conf") == "in-context\n");
}

TEST_CASE("RUN bind mounts of a context symlink neither read nor write the host",
          "[integration][build][security]") {
  Boundary b;
  Output ro =
      b.build("RUN --mount=type=bind,source=etcdir,target=/m cat /m/secret.txt > /got || true\n");
  INFO(ro.err);
  CHECK(ro.err.find("HOST-SECRET") == std::string::npos);
  CHECK(read_file(b.out() + "/got").find("HOST-SECRET") == std::string::npos);
  Output rw = b.build(
      "RUN --mount=type=bind,source=etcdir,target=/m,rw "
      "sh -c 'echo pwned > /m/written; echo pwned > /m/secret.txt' || true\n");
  INFO(rw.err);
  CHECK(!exists(b.host + "/written"));
  CHECK(read_file(b.host + "/secret.txt") == "HOST-SECRET\n");
  Output up = b.build("RUN --mount=type=bind,source=up" + b.host +
                      ",target=/m,rw sh -c 'echo pwned > /m/written' || true\n");
  INFO(up.err);
  CHECK(!exists(b.host + "/written"));
}

TEST_CASE("RUN bind mounts work with a relative context path", "[integration][build]") {
  BuildFixture f;
  f.file("data/input.txt", "relative\n");
  f.file("Dockerfile",
         "FROM busybox:local\n"
         "RUN --mount=type=bind,source=data,target=/d cat /d/input.txt > /got\n"
         "RUN --mount=type=bind,source=data,target=/d,rw sh -c 'cat /d/input.txt > /got-rw'\n");
  std::string cmd = "cd '" + f.ctx() + "' && exec '" + KILN_BINARY + "' --root '" + f.root() +
                    "' build --progress=plain -o type=local,dest='" + f.path("out") + "' .";
  Output o = kiln::testutil::run({"sh", "-c", cmd});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(read_file(f.path("out") + "/got") == "relative\n");
  CHECK(read_file(f.path("out") + "/got-rw") == "relative\n");
}

TEST_CASE("named contexts and stage sources are roots for their symlinks too",
          "[integration][build][security]") {
  Boundary b;
  // --build-context: a second local directory with a link out of it.
  std::string other = b.f.path("other");
  write_file(other + "/keep.txt", "other\n");
  REQUIRE(::symlink(b.host.c_str(), (other + "/out").c_str()) == 0);
  b.f.file("Dockerfile", "FROM busybox:local\nCOPY --from=other out/secret.txt /s\n");
  Output o = b.f.build({"--build-context", "other=" + other, "-o", "type=local,dest=" + b.out()});
  INFO(o.err);
  CHECK(o.exit_code == 1);
  CHECK(o.err.find("'out/secret.txt' not found") != std::string::npos);
  // A stage's own link to an absolute path is that path in the stage.
  Output stage =
      b.build("RUN ln -s " + b.host + " /l && mkdir -p " + b.host + " && echo stage > " + b.host +
              "/secret.txt\n"
              "FROM busybox:local\nCOPY --from=0 /l/secret.txt /s\n");
  INFO(stage.err);
  REQUIRE(stage.exit_code == 0);
  CHECK(read_file(b.out() + "/s") == "stage\n");
}
