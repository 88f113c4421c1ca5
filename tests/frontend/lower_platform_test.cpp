// Platforms in the lowering: the automatic platform ARGs, FROM --platform=, the
// platform of RUN steps and images, and one graph for several target platforms.

#include <catch2/catch.hpp>

#include "frontend/lower.h"
#include "lower_test_util.h"

using namespace kiln;
using namespace kiln::frontend;

namespace {

LowerOptions for_target(const std::string& target) {
  LowerOptions o;
  o.build_platform = "linux/amd64";
  o.target_platform = target;
  return o;
}

LowerResult must_lower(const std::string& text, const LowerOptions& options) {
  auto result = testing::lower_text(text, options);
  if (!result) {
    FAIL(testing::printed_error(result.takeError()));
  }
  return std::move(*result);
}

MultiLowerResult must_lower_platforms(const std::string& text,
                                      const std::vector<std::string>& platforms) {
  auto df = parse_dockerfile(text, "Dockerfile");
  REQUIRE(static_cast<bool>(df));
  LowerOptions o;
  o.build_platform = "linux/amd64";
  auto result = lower_platforms(*df, o, platforms);
  if (!result) {
    FAIL(testing::printed_error(result.takeError()));
  }
  return std::move(*result);
}

/// Vertices whose description contains `text`.
int count_described(const llb::Definition& d, const std::string& text) {
  int n = 0;
  for (const auto& v : d.vertices()) {
    n += v->metadata().description.find(text) != std::string::npos;
  }
  return n;
}

const llb::ExecOp* find_exec(const llb::Definition& d, const std::string& arg_text) {
  for (const auto& v : d.vertices()) {
    if (const auto* x = std::get_if<llb::ExecOp>(&v->op())) {
      if (!x->args.empty() && x->args.back().find(arg_text) != std::string::npos) {
        return x;
      }
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the platform ARGs follow the build and target platforms", "[lower][platform]") {
  auto r = must_lower(
      "FROM scratch\nARG BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT TARGETPLATFORM TARGETOS "
      "TARGETARCH TARGETVARIANT\n"
      "ENV B=$BUILDPLATFORM,$BUILDOS,$BUILDARCH,$BUILDVARIANT "
      "T=$TARGETPLATFORM,$TARGETOS,$TARGETARCH,$TARGETVARIANT\n",
      for_target("linux/arm/v7"));
  CHECK(r.stages[0].config.history.back().created_by ==
        "ENV B=linux/amd64,linux,amd64, T=linux/arm/v7,linux,arm,v7");
  // A scratch image is of the target platform.
  CHECK(r.stages[0].config.architecture == "arm");
  CHECK(r.stages[0].config.variant == "v7");
  CHECK(r.stages[0].config.os == "linux");
}

TEST_CASE("target platforms are normalized as containerd's", "[lower][platform]") {
  auto r = must_lower("FROM scratch\nARG TARGETPLATFORM\nENV T=$TARGETPLATFORM\n",
                      for_target("linux/aarch64"));
  CHECK(r.stages[0].config.history.back().created_by == "ENV T=linux/arm64");
  CHECK(r.stages[0].config.variant.empty());
}

TEST_CASE("FROM --platform expands global ARGs and sets the stage's platform",
          "[lower][platform]") {
  testing::FakeResolver resolver;
  LowerOptions o = for_target("linux/arm64");
  o.resolver = &resolver;
  auto r = must_lower(
      "FROM --platform=$BUILDPLATFORM alpine:3.20 AS build\nARG TARGETARCH\n"
      "RUN echo native $TARGETARCH\n"
      "FROM alpine:3.20\nCOPY --from=build /x /x\nRUN echo emulated\n",
      o);
  const llb::ExecOp* native = find_exec(r.definition, "echo native");
  const llb::ExecOp* emulated = find_exec(r.definition, "echo emulated");
  REQUIRE(native);
  REQUIRE(emulated);
  CHECK(native->platform.empty());  // the build platform: no emulator
  CHECK(emulated->platform == "linux/arm64");
  // TARGETARCH is the target's even in a stage built on the build platform.
  CHECK(std::find(native->env.begin(), native->env.end(), "TARGETARCH=arm64") != native->env.end());
  int amd64 = 0, arm64 = 0;
  for (const auto& v : r.definition.vertices()) {
    if (const auto* img = std::get_if<llb::ImageSource>(&v->op())) {
      amd64 += img->platform == "linux/amd64";
      arm64 += img->platform == "linux/arm64";
    }
  }
  CHECK(amd64 == 1);
  CHECK(arm64 == 1);
}

TEST_CASE("a bad FROM --platform fails at its line", "[lower][platform]") {
  auto r = testing::lower_text("FROM --platform=linux scratch\n", for_target("linux/amd64"));
  REQUIRE(!r);
  std::string printed = testing::printed_error(r.takeError());
  CHECK(printed.find("Dockerfile:1") != std::string::npos);
  CHECK(printed.find("failed to parse platform linux") != std::string::npos);
}

TEST_CASE("an exec for the build platform keeps its digest", "[lower][platform]") {
  // Native RUN steps have no platform field in their digest: the keys of existing
  // caches stay valid.
  auto a = must_lower("FROM scratch\nRUN true\n", LowerOptions{});
  auto b = must_lower("FROM scratch\nRUN true\n", for_target("linux/amd64"));
  auto c = must_lower("FROM scratch\nRUN true\n", for_target("linux/arm64"));
  CHECK(a.stages[0].vertex->digest() == b.stages[0].vertex->digest());
  CHECK(a.stages[0].vertex->digest() != c.stages[0].vertex->digest());
}

TEST_CASE("several platforms share one graph: build-platform stages appear once",
          "[lower][platform]") {
  auto r = must_lower_platforms(
      "FROM --platform=$BUILDPLATFORM scratch AS build\nCOPY src /src\nRUN prepare\n"
      "ARG TARGETARCH\nRUN compile $TARGETARCH\n"
      "FROM scratch\nCOPY --from=build /out /out\nRUN check\n",
      {"linux/amd64", "linux/arm64", "linux/arm/v7"});
  REQUIRE(r.platforms.size() == 3);
  CHECK(r.platforms[1].platform == "linux/arm64");
  CHECK(r.platforms[2].stages[r.platforms[2].target].config.architecture == "arm");
  CHECK(count_described(r.definition, "load build context") == 1);
  CHECK(count_described(r.definition, "RUN prepare") == 1);
  CHECK(count_described(r.definition, "RUN compile") == 3);
  CHECK(count_described(r.definition, "RUN check") == 3);
  // Progress names the stage's platform, as BuildKit's.
  CHECK(count_described(r.definition, "[linux/amd64 build 2/3] RUN prepare") == 1);
  CHECK(count_described(r.definition, "[linux/arm/v7 stage-1 2/2] RUN check") == 1);
  // The targets differ by platform.
  CHECK(r.platforms[0].stages[r.platforms[0].target].vertex !=
        r.platforms[1].stages[r.platforms[1].target].vertex);
}

TEST_CASE("lower_platforms rejects a bad platform", "[lower][platform]") {
  auto df = parse_dockerfile("FROM scratch\n", "Dockerfile");
  REQUIRE(static_cast<bool>(df));
  auto r = lower_platforms(*df, LowerOptions{}, {"linux/amd64", "arm64"});
  REQUIRE(!r);
  CHECK(error_message(r.takeError()) == "invalid platform 'arm64': expected 'os/arch[/variant]'");
}

TEST_CASE("a Windows stage's shell form runs through cmd /S /C and gets no default PATH",
          "[lower][platform]") {
  // BuildKit testDefaultShellAndPath: windows/amd64 and linux/amd64 from one Dockerfile.
  auto r = must_lower_platforms("FROM scratch\nENTRYPOINT foo bar\nCOPY Dockerfile .\n",
                                {"windows/amd64", "linux/amd64"});
  REQUIRE(r.platforms.size() == 2);
  const auto& windows = r.platforms[0].stages[r.platforms[0].target].config;
  const auto& linux = r.platforms[1].stages[r.platforms[1].target].config;
  CHECK(windows.os == "windows");
  CHECK(windows.config.entrypoint == std::vector<std::string>{"cmd", "/S", "/C", "foo bar"});
  CHECK(windows.config.env.empty());
  CHECK(linux.config.entrypoint == std::vector<std::string>{"/bin/sh", "-c", "foo bar"});
  CHECK(linux.config.env ==
        std::vector<std::string>{
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});

  // A RUN of a Windows stage too (BuildKit's defaultShell); a SHELL still wins.
  auto run = must_lower("FROM scratch\nRUN echo hi\nSHELL [\"pwsh\", \"-c\"]\nRUN echo two\n",
                        for_target("windows/amd64"));
  std::vector<std::vector<std::string>> argvs;
  for (const auto& v : run.definition.vertices()) {
    if (const auto* x = std::get_if<llb::ExecOp>(&v->op())) {
      argvs.push_back(x->args);
      CHECK(std::none_of(x->env.begin(), x->env.end(), [](const std::string& e) {
        return llvm::StringRef(e).startswith("PATH=");
      }));
    }
  }
  CHECK_THAT(argvs, Catch::UnorderedEquals(std::vector<std::vector<std::string>>{
                        {"cmd", "/S", "/C", "echo hi"}, {"pwsh", "-c", "echo two"}}));
}
