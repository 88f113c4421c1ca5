// Hostile Dockerfiles and flags: kiln fails with a clear, bounded error instead
// of crashing, flooding the terminal or leaving an unusable name.

#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/build_fixture.h"

using kiln::testutil::BuildFixture;
using kiln::testutil::Output;

namespace {

std::string nested(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) {
    out += "${a:-";
  }
  return out + "x" + std::string(static_cast<size_t>(depth), '}');
}

}  // namespace

TEST_CASE("a 7,000-deep substitution fails at its line in build and --check",
          "[integration][build][hostile]") {
  BuildFixture f;
  f.file("Dockerfile", "FROM busybox:local\nENV B=" + nested(7000) + "\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, std::vector<std::string>{"--check"}}) {
    Output o = f.build(args);
    INFO(o.err.substr(0, 2000));
    CHECK(o.exit_code == 1);
    CHECK(o.err.find("Dockerfile:2\n") != std::string::npos);
    CHECK(o.err.find("variable substitutions nested more than 100 deep\n") != std::string::npos);
    CHECK(o.err.size() < 8192);
  }
}

TEST_CASE("a failing 10 MB RUN line prints a bounded error", "[integration][build][hostile]") {
  BuildFixture f;
  f.file("Dockerfile", "FROM busybox:local\nRUN false " + std::string(10 << 20, 'x') + "\n");
  Output o = f.build({});
  CHECK(o.exit_code == 1);
  CHECK(o.err.size() < (64 << 10));
  CHECK(o.err.find("error: failed to solve: process \"/bin/sh -c false xxxx") != std::string::npos);
  CHECK(o.err.find("xxx...\" did not complete successfully: exit code: ") != std::string::npos);
}

TEST_CASE("build -t rejects a name with a digest", "[integration][build][hostile]") {
  BuildFixture f;
  f.file("Dockerfile", "FROM busybox:local\n");
  std::string digest = "sha256:" + std::string(64, 'a');
  Output o = f.build({"-t", "a@" + digest});
  CHECK(o.exit_code == 1);
  CHECK(o.err == "error: invalid tag 'a@" + digest + "': a tag cannot contain a digest\n");
  Output images = kiln::testutil::kiln(f.root(), {"images"});
  CHECK(images.out.find("<none>") == std::string::npos);
  CHECK(images.out.find("\na ") == std::string::npos);
}

TEST_CASE("build --check shows at most 1 KB of a long line", "[integration][build][hostile]") {
  BuildFixture f;
  f.file("Dockerfile", "FROM busybox:local\nCMD echo " + std::string(100000, 'x') + "\n");
  Output o = f.build({"--check"});
  CHECK(o.exit_code == 1);
  CHECK(o.out.size() < 4096);
  std::string shown = "CMD echo " + std::string(100000, 'x');
  CHECK(o.out.find("   2 | >>> " + shown.substr(0, 1024) + "...\n") != std::string::npos);
}

TEST_CASE("a Dockerfile over 16 MiB is refused, also from /dev/zero and standard input",
          "[integration][build][hostile]") {
  // BuildKit testDockerfileTooLarge: comment lines padded past the 16 MiB read limit.
  BuildFixture f;
  std::string line = "# " + std::string(4096, 'x') + "\n";
  std::string text = "FROM busybox:local\n";
  while (text.size() <= (17u << 20)) {
    text += line;
  }
  f.file("Dockerfile", text);
  Output o = f.build({});
  CHECK(o.exit_code == 1);
  CHECK_THAT(o.err, Catch::Contains("Dockerfile exceeds maximum allowed size of 16777216 bytes: " +
                                    f.ctx() + "/Dockerfile"));
  // An endless file ends at the limit rather than filling memory.
  Output zero = f.build({"-f", "/dev/zero"});
  CHECK(zero.exit_code == 1);
  CHECK_THAT(zero.err, Catch::Contains("Dockerfile exceeds maximum allowed size"));
  Output piped =
      kiln::testutil::run({KILN_BINARY, "--root", f.root(), "build", "-f", "-", f.ctx()}, text);
  CHECK(piped.exit_code == 1);
  CHECK_THAT(piped.err,
             Catch::Contains("Dockerfile exceeds maximum allowed size of 16777216 bytes: "
                             "standard input"));
  // Exactly at the limit is still read (and parsed): 19 + (16 MiB - 20) + 1 bytes.
  f.file("Dockerfile", "FROM busybox:local\n" + std::string((16u << 20) - 20, '#') + "\n");
  Output ok = f.build({});
  INFO(ok.err.substr(0, 500));
  CHECK(ok.exit_code == 0);
}
