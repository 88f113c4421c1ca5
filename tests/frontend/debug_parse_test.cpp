// `kiln debug parse` end to end: the real binary prints BuildKit's dump and
// DESIGN.md's error format.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "support/fs.h"
#include "tests/testutil/skip.h"

namespace {

struct Run {
  std::string output;  // stdout and stderr together
  int exit_code = -1;
};

Run run(const std::string& args) {
  std::string command = std::string(KILN_BINARY) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Run result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    result.output.append(buf, n);
  }
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("kiln debug parse prints the BuildKit dump", "[debug_parse]") {
  std::string dir = kiln::testutil::shared_dir() + "/conformance/buildkit/testfiles/";
  KILN_SKIP_UNLESS_PRESENT(dir);
  for (const char* name : {"lk4d4-the-edge-case-generator", "health", "escape-with-syntax"}) {
    INFO("case: " << name);
    Run r = run("debug parse " + dir + name + "/Dockerfile");
    CHECK(r.exit_code == 0);
    CHECK(r.output == slurp(dir + name + "/result"));
  }
}

TEST_CASE("kiln debug parse prints errors with the source excerpt", "[debug_parse]") {
  auto tmp = kiln::fs::make_temp_dir("/tmp", "kiln-debug-parse-");
  REQUIRE(bool(tmp));
  {
    std::ofstream out(*tmp + "/Dockerfile");
    out << "FROM alpine:3.20\nWORKDIR /src\nRUNN make all\nCOPY . .\n";
  }
  Run r = run("debug parse " + *tmp + "/Dockerfile");
  CHECK(r.exit_code == 1);
  CHECK(r.output == *tmp +
                        "/Dockerfile:3\n"
                        "--------------------\n"
                        "   1 |     FROM alpine:3.20\n"
                        "   2 |     WORKDIR /src\n"
                        "   3 | >>> RUNN make all\n"
                        "   4 |     COPY . .\n"
                        "--------------------\n"
                        "error: unknown instruction: RUNN (did you mean RUN?)\n");
  {
    std::ofstream out(*tmp + "/Dockerfile");
    out << "FROM a\nCOPY --chwon=1 a b\n";
  }
  Run flags = run("debug parse --instructions " + *tmp + "/Dockerfile");
  CHECK(flags.exit_code == 1);
  CHECK(flags.output == "(from \"a\")\n(copy [\"--chwon=1\"] \"a\" \"b\")\n" + *tmp +
                            "/Dockerfile:2\n"
                            "--------------------\n"
                            "   1 |     FROM a\n"
                            "   2 | >>> COPY --chwon=1 a b\n"
                            "--------------------\n"
                            "error: unknown flag: --chwon (did you mean chown?)\n");
  REQUIRE(!kiln::fs::remove_all(*tmp));
}
