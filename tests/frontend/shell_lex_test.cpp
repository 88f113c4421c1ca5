// ShellLex against BuildKit's envVarTest and wordsTest data, plus the modifiers
// those files do not cover.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "frontend/shell_lex.h"
#include "support/error.h"
#include "tests/testutil/skip.h"

using kiln::frontend::EnvLookup;
using kiln::frontend::ShellLex;

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) {
    return "";
  }
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

EnvLookup map_lookup(const std::map<std::string, std::string>& env) {
  return [&env](llvm::StringRef name) -> std::optional<std::string> {
    auto it = env.find(name.str());
    if (it == env.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

std::string expand(const std::string& word, const std::map<std::string, std::string>& env) {
  ShellLex lex('\\');
  auto result = lex.process_word(word, map_lookup(env));
  if (!result) {
    return "error: " + kiln::error_message(result.takeError());
  }
  return *result;
}

}  // namespace

TEST_CASE("envVarTest: every A and U case", "[shell_lex]") {
  std::map<std::string, std::string> env = {
      {"PWD", "/home"}, {"SHELL", "bash"}, {"KOREAN", "한국어"}, {"NULL", ""}};
  ShellLex lex('\\');
  int checked = 0;
  const std::string data = kiln::testutil::shared_dir() + "/conformance/buildkit/envVarTest";
  KILN_SKIP_UNLESS_PRESENT(data);
  for (const std::string& line : read_lines(data)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    size_t bar1 = line.find('|');
    size_t bar2 = line.find('|', bar1 + 1);
    REQUIRE(bar2 != std::string::npos);
    std::string platform = trim(line.substr(0, bar1));
    if (platform != "A" && platform != "U") {
      continue;
    }
    std::string input = trim(line.substr(bar1 + 1, bar2 - bar1 - 1));
    std::string expected = trim(line.substr(bar2 + 1));
    INFO("input: " << input);
    auto result = lex.process_word(input, map_lookup(env));
    if (expected == "error") {
      CHECK(!result);
      if (!result) {
        llvm::consumeError(result.takeError());
      }
    } else {
      REQUIRE(bool(result));
      CHECK(*result == expected);
    }
    ++checked;
  }
  CHECK(checked == 228);
}

TEST_CASE("wordsTest: every case", "[shell_lex]") {
  std::map<std::string, std::string> env;
  ShellLex lex('\\');
  int checked = 0;
  const std::string data = kiln::testutil::shared_dir() + "/conformance/buildkit/wordsTest";
  KILN_SKIP_UNLESS_PRESENT(data);
  for (const std::string& line : read_lines(data)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if (line.rfind("ENV ", 0) == 0) {
      std::string kv = line.substr(4);
      size_t eq = kv.find('=');
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
      continue;
    }
    size_t bar = line.find('|');
    REQUIRE(bar != std::string::npos);
    // BuildKit trims the input but keeps the expected value's trailing spaces.
    std::string input = trim(line.substr(0, bar));
    std::string expected = line.substr(bar + 1);
    expected = expected.substr(expected.find_first_not_of(' '));
    INFO("input: " << input);
    auto words = lex.process_words(input, map_lookup(env));
    if (expected == "error") {
      CHECK(!words);
      if (!words) {
        llvm::consumeError(words.takeError());
      }
    } else {
      REQUIRE(bool(words));
      std::string joined;
      for (size_t i = 0; i < words->size(); ++i) {
        joined += (i ? "," : "") + (*words)[i];
      }
      CHECK(joined == expected);
    }
    ++checked;
  }
  CHECK(checked == 24);
}

TEST_CASE("pattern modifiers # ## % %% / //", "[shell_lex]") {
  std::map<std::string, std::string> env = {{"v", "abcabc"},
                                            {"path", "/usr/local/bin/tool.tar.gz"}};
  CHECK(expand("${v#a*b}", env) == "cabc");
  CHECK(expand("${v##a*b}", env) == "c");
  CHECK(expand("${v%b*c}", env) == "abca");
  CHECK(expand("${v%%b*c}", env) == "a");
  CHECK(expand("${path##*/}", env) == "tool.tar.gz");
  CHECK(expand("${path%.*}", env) == "/usr/local/bin/tool.tar");
  CHECK(expand("${path%%.*}", env) == "/usr/local/bin/tool");
  CHECK(expand("${v/b/X}", env) == "aXcabc");
  CHECK(expand("${v//b/X}", env) == "aXcaXc");
  CHECK(expand("${v//?c/-}", env) == "a-a-");
  CHECK(expand("${v/x/y}", env) == "abcabc");
  CHECK(expand("${unset#a}", env) == "");
  CHECK(expand("${v#\\q}", env) ==
        "error: failed to process \"${v#\\\\q}\": invalid pattern (\\q) in substitution: "
        "invalid escape '\\q'");
}

TEST_CASE("error messages match BuildKit's", "[shell_lex]") {
  std::map<std::string, std::string> env = {{"E", ""}};
  CHECK(expand("${}", env) == "error: failed to process \"${}\": syntax error: bad substitution");
  CHECK(expand("${a", env) == "error: failed to process \"${a\": syntax error: missing '}'");
  CHECK(expand("'a", env) ==
        "error: failed to process \"'a\": unexpected end of statement while looking for "
        "matching single-quote");
  CHECK(expand("\"a", env) ==
        "error: failed to process \"\\\"a\": unexpected end of statement while looking for "
        "matching double-quote");
  CHECK(expand("${X?}", env) ==
        "error: failed to process \"${X?}\": X: is not allowed to be unset");
  CHECK(expand("${E:?need E}", env) == "error: failed to process \"${E:?need E}\": E: need E");
  CHECK(expand("${X:=1}", env) ==
        "error: failed to process \"${X:=1}\": unsupported modifier (:=) in substitution");
  CHECK(expand("${a/b", env) ==
        "error: failed to process \"${a/b\": syntax error: missing '/' in ${}");
}

TEST_CASE("backtick escape token, raw modes, unset handling and matches", "[shell_lex]") {
  std::map<std::string, std::string> env = {{"A", "1"}};
  ShellLex backtick('`');
  auto r = backtick.process_word("a`$A\\b", map_lookup(env));
  REQUIRE(bool(r));
  CHECK(*r == "a$A\\b");

  ShellLex raw('\\');
  raw.raw_quotes = true;
  raw.raw_escapes = true;
  r = raw.process_word("'x' \"$A\" \\n", map_lookup(env));
  REQUIRE(bool(r));
  CHECK(*r == "'x' \"1\" \\n");

  ShellLex skip('\\');
  skip.skip_unset_env = true;
  r = skip.process_word("$B ${B} ${B:-d} ${B/x/y} $A", map_lookup(env));
  REQUIRE(bool(r));
  CHECK(*r == "$B ${B} ${B:-d} ${B/x/y} 1");

  auto m = ShellLex('\\').process_word_with_matches("$A $B ${C:-x}", map_lookup(env));
  REQUIRE(bool(m));
  CHECK(m->result == "1  x");
  CHECK(m->matched == std::set<std::string>{"A"});
  CHECK(m->unmatched == std::set<std::string>{"B", "C"});
}
