// The parser against BuildKit's own parser test data, plus kiln's error texts.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "frontend/ast.h"
#include "support/error.h"
#include "tests/testutil/skip.h"

using kiln::frontend::parse_ast;

namespace {

const std::string kData = kiln::testutil::shared_dir() + "/conformance/buildkit/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

/// The printed form of a failed parse (as `kiln` would show it).
std::string printed_error(const std::string& text) {
  auto ast = parse_ast(text, "Dockerfile");
  REQUIRE(!ast);
  std::string out;
  llvm::handleAllErrors(
      ast.takeError(), [&](const kiln::SourceError& e) { out = kiln::format_source_error(e); },
      [&](const llvm::ErrorInfoBase& e) { out = "not a SourceError: " + e.message(); });
  return out;
}

}  // namespace

TEST_CASE("testfiles: every case dumps exactly its result", "[parser]") {
  KILN_SKIP_UNLESS_PRESENT(kData);
  auto cases = subdirs(kData + "testfiles");
  CHECK(cases.size() == 33);
  for (const std::string& name : cases) {
    INFO("case: " << name);
    std::string dockerfile = slurp(kData + "testfiles/" + name + "/Dockerfile");
    std::string expected = slurp(kData + "testfiles/" + name + "/result");
    auto ast = parse_ast(dockerfile, "Dockerfile");
    if (!ast) {
      FAIL(kiln::error_message(ast.takeError()));
      continue;
    }
    CHECK(kiln::frontend::dump_ast(*ast) == expected);
  }
}

TEST_CASE("testfiles-negative: every case fails", "[parser]") {
  KILN_SKIP_UNLESS_PRESENT(kData);
  auto cases = subdirs(kData + "testfiles-negative");
  CHECK(cases.size() == 4);
  for (const std::string& name : cases) {
    INFO("case: " << name);
    auto ast = parse_ast(slurp(kData + "testfiles-negative/" + name + "/Dockerfile"), "Dockerfile");
    CHECK(!ast);
    if (!ast) {
      llvm::consumeError(ast.takeError());
    }
  }
}

TEST_CASE("testfile-line: instruction line ranges", "[parser]") {
  KILN_SKIP_UNLESS_PRESENT(kData);
  auto ast = parse_ast(slurp(kData + "testfile-line/Dockerfile"), "Dockerfile");
  REQUIRE(bool(ast));
  REQUIRE(ast->nodes.size() == 3);
  CHECK(ast->nodes[0].range == kiln::SourceRange{5, 5});
  CHECK(ast->nodes[1].range == kiln::SourceRange{11, 12});
  CHECK(ast->nodes[2].range == kiln::SourceRange{17, 31});
}

TEST_CASE("errors print with file, lines and BuildKit's wording", "[parser]") {
  CHECK(printed_error("FROM alpine:3.20\nWORKDIR /src\nRUNN make all\nCOPY . .\n") ==
        "Dockerfile:3\n"
        "--------------------\n"
        "   1 |     FROM alpine:3.20\n"
        "   2 |     WORKDIR /src\n"
        "   3 | >>> RUNN make all\n"
        "   4 |     COPY . .\n"
        "--------------------\n"
        "error: unknown instruction: RUNN (did you mean RUN?)\n");
  CHECK(printed_error("FROM a\nFOOBARBAZ x\n") ==
        "Dockerfile:2\n"
        "--------------------\n"
        "   1 |     FROM a\n"
        "   2 | >>> FOOBARBAZ x\n"
        "--------------------\n"
        "error: unknown instruction: FOOBARBAZ\n");
  CHECK(printed_error("") == "Dockerfile\nerror: file with no instructions\n");
  CHECK(printed_error("FROM busybox\n\nENV PATH\n") ==
        "Dockerfile:3\n"
        "--------------------\n"
        "   1 |     FROM busybox\n"
        "   2 |     \n"
        "   3 | >>> ENV PATH\n"
        "--------------------\n"
        "error: ENV must have two arguments\n");
  CHECK(printed_error("FROM a\nLABEL a=b c\n") ==
        "Dockerfile:2\n"
        "--------------------\n"
        "   1 |     FROM a\n"
        "   2 | >>> LABEL a=b c\n"
        "--------------------\n"
        "error: Syntax error - can't find = in \"c\". Must be of the form: name=value\n");
  CHECK(printed_error("FROM a\nCMD [\"a\", [\"b\"]]\n") ==
        "Dockerfile:2\n"
        "--------------------\n"
        "   1 |     FROM a\n"
        "   2 | >>> CMD [\"a\", [\"b\"]]\n"
        "--------------------\n"
        "error: when using JSON array syntax, arrays must be comprised of strings only\n");
  CHECK(printed_error("# escape=`\n# escape=\\\nFROM a\n") ==
        "Dockerfile:2\n"
        "--------------------\n"
        "   1 |     # escape=`\n"
        "   2 | >>> # escape=\\\n"
        "   3 |     FROM a\n"
        "--------------------\n"
        "error: only one escape parser directive can be used\n");
  CHECK(printed_error("# escape=x\nFROM a\n") ==
        "Dockerfile:1\n"
        "--------------------\n"
        "   1 | >>> # escape=x\n"
        "   2 |     FROM a\n"
        "--------------------\n"
        "error: invalid escape token 'x' does not match ` or \\\n");
  CHECK(printed_error("FROM a\nRUN <<EOF\necho hi\n") ==
        "Dockerfile:2\n"
        "--------------------\n"
        "   1 |     FROM a\n"
        "   2 | >>> RUN <<EOF\n"
        "   3 | >>> echo hi\n"
        "--------------------\n"
        "error: unterminated heredoc\n");
}

TEST_CASE("parser directives: only at the top, case-insensitive, check kept", "[parser]") {
  auto ast = parse_ast(
      "# syntax=docker/dockerfile:1\n# CHECK = skip=all\n#escape=`\nFROM a\nRUN x `\n  y\n",
      "Dockerfile");
  REQUIRE(bool(ast));
  REQUIRE(ast->directives.size() == 3);
  CHECK(ast->directives[0].name == "syntax");
  CHECK(ast->directives[0].value == "docker/dockerfile:1");
  CHECK(ast->directives[1].name == "check");
  CHECK(ast->directives[1].value == "skip=all");
  CHECK(ast->directives[1].line == 2);
  CHECK(ast->escape_token == '`');
  CHECK(kiln::frontend::dump_ast(*ast) == "(from \"a\")\n(run \"x   y\")\n");

  // After a comment or an instruction, directives are plain comments.
  auto late = parse_ast("# hello\n# escape=`\nFROM a\n# syntax=x\n", "Dockerfile");
  REQUIRE(bool(late));
  CHECK(late->directives.empty());
  CHECK(late->escape_token == '\\');
}

TEST_CASE("continuations, comments inside them and empty-line warnings", "[parser]") {
  auto ast = parse_ast("FROM a\nRUN a \\\n# inner comment\n\n    b\nrun c\n", "Dockerfile");
  REQUIRE(bool(ast));
  CHECK(kiln::frontend::dump_ast(*ast) == "(from \"a\")\n(run \"a     b\")\n(run \"c\")\n");
  CHECK(ast->nodes[1].range == kiln::SourceRange{2, 5});
  CHECK(ast->nodes[1].original == "RUN a     b");
  CHECK(ast->nodes[2].range == kiln::SourceRange{6, 6});
  REQUIRE(ast->warnings.size() == 1);
  CHECK(ast->warnings[0].rule == "NoEmptyContinuation");
  CHECK(ast->warnings[0].range == kiln::SourceRange{2, 5});
}

TEST_CASE("comments above an instruction are kept", "[parser]") {
  auto ast = parse_ast("# base image\n#\n# builder stage\nFROM a AS b\n", "Dockerfile");
  REQUIRE(bool(ast));
  CHECK(ast->nodes[0].prev_comment == std::vector<std::string>{"builder stage"});
}

TEST_CASE("heredocs: bodies, quoted delimiters, <<-, several per line, ranges", "[parser]") {
  std::string text =
      "FROM a\n"
      "RUN <<EOF\n"
      "echo $HOME\n"
      "EOF\n"
      "COPY <<'ONE' <<-\"TWO\" /dest/\n"
      "x $y\n"
      "ONE\n"
      "\t\tindented\n"
      "\tTWO\n"
      "RUN 3<<A cat /proc/self/fd/3\n"
      "body\n"
      "A\n"
      "RUN [\"echo\", \"<<EOF\"]\n"
      "ONBUILD RUN <<X\n"
      "later\n"
      "X\n";
  auto ast = parse_ast(text, "Dockerfile");
  REQUIRE(bool(ast));
  REQUIRE(ast->nodes.size() == 6);
  const auto& run = ast->nodes[1];
  CHECK(run.range == kiln::SourceRange{2, 4});
  REQUIRE(run.heredocs.size() == 1);
  CHECK(run.heredocs[0] == kiln::frontend::Heredoc{"EOF", "echo $HOME\n", true, false});
  CHECK(run.args == std::vector<std::string>{"<<EOF"});
  const auto& copy = ast->nodes[2];
  CHECK(copy.range == kiln::SourceRange{5, 9});
  REQUIRE(copy.heredocs.size() == 2);
  CHECK(copy.heredocs[0] == kiln::frontend::Heredoc{"ONE", "x $y\n", false, false});
  // `<<-` keeps the body as written; body() strips the tabs (BuildKit chomps at use).
  CHECK(copy.heredocs[1] == kiln::frontend::Heredoc{"TWO", "\t\tindented\n", false, true});
  CHECK(copy.heredocs[1].body() == "indented\n");
  CHECK(ast->nodes[3].heredocs.size() == 1);
  CHECK(ast->nodes[3].heredocs[0].content == "body\n");
  CHECK(ast->nodes[4].heredocs.empty());
  CHECK(ast->nodes[4].json);
  REQUIRE(ast->nodes[5].heredocs.size() == 1);
  CHECK(ast->nodes[5].heredocs[0].content == "later\n");
  CHECK(kiln::frontend::dump_node(ast->nodes[5]) == "(onbuild (run \"<<X\"))");
}

TEST_CASE("keywords are case-insensitive; BOM and CRLF are handled", "[parser]") {
  auto ast = parse_ast(
      "\xEF\xBB\xBF"
      "from a\r\nCoPy --From=b x y\r\n",
      "Dockerfile");
  REQUIRE(bool(ast));
  CHECK(kiln::frontend::dump_ast(*ast) == "(from \"a\")\n(copy [\"--From=b\"] \"x\" \"y\")\n");
}
