// `kiln build`'s inputs from its flags: the Dockerfile found and parsed, the
// lowering options, and --dump-llb's graph.

#include "builder/build_input.h"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "support/error.h"
#include "tests/testutil/testutil.h"

using kiln::builder::DockerfileFlags;
using kiln::testutil::TempDir;
using kiln::testutil::write_file;

TEST_CASE("build args take NAME=VALUE, or NAME from the environment", "[build_input]") {
  ::setenv("KILN_TEST_ARG", "from-env", 1);
  ::unsetenv("KILN_TEST_UNSET");
  auto args =
      kiln::builder::parse_build_args({"A=1", "B=", "C=x=y", "KILN_TEST_ARG", "KILN_TEST_UNSET"});
  REQUIRE(bool(args));
  CHECK(*args == std::map<std::string, std::string>{
                     {"A", "1"}, {"B", ""}, {"C", "x=y"}, {"KILN_TEST_ARG", "from-env"}});
  auto bad = kiln::builder::parse_build_args({"=x"});
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) == "invalid build arg '=x'");
}

TEST_CASE("the default Dockerfile is CONTEXT/Dockerfile, or a lone dockerfile", "[build_input]") {
  TempDir dir("kiln-build-input-");
  CHECK(kiln::builder::default_dockerfile(dir.path()) == dir.path() + "/Dockerfile");
  write_file(dir.path() + "/dockerfile", "FROM scratch\n");
  CHECK(kiln::builder::default_dockerfile(dir.path()) == dir.path() + "/dockerfile");
  write_file(dir.path() + "/Dockerfile", "FROM scratch\n");
  CHECK(kiln::builder::default_dockerfile(dir.path()) == dir.path() + "/Dockerfile");
}

TEST_CASE("load_dockerfile parses the Dockerfile and fills the lowering options", "[build_input]") {
  TempDir dir("kiln-build-input-");
  write_file(dir.path() + "/app.Dockerfile", "FROM scratch AS base\nCOPY a /a\n");
  write_file(dir.path() + "/app.Dockerfile.dockerignore", "*.log\n");
  DockerfileFlags flags;
  flags.context = dir.path();
  flags.file = dir.path() + "/app.Dockerfile";
  flags.target = "base";
  flags.build_args = {"V=1"};
  flags.build_contexts = {"lib=../lib", "img=docker-image://alpine"};
  auto loaded = kiln::builder::load_dockerfile(flags);
  REQUIRE(bool(loaded));
  CHECK(loaded->path == dir.path() + "/app.Dockerfile");
  CHECK(loaded->dockerfile.ast.file_name == "app.Dockerfile");
  CHECK(loaded->dockerfile.stages.size() == 1);
  CHECK(loaded->lower.target == "base");
  CHECK(loaded->lower.build_args == std::map<std::string, std::string>{{"V", "1"}});
  CHECK(loaded->lower.build_contexts ==
        std::map<std::string, std::string>{{"lib", "../lib"}, {"img", "docker-image://alpine"}});
  CHECK(loaded->lower.context_excludes == std::vector<std::string>{"*.log"});

  auto json = kiln::builder::dump_llb(*loaded, {});
  REQUIRE(bool(json));
  CHECK(json->find("\"/a\"") != std::string::npos);
  auto bad_platform = kiln::builder::dump_llb(*loaded, {"arm64"});
  REQUIRE(!bad_platform);
  CHECK(kiln::error_message(bad_platform.takeError()) ==
        "--platform: invalid platform 'arm64': expected 'os/arch[/variant]'");

  flags.file.clear();
  auto missing = kiln::builder::load_dockerfile(flags);
  REQUIRE(!missing);
  CHECK(kiln::error_message(missing.takeError()).find(dir.path() + "/Dockerfile") !=
        std::string::npos);
}
