// Hostile Dockerfiles fail with a Dockerfile:N error instead of crashing kiln
// or exhausting its memory: deep `${` nesting, doubling expansions.
#include <string>

#include <catch2/catch.hpp>

#include "frontend/instructions.h"
#include "frontend/lint.h"
#include "frontend/lower.h"
#include "frontend/shell_lex.h"
#include "lower_test_util.h"
#include "support/error.h"

using namespace kiln;
using namespace kiln::frontend;

namespace {

std::string lower_error(const std::string& text) {
  auto result = testing::lower_text(text, {});
  REQUIRE(!result);
  return testing::printed_error(result.takeError());
}

/// `${a:-` nested `depth` times around "x".
std::string nested(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) {
    out += "${a:-";
  }
  return out + "x" + std::string(static_cast<size_t>(depth), '}');
}

}  // namespace

TEST_CASE("deeply nested substitutions fail at their line instead of crashing",
          "[lower][hostile]") {
  ShellLex lex;
  auto fine = lex.process_word(nested(kMaxSubstitutionDepth), nullptr);
  REQUIRE(static_cast<bool>(fine));
  CHECK(*fine == "x");
  auto deep = lex.process_word(nested(kMaxSubstitutionDepth + 1), nullptr);
  REQUIRE(!deep);
  CHECK(error_message(deep.takeError()) ==
        "failed to process \"" + nested(kMaxSubstitutionDepth + 1).substr(0, 256) +
            "\"...: variable substitutions nested more than 100 deep");
  // 7,000 levels: a 42 KB line (the parser scans it for heredocs first).
  std::string line = "ENV B=" + nested(7000);
  std::string err = lower_error("FROM scratch\n" + line + "\n");
  CHECK(err.rfind("Dockerfile:2\n", 0) == 0);
  CHECK(err.size() < 4096);
  CHECK(err.find("error: failed to process \"${a:-${a:-") != std::string::npos);
  std::string end = "\"...: variable substitutions nested more than 100 deep\n";
  REQUIRE(err.size() > end.size());
  CHECK(err.substr(err.size() - end.size()) == end);
}

TEST_CASE("a doubling expansion stops at the size limit with its line", "[lower][hostile]") {
  std::string text = "FROM scratch\nENV A1=x\n";
  for (int i = 2; i <= 40; ++i) {
    text += "ENV A" + std::to_string(i) + "=${A" + std::to_string(i - 1) + "}${A" +
            std::to_string(i - 1) + "}\n";
  }
  // A21 is 1 MiB; A22 would be 2 MiB.
  CHECK(lower_error(text) ==
        "Dockerfile:23\n"
        "--------------------\n"
        "  21 |     ENV A20=${A19}${A19}\n"
        "  22 |     ENV A21=${A20}${A20}\n"
        "  23 | >>> ENV A22=${A21}${A21}\n"
        "  24 |     ENV A23=${A22}${A22}\n"
        "  25 |     ENV A24=${A23}${A23}\n"
        "--------------------\n"
        "error: failed to process \"${A21}${A21}\": expanded value is larger than 1048576 "
        "bytes\n");
}

TEST_CASE("many large expansions stop at the total limit", "[lower][hostile]") {
  std::string text = "FROM scratch\nENV A1=x\n";
  for (int i = 2; i <= 21; ++i) {
    text += "ENV A" + std::to_string(i) + "=${A" + std::to_string(i - 1) + "}${A" +
            std::to_string(i - 1) + "}\n";
  }
  for (int i = 0; i < 100; ++i) {
    text += "ENV B" + std::to_string(i) + "=${A21}\n";
  }
  std::string err = lower_error(text);
  CHECK(err.substr(err.find("error: ")) ==
        "error: expanded values of the Dockerfile are larger than 67108864 bytes in total\n");
}

TEST_CASE("pattern substitutions on a large value stay linear or stop", "[lower][hostile]") {
  std::string big(1 << 20, 'x');
  EnvLookup env = [&](llvm::StringRef name) -> std::optional<std::string> {
    return name == "W" ? std::optional<std::string>(big) : std::nullopt;
  };
  ShellLex lex;
  auto each = lex.process_word("${W//?/y}", env);
  REQUIRE(static_cast<bool>(each));
  CHECK(*each == std::string(1 << 20, 'y'));
  auto suffix = lex.process_word("${W%x}", env);
  REQUIRE(static_cast<bool>(suffix));
  CHECK(suffix->size() == big.size() - 1);
  // Every start scans to the end: quadratic, so it stops at the step limit.
  auto none = lex.process_word("${W//*y/z}", env);
  REQUIRE(!none);
  CHECK(error_message(none.takeError()) ==
        "failed to process \"${W//*y/z}\": pattern matching in substitution takes more than "
        "67108864 steps");
  auto grow = lex.process_word("${W//?/yy}", env);
  REQUIRE(!grow);
  CHECK(error_message(grow.takeError()) ==
        "failed to process \"${W//?/yy}\": expanded value is larger than 1048576 bytes");
}

TEST_CASE("a huge pattern against a large value stops at the step limit", "[lower][hostile]") {
  std::string big(1 << 17, 'x');
  EnvLookup env = [&](llvm::StringRef name) -> std::optional<std::string> {
    return name == "W" ? std::optional<std::string>(big) : std::nullopt;
  };
  ShellLex lex;
  // `*` then 256 KB of literals: every position keeps the star alive.
  auto prefix = lex.process_word("${W#*${W}${W}}", env);
  REQUIRE(!prefix);
  CHECK(error_message(prefix.takeError()) ==
        "failed to process \"${W#*${W}${W}}\": pattern matching in substitution takes more "
        "than 67108864 steps");
  // A pattern longer than the value cannot match: no start is tried.
  for (const char* word : {"${W%${W}${W}}", "${W//${W}${W}/}"}) {
    INFO(word);
    auto out = lex.process_word(word, env);
    REQUIRE(static_cast<bool>(out));
    CHECK(*out == big);
  }
}
