// .dockerignore reading and matching (moby/patternmatcher semantics).
#include <catch2/catch.hpp>

#include <fstream>

#include "frontend/dockerignore.h"
#include "support/error.h"
#include "support/fs.h"

using kiln::frontend::PatternMatcher;
using kiln::frontend::read_dockerignore;

namespace {

PatternMatcher matcher_for(const std::vector<std::string>& patterns) {
  auto m = PatternMatcher::create(patterns);
  if (!m) {
    FAIL(kiln::error_message(m.takeError()));
  }
  return std::move(*m);
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace

TEST_CASE("reading: BOM, comments, blanks, cleaning, leading slash, exceptions", "[dockerignore]") {
  auto patterns = read_dockerignore(
      "\xEF\xBB\xBF# comment\n\n  node_modules  \n/abs/path\n! keep.md\n./a/../b//c/\n"
      " # not a comment\n*.log\r\n");
  CHECK(patterns == std::vector<std::string>{"node_modules", "abs/path", "!keep.md", "b/c",
                                             "# not a comment", "*.log"});
}

TEST_CASE("matching: *, ?, **, classes, escapes, parents", "[dockerignore]") {
  auto m = matcher_for({"*.log", "build", "docs/**/*.png", "?.tmp", "[a-c]x", "lit\\*"});
  CHECK(m.matches("app.log"));
  CHECK(!m.matches("dir/app.log"));  // '*' does not cross '/'
  CHECK(m.matches("build"));
  CHECK(m.matches("build/out/bin"));  // a matched directory excludes what is below
  CHECK(!m.matches("src/build"));
  CHECK(m.matches("docs/a.png"));
  CHECK(m.matches("docs/x/y/a.png"));
  CHECK(!m.matches("docs/a.jpg"));
  CHECK(m.matches("a.tmp"));
  CHECK(!m.matches("ab.tmp"));
  CHECK(m.matches("bx"));
  CHECK(!m.matches("dx"));
  CHECK(m.matches("lit*"));
  CHECK(!m.matches("litx"));
  CHECK(m.matches("./build/x"));

  auto any = matcher_for({"**/*.go"});
  CHECK(any.matches("main.go"));
  CHECK(any.matches("a/b/main.go"));
  CHECK(!any.matches("a/b/main.c"));
  auto prefix = matcher_for({"vendor/**"});
  CHECK(prefix.matches("vendor/x"));
  CHECK(!prefix.matches("vendor"));
}

TEST_CASE("exceptions: last match wins", "[dockerignore]") {
  auto m = matcher_for({"*.md", "!README.md", "docs", "!docs/keep", "README.md"});
  CHECK(m.matches("CHANGES.md"));
  CHECK(m.matches("README.md"));  // excluded again by the last pattern
  CHECK(m.matches("docs/other"));
  CHECK(!m.matches("docs/keep"));
  CHECK(!m.matches("docs/keep/deep/file"));
  CHECK(m.has_exclusions());
  auto everything = matcher_for({"*", "!src"});
  CHECK(everything.matches("Dockerfile"));
  CHECK(!everything.matches("src/main.c"));
}

TEST_CASE("directory decisions for walkers", "[dockerignore]") {
  auto m = matcher_for({"docs", "!docs/keep", "node_modules", "tmp*"});
  auto docs = m.match_dir("docs");
  CHECK(docs.excluded);
  CHECK(docs.must_descend);
  auto other = m.match_dir("docs/other");
  CHECK(other.excluded);
  CHECK(!other.must_descend);
  auto nm = m.match_dir("node_modules");
  CHECK(nm.excluded);
  CHECK(!nm.must_descend);
  auto src = m.match_dir("src");
  CHECK(!src.excluded);
  CHECK(src.must_descend);
  auto star = matcher_for({"*", "!**/*.go"}).match_dir("deep");
  CHECK(star.excluded);
  CHECK(star.must_descend);
}

TEST_CASE("bad patterns fail", "[dockerignore]") {
  auto bang = PatternMatcher::create({"!"});
  REQUIRE(!bang);
  CHECK(kiln::error_message(bang.takeError()) == "illegal exclusion pattern: \"!\"");
  auto klass = PatternMatcher::create({"a[b"});
  REQUIRE(!klass);
  CHECK(kiln::error_message(klass.takeError()) == "syntax error in pattern");
}

TEST_CASE("<Dockerfile>.dockerignore takes precedence over .dockerignore", "[dockerignore]") {
  auto dir = kiln::fs::make_temp_dir("/tmp", "kiln-ignore-");
  REQUIRE(bool(dir));
  write(*dir + "/.dockerignore", "from-context\n");
  auto plain = kiln::frontend::load_dockerignore(*dir, *dir + "/Dockerfile");
  REQUIRE(bool(plain));
  CHECK(*plain == std::vector<std::string>{"from-context"});
  write(*dir + "/app.Dockerfile.dockerignore", "from-dockerfile\n");
  auto specific = kiln::frontend::load_dockerignore(*dir, *dir + "/app.Dockerfile");
  REQUIRE(bool(specific));
  CHECK(*specific == std::vector<std::string>{"from-dockerfile"});
  auto none = kiln::frontend::load_dockerignore(*dir + "/missing", "");
  REQUIRE(bool(none));
  CHECK(none->empty());
  REQUIRE(!kiln::fs::remove_all(*dir));
}

TEST_CASE("the pattern index decides like trying every pattern in order", "[dockerignore]") {
  // Literal, first-component and wildcard-first patterns interleaved with
  // exceptions; each path's answer must be the last single pattern matching it.
  std::vector<std::string> patterns = {"a",      "!a/keep", "a/b/*.txt", "*/b",  "!*/b/x.txt",
                                       "c/**/d", "!c/1/d",  "[ab]*",     "!b/c", "a/b",
                                       "**/z",   "!z/z",    "a\\*",      "d/e/f"};
  std::vector<std::string> paths = {
      "a",     "a/keep", "a/keep/x", "a/b",     "a/b/x.txt", "a/b/y.txt", "q/b/x.txt",
      "q/b/w", "c/1/d",  "c/2/d",    "c/1/2/d", "b",         "b/c",       "b/c/d",
      "z",     "z/z",    "y/z",      "a*",      "d/e/f/g",   "d/e",       "other"};
  auto m = matcher_for(patterns);
  for (const auto& path : paths) {
    bool expected = false;
    for (const auto& p : patterns) {
      bool exclusion = p[0] == '!';
      if (matcher_for({exclusion ? p.substr(1) : p}).matches(path)) {
        expected = !exclusion;
      }
    }
    INFO(path);
    CHECK(m.matches(path) == expected);
  }
}

TEST_CASE("dockerignore_excludes answers for each path, in order", "[dockerignore]") {
  auto dir = kiln::fs::make_temp_dir("/tmp", "kiln-ignore-");
  REQUIRE(bool(dir));
  write(*dir + "/.dockerignore", "*.log\n!keep.log\n");
  auto excluded = kiln::frontend::dockerignore_excludes(*dir, "", {"a.log", "keep.log", "src"});
  REQUIRE(bool(excluded));
  CHECK(*excluded == std::vector<bool>{true, false, false});
  write(*dir + "/Dockerfile.dockerignore", "src\n");
  excluded = kiln::frontend::dockerignore_excludes(*dir, "", {"a.log", "src/x"});
  REQUIRE(bool(excluded));
  CHECK(*excluded == std::vector<bool>{false, true});
  write(*dir + "/.dockerignore", "!\n");
  auto bad = kiln::frontend::dockerignore_excludes(*dir, *dir + "/other", {"x"});
  REQUIRE(!bad);
  CHECK(kiln::error_message(bad.takeError()) ==
        "read .dockerignore: illegal exclusion pattern: \"!\"");
  REQUIRE(!kiln::fs::remove_all(*dir));
}
