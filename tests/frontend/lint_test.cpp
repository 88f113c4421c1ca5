// Lint rules: BuildKit's names, descriptions and messages, and the output of
// `kiln build --check`.

#include "frontend/lint.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/testutil/testutil.h"

using namespace kiln;
using namespace kiln::frontend;

namespace {

std::vector<std::string> findings(const std::string& text) {
  auto df = parse_dockerfile(text, "Dockerfile");
  if (!df) {
    FAIL(error_message(df.takeError()));
  }
  auto warnings = lint_dockerfile(*df, {});
  if (!warnings) {
    FAIL(error_message(warnings.takeError()));
  }
  std::vector<std::string> out;
  for (const auto& w : *warnings) {
    out.push_back(w.rule + "@" + std::to_string(w.range.start_line) + ": " + w.detail);
  }
  return out;
}

}  // namespace

TEST_CASE("lint: a clean Dockerfile has no findings", "[lint]") {
  CHECK(findings("FROM alpine:3.20 AS build\nRUN make\nCMD [\"app\"]\n").empty());
}

TEST_CASE("lint: casing rules", "[lint]") {
  CHECK(findings("FROM alpine:3.20 as build\nRUN true\n") ==
        std::vector<std::string>{"FromAsCasing@1: 'as' and 'FROM' keywords' casing do not match"});
  CHECK(findings("from alpine:3.20 AS build\nrun true\n") ==
        std::vector<std::string>{"FromAsCasing@1: 'AS' and 'from' keywords' casing do not match"});
  CHECK(findings("FROM alpine:3.20\nrun true\nCOPY . .\nWorkdir /x\n") ==
        std::vector<std::string>{
            "ConsistentInstructionCasing@2: Command 'run' should match the case of the command "
            "majority (uppercase)",
            "ConsistentInstructionCasing@4: Command 'Workdir' should match the case of the "
            "command majority (uppercase)"});
  CHECK(findings("from alpine:3.20\nrun true\nCOPY . .\n") ==
        std::vector<std::string>{
            "ConsistentInstructionCasing@3: Command 'COPY' should match the case of the command "
            "majority (lowercase)"});
}

TEST_CASE("lint: syntax rules", "[lint]") {
  CHECK(findings("FROM scratch\nMAINTAINER me\n") ==
        std::vector<std::string>{
            "MaintainerDeprecated@2: Maintainer instruction is deprecated in favor of using "
            "label"});
  CHECK(findings("FROM scratch\nENV A b\nLABEL x=y\nLABEL k v\n") ==
        std::vector<std::string>{
            "LegacyKeyValueFormat@2: \"ENV key=value\" should be used instead of legacy \"ENV "
            "key value\" format",
            "LegacyKeyValueFormat@4: \"LABEL key=value\" should be used instead of legacy "
            "\"LABEL key value\" format"});
  CHECK(findings("FROM scratch AS a\nFROM scratch AS b\nFROM scratch AS a\n") ==
        std::vector<std::string>{
            "DuplicateStageName@3: Duplicate stage name \"a\", stage names should be unique"});
  CHECK(findings("FROM scratch\nENTRYPOINT run it\n") ==
        std::vector<std::string>{
            "JSONArgsRecommended@2: JSON arguments recommended for ENTRYPOINT to prevent "
            "unintended behavior related to OS signals"});
}

TEST_CASE("lint: empty continuation lines", "[lint]") {
  CHECK(findings("FROM scratch\nRUN echo a \\\n\n  b\n") ==
        std::vector<std::string>{"NoEmptyContinuation@2: Empty continuation line"});
}

TEST_CASE("lint: rules know their description and URL", "[lint]") {
  const LintRule* rule = find_lint_rule("UndefinedVar");
  REQUIRE(rule != nullptr);
  CHECK(std::string(rule->description) == "Variables should be defined before their use");
  CHECK(std::string(rule->url) == "https://docs.docker.com/go/dockerfile/rule/undefined-var/");
  CHECK(find_lint_rule("NoSuchRule") == nullptr);
  CHECK(suggest_name("FOOO", {"FOO", "BAR"}) == "FOO");
  CHECK(suggest_name("XYZ", {"FOO", "BAR"}).empty());
}

TEST_CASE("kiln build --check prints like docker build --check", "[lint][cli]") {
  if (access(KILN_BINARY, X_OK) != 0) {
    WARN("kiln binary not built; skipping");
    return;
  }
  testutil::TempDir dir;
  testutil::write_file(dir / "Dockerfile", "FROM alpine:3.20 as build\nRUN make\nCMD make run\n");
  auto out = testutil::kiln(dir / "root", {"build", "--check", dir.path()});
  CHECK(out.exit_code == 1);
  CHECK(out.err == "");
  CHECK(out.out ==
        "Check complete, 2 warnings have been found!\n"
        "\n"
        "WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/\n"
        "'as' and 'FROM' keywords' casing do not match\n"
        "Dockerfile:1\n"
        "--------------------\n"
        "   1 | >>> FROM alpine:3.20 as build\n"
        "   2 |     RUN make\n"
        "   3 |     CMD make run\n"
        "--------------------\n"
        "\n"
        "WARNING: JSONArgsRecommended - "
        "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/\n"
        "JSON arguments recommended for CMD to prevent unintended behavior related to OS "
        "signals\n"
        "Dockerfile:3\n"
        "--------------------\n"
        "   1 |     FROM alpine:3.20 as build\n"
        "   2 |     RUN make\n"
        "   3 | >>> CMD make run\n"
        "   4 |     \n"
        "--------------------\n");
  testutil::write_file(dir / "Dockerfile", "FROM alpine:3.20\n");
  out = testutil::kiln(dir / "root", {"build", "--check", dir.path()});
  CHECK(out.exit_code == 0);
  CHECK(out.out == "Check complete, no warnings found.\n");
}

TEST_CASE("kiln build --dump-llb prints the graph", "[lower][cli]") {
  if (access(KILN_BINARY, X_OK) != 0) {
    WARN("kiln binary not built; skipping");
    return;
  }
  testutil::TempDir dir;
  testutil::write_file(dir / "Dockerfile", "FROM scratch AS a\nFROM scratch AS b\nRUN x\n");
  auto out = testutil::kiln(dir / "root", {"build", "--dump-llb", "--target", "a", dir.path()});
  CHECK(out.exit_code == 0);
  CHECK(out.out ==
        "{\n"
        "  \"version\": 1,\n"
        "  \"roots\": [\n"
        "    {\n"
        "      \"name\": \"a\",\n"
        "      \"vertex\": "
        "\"sha256:9cdca199cf456ae5541de577e9e7f3191f472c13a0b44d3aeab770b90e75f52c\"\n"
        "    }\n"
        "  ],\n"
        "  \"vertices\": [\n"
        "    {\n"
        "      \"digest\": "
        "\"sha256:9cdca199cf456ae5541de577e9e7f3191f472c13a0b44d3aeab770b90e75f52c\",\n"
        "      \"op\": {\n"
        "        \"kind\": \"scratch\"\n"
        "      },\n"
        "      \"inputs\": []\n"
        "    }\n"
        "  ]\n"
        "}\n");
  out = testutil::kiln(dir / "root", {"build", "--dump-llb", "--target", "nope", dir.path()});
  CHECK(out.exit_code == 1);
  CHECK(out.err == "error: target stage \"nope\" could not be found\n");
}

TEST_CASE("lint: stage names, EXPOSE protocols, repeated CMD", "[lint]") {
  CHECK(findings("FROM scratch AS Build\nFROM scratch AS scratch\n") ==
        std::vector<std::string>{
            "StageNameCasing@1: Stage name 'Build' should be lowercase",
            "ReservedStageName@2: Stage name should not use the same name as reserved stage "
            "\"scratch\""});
  CHECK(findings("FROM scratch\nEXPOSE 80/TCP 443/tcp\n") ==
        std::vector<std::string>{
            "ExposeProtoCasing@2: Defined protocol '80/TCP' in EXPOSE instruction should be "
            "lowercase"});
  CHECK(findings("FROM scratch\nCMD [\"a\"]\nCMD [\"b\"]\nFROM scratch\nCMD [\"c\"]\n") ==
        std::vector<std::string>{
            "MultipleInstructionsDisallowed@2: Multiple CMD instructions should not be used in "
            "the same stage because only the last one will be used"});
}

TEST_CASE("lint: the check directive skips rules", "[lint]") {
  CHECK(findings("# check=skip=JSONArgsRecommended,MaintainerDeprecated\nFROM scratch\n"
                 "MAINTAINER me\nCMD run\nENV a b\n") ==
        std::vector<std::string>{
            "LegacyKeyValueFormat@5: \"ENV key=value\" should be used instead of legacy \"ENV "
            "key value\" format"});
  CHECK(findings("# check=skip=all\nFROM scratch\nMAINTAINER me\nCMD run\n").empty());
}

TEST_CASE("lint: a warning shows as docker build --check shows it", "[lint]") {
  auto df =
      parse_dockerfile("FROM alpine:3.20\nWORKDIR /src\nrun make\nCOPY . .\nCMD x\n", "Dockerfile");
  REQUIRE(bool(df));
  LintWarning w;
  w.rule = "ConsistentInstructionCasing";
  w.url = "https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/";
  w.detail = "Command 'run' should match the case of the command majority (uppercase)";
  w.range = {3, 3};
  CHECK(format_lint_warning(w, df->ast) ==
        "\nWARNING: ConsistentInstructionCasing - "
        "https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/\n"
        "Command 'run' should match the case of the command majority (uppercase)\n"
        "Dockerfile:3\n"
        "--------------------\n"
        "   1 |     FROM alpine:3.20\n"
        "   2 |     WORKDIR /src\n"
        "   3 | >>> run make\n"
        "   4 |     COPY . .\n"
        "   5 |     CMD x\n"
        "--------------------\n");
  w.range = {9, 9};
  CHECK(format_lint_warning(w, df->ast) ==
        "\nWARNING: ConsistentInstructionCasing - "
        "https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/\n"
        "Command 'run' should match the case of the command majority (uppercase)\n");
}

TEST_CASE("lint: build --check's report counts the warnings", "[lint]") {
  auto df = parse_dockerfile("FROM scratch\nmaintainer me\n", "Dockerfile");
  REQUIRE(static_cast<bool>(df));
  CHECK(lint_check_text({}, df->ast) == "Check complete, no warnings found.\n");
  LintWarning w;
  w.rule = "MaintainerDeprecated";
  w.url = "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/";
  w.detail = "Maintainer instruction is deprecated in favor of using label";
  w.range = {9, 9};
  std::string one =
      "\nWARNING: MaintainerDeprecated - "
      "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/\n"
      "Maintainer instruction is deprecated in favor of using label\n";
  CHECK(lint_check_text({w}, df->ast) == "Check complete, 1 warning has been found!\n" + one);
  CHECK(lint_check_text({w, w}, df->ast) ==
        "Check complete, 2 warnings have been found!\n" + one + one);
}
